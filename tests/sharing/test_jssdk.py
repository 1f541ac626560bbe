"""JS-SDK: the signature, the cached access token and jsapi ticket, the stand-in's wx."""
from __future__ import annotations

import json
import threading
import time

import requests
from flask import current_app

from app.extensions import jobs
from app.wechat import jssdk
from app.wechat.token_cache import DatabaseStorage, token_cache
from app.wechat_standin.jssdk import signature_for

EXAMPLE = {
    "ticket": "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg",
    "noncestr": "Wm3WZYTPz0wzccnW",
    "timestamp": 1414587457,
    "url": "http://mp.weixin.qq.com?params=value",
}
EXAMPLE_SIGNATURE = "0f9de62fce790f9a083d5c99e95740ceb90c27ed"


def test_signature_matches_wechats_documented_example():
    from wechatpy import WeChatClient

    client = WeChatClient("wx-any", "secret")
    assert client.jsapi.get_jsapi_signature(EXAMPLE["noncestr"], EXAMPLE["ticket"],
                                            EXAMPLE["timestamp"], EXAMPLE["url"]) \
        == EXAMPLE_SIGNATURE
    assert jssdk.sign(EXAMPLE["ticket"], EXAMPLE["noncestr"], EXAMPLE["timestamp"],
                      EXAMPLE["url"] + "#fragment-is-not-signed") == EXAMPLE_SIGNATURE
    # The stand-in checks signatures with its own code: it must agree with WeChat too.
    assert signature_for(EXAMPLE["ticket"], EXAMPLE["noncestr"], str(EXAMPLE["timestamp"]),
                         EXAMPLE["url"]) == EXAMPLE_SIGNATURE


def test_config_is_signed_with_a_ticket_the_standin_issued(db, standin):
    url = current_app.config["PUBLIC_BASE_URL"] + "/c/1?from=singlemessage"
    config = jssdk.config_for(url)
    assert config["appId"] == current_app.config["WECHAT_APPID"]
    assert config["jsApiList"] == ["updateAppMessageShareData", "updateTimelineShareData"]
    ticket = token_cache().jsapi_ticket()
    assert ticket in standin.state.jsapi_tickets
    assert config["signature"] == signature_for(ticket, config["nonceStr"],
                                                str(config["timestamp"]), url)
    answer = requests.post(standin.base_url + "standin/jssdk/verify", data=json.dumps(
        dict(config, url=url + "#share")), timeout=5).json()
    assert answer == {"errMsg": "config:ok"}


def test_token_and_ticket_are_fetched_once_and_reused(db, standin):
    tokens, tickets = len(standin.state.access_tokens), len(standin.state.jsapi_tickets)
    first = token_cache().jsapi_ticket()
    for _ in range(5):
        assert token_cache().jsapi_ticket() == first
        jssdk.config_for("http://127.0.0.1/c/1")
    assert len(standin.state.access_tokens) == tokens + 1
    assert len(standin.state.jsapi_tickets) == tickets + 1


def test_ticket_is_refreshed_before_it_expires(db, standin):
    cache = token_cache()
    first = cache.jsapi_ticket()
    storage = cache.storage()
    # Five minutes left: inside the refresh margin, though WeChat would still accept it.
    storage.set(f"{cache.ticket_key}_expires_at", int(time.time()) + 300, 7200)
    second = cache.jsapi_ticket()
    assert second != first and second in standin.state.jsapi_tickets
    assert cache.jsapi_ticket() == second
    assert cache.refresh_due() == []


def test_one_refresh_at_a_time_across_concurrent_callers(app, db, standin):
    tokens, tickets = len(standin.state.access_tokens), len(standin.state.jsapi_tickets)
    barrier = threading.Barrier(6)
    seen, errors = [], []

    def worker():
        with app.app_context():
            barrier.wait()
            try:
                seen.append(token_cache().jsapi_ticket())
            except Exception as error:  # noqa: BLE001 - reported by the assertion below
                errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert len(set(seen)) == 1 and len(seen) == 6
    assert len(standin.state.access_tokens) == tokens + 1
    assert len(standin.state.jsapi_tickets) == tickets + 1


def test_cached_where_the_configuration_says(db):
    cache = token_cache()
    cache.jsapi_ticket()
    if jobs.redis is not None:
        ttl = jobs.redis.ttl(f"wechatpy:{cache.ticket_key}")
        assert 7000 < ttl <= 7200          # Redis: stored with its TTL
        assert jobs.redis.ttl(f"wechatpy:{cache.token_key}") > 7000
    else:
        assert DatabaseStorage().get(cache.ticket_key)


def test_database_storage_honours_ttl(db):
    storage = DatabaseStorage(prefix="test")
    storage.set("k", {"v": 1}, ttl=3600)
    storage.set("forever", "x")
    assert storage.get("k") == {"v": 1} and storage.get("forever") == "x"
    storage.set("k", "short", ttl=1)
    time.sleep(1.1)
    assert storage.get("k") is None and storage.get("k", "dflt") == "dflt"
    storage.delete("forever")
    assert storage.get("forever") is None


def test_no_ticket_means_no_card_not_an_error(db, app, monkeypatch):
    def unreachable(*args, **kwargs):
        raise requests.ConnectionError("WeChat is down")

    monkeypatch.setattr(requests.Session, "request", unreachable)
    monkeypatch.setattr(requests.Session, "get", unreachable)
    assert jssdk.config_for("http://127.0.0.1/c/1") is None


def test_standin_refuses_bad_signatures_and_foreign_links(db, standin):
    url = "http://127.0.0.1:9/c/7"
    config = jssdk.config_for(url)
    bad = dict(config, url=url, signature="0" * 40)
    post = lambda path, body: requests.post(standin.base_url + path, data=json.dumps(body),  # noqa: E731
                                            timeout=5).json()
    assert post("standin/jssdk/verify", bad) == {"errMsg": "config:invalid signature"}
    card = dict(config, url=url, api="updateAppMessageShareData", title="救救孩子", desc="d",
                imgUrl="http://127.0.0.1:9/x.jpg")
    assert post("standin/jssdk/share", dict(card, link="http://evil.example/s/x"))["errMsg"] \
        .startswith("updateAppMessageShareData:fail")
    assert post("standin/jssdk/share", dict(card, link="http://127.0.0.1:9/s/abc/f")) \
        == {"errMsg": "updateAppMessageShareData:ok"}
    recorded = requests.get(standin.base_url + "standin/jssdk/shares",
                            params={"link": "/s/abc/f"}, timeout=5).json()["shares"]
    assert recorded[-1]["title"] == "救救孩子" and recorded[-1]["url"] == url


def test_script_comes_from_the_configured_wechat(app, standin):
    with app.test_request_context():
        assert jssdk.script_url() == standin.base_url + "open/js/jweixin-1.6.0.js"
    script = requests.get(jssdk.WECHAT_JSSDK_URL.replace("https://res.wx.qq.com/",
                                                         standin.base_url), timeout=5)
    assert script.status_code == 200 and "updateTimelineShareData" in script.text
    assert script.headers["Content-Type"].startswith("application/javascript")


def test_periodic_refresh_job_refreshes_due_values(db, standin):
    from app.wechat.token_cache import refresh_wechat_tokens

    cache = token_cache()
    assert set(refresh_wechat_tokens()) == {cache.token_key, cache.ticket_key}
    assert refresh_wechat_tokens() == []
