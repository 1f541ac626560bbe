"""The app factory, configuration and /healthz."""
import pytest

from app import create_app
from app.config import ProductionConfig


def test_healthz_reports_db_and_queue(client, app):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["db"] == "ok"
    assert body["queue"] == ("inline" if app.config["REDIS_URL"] is None else "ok")


def test_healthz_names_what_is_down(app, db, monkeypatch):
    from redis import Redis

    from app.extensions import jobs

    monkeypatch.setattr(jobs, "redis", Redis.from_url("redis://127.0.0.1:1/0"))
    response = app.test_client().get("/healthz")
    # Still serving (jobs wait in the outbox): degraded, but not out of the load balancer.
    assert response.status_code == 200
    assert response.get_json()["status"] == "degraded"
    assert response.get_json()["down"] == ["queue"]


def test_production_refuses_to_start_without_secret_key(monkeypatch):
    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", None)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(ProductionConfig)


def test_api_errors_are_json(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.get_json() == {"error": {"code": "not_found", "message": "页面不存在"}}


def test_stand_in_banner_is_shown(client):
    page = client.get("/campaigns").get_data(as_text=True)
    assert "微信接口由本地模拟服务提供" in page


def test_production_refuses_real_merchant_without_refund_certificate(monkeypatch):
    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", "set")
    monkeypatch.setattr(ProductionConfig, "DATA_ENCRYPTION_KEY", "set")
    monkeypatch.setattr(ProductionConfig, "WECHAT_MCH_ID", "1230000109")
    monkeypatch.setattr(ProductionConfig, "WECHAT_MCH_CERT", None)
    monkeypatch.setattr(ProductionConfig, "WECHAT_PAY_API", "v2")
    with pytest.raises(RuntimeError, match="WECHAT_MCH_CERT"):
        create_app(ProductionConfig)


def test_production_refuses_a_v3_merchant_without_its_apiv3_keys(monkeypatch):
    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", "set")
    monkeypatch.setattr(ProductionConfig, "DATA_ENCRYPTION_KEY", "set")
    monkeypatch.setattr(ProductionConfig, "WECHAT_MCH_ID", "1230000109")
    monkeypatch.setattr(ProductionConfig, "WECHAT_PAY_API", "v3")
    monkeypatch.setattr(ProductionConfig, "WECHAT_PAY_APIV3_KEY", None)
    with pytest.raises(RuntimeError, match="WECHAT_PAY_APIV3_KEY"):
        create_app(ProductionConfig)
    monkeypatch.setattr(ProductionConfig, "WECHAT_PAY_API", "v4")
    with pytest.raises(RuntimeError, match="WECHAT_PAY_API"):
        create_app(ProductionConfig)
