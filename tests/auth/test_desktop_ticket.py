"""Desktop sign-in: the desktop shows a QR ticket, a phone does WeChat OAuth, the desktop polls."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.auth.models import LoginTicket, User
from app.models_base import utcnow
from tests.auth.wechat_browser import WECHAT_UA, approve_to_callback, path_of


@pytest.fixture()
def desktop(app, db):
    return app.test_client()


@pytest.fixture()
def phone(app, db):
    return app.test_client()


def _show_qr(desktop, next_url: str = "/campaigns/mine") -> str:
    answer = desktop.get("/auth/login", query_string={"next": next_url})
    assert answer.status_code == 200
    with desktop.session_transaction() as session:
        token = session["login_ticket"]
    assert f"/auth/ticket/{token}" in answer.get_data(as_text=True)
    return token


def _status(desktop, token: str):
    return desktop.get(f"/auth/ticket/{token}/status")


def _phone_approves(phone, token: str, nickname: str = "手机用户"):
    page = phone.get(f"/auth/ticket/{token}", headers={"User-Agent": WECHAT_UA})
    assert page.status_code == 200 and "确认登录" in page.get_data(as_text=True)
    confirmed = phone.post(f"/auth/ticket/{token}", headers={"User-Agent": WECHAT_UA})
    assert confirmed.status_code == 302
    callback = approve_to_callback(confirmed.headers["Location"], nickname=nickname)
    return phone.get(path_of(callback), headers={"User-Agent": WECHAT_UA})


def _signed_in_as(client) -> str | None:
    with client.session_transaction() as session:
        return session.get("_user_id")


def test_phone_signs_the_desktop_in_once(desktop, phone, db):
    token = _show_qr(desktop)
    assert _status(desktop, token).get_json() == {"status": "pending"}
    done = _phone_approves(phone, token, nickname="扫码的人")
    assert done.status_code == 200 and "请回到电脑继续" in done.get_data(as_text=True)
    user = db.session.scalar(select(User).where(User.nickname == "扫码的人"))

    answer = _status(desktop, token).get_json()
    assert answer == {"status": "done", "next": "/campaigns/mine"}
    assert _signed_in_as(desktop) == f"user:{user.id}"
    # The ticket is spent: this browser no longer holds it, and a replay cannot reuse it.
    assert _status(desktop, token).status_code == 404
    with desktop.session_transaction() as session:
        session["login_ticket"] = token
    assert _status(desktop, token).get_json() == {"status": "used"}


def test_only_the_browser_that_shows_the_qr_can_claim_it(desktop, phone, app):
    token = _show_qr(desktop)
    _phone_approves(phone, token)
    stranger = app.test_client()
    assert _status(stranger, token).status_code == 404
    assert _signed_in_as(stranger) is None
    assert _status(desktop, token).get_json()["status"] == "done"


def test_expired_ticket_is_refused_on_both_sides(desktop, phone, db):
    token = _show_qr(desktop)
    ticket = db.session.scalar(select(LoginTicket).where(LoginTicket.token == token))
    ticket.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    page = phone.get(f"/auth/ticket/{token}")
    assert page.status_code == 404 and "二维码已失效" in page.get_data(as_text=True)
    assert phone.post(f"/auth/ticket/{token}").status_code == 404
    assert _status(desktop, token).get_json() == {"status": "expired"}


def test_a_ticket_is_approved_only_once(desktop, phone, app, db):
    token = _show_qr(desktop)
    _phone_approves(phone, token, nickname="第一个")
    second_phone = app.test_client()
    assert second_phone.get(f"/auth/ticket/{token}").status_code == 404
    first = db.session.scalar(select(User).where(User.nickname == "第一个"))
    _status(desktop, token)
    assert _signed_in_as(desktop) == f"user:{first.id}"


def test_signed_in_phone_confirms_without_oauth(desktop, app, patient):
    token = _show_qr(desktop)
    phone = app.test_client(user=patient)
    confirmed = phone.post(f"/auth/ticket/{token}")
    assert confirmed.status_code == 200 and "请回到电脑继续" in confirmed.get_data(as_text=True)
    assert _status(desktop, token).get_json()["status"] == "done"
    assert _signed_in_as(desktop) == f"user:{patient.id}"


def test_unknown_ticket(phone):
    assert phone.get("/auth/ticket/nope").status_code == 404
