"""Patients and donors sign in with WeChat OAuth through the stand-in, with real wechatpy."""
from __future__ import annotations

from urllib.parse import unquote

from sqlalchemy import func, select

from app.auth.models import User
from app.wechat_standin.state import TestUser
from tests.auth.wechat_browser import WECHAT_UA, approve_to_callback, path_of, query_of
from tests.factories import UserFactory


def _signed_in_as(client) -> str | None:
    with client.session_transaction() as session:
        return session.get("_user_id")


def _user_count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def test_inside_wechat_login_redirects_to_oauth(client, standin, app):
    answer = client.get("/auth/login?next=/campaigns/7", headers={"User-Agent": WECHAT_UA})
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith(standin.base_url + "connect/oauth2/authorize?")
    query = query_of(location.split("#")[0])
    assert query["appid"] == app.config["WECHAT_APPID"]
    assert query["scope"] == "snsapi_userinfo" and query["response_type"] == "code"
    assert unquote(query["redirect_uri"]) == "http://localhost/auth/wechat/callback"
    with client.session_transaction() as session:
        assert session["oauth_state"] == query["state"]


def test_new_user_signs_in_and_goes_next(client, db, standin, wechat_sign_in):
    answer = wechat_sign_in(client, next_url="/campaigns/7?from=share", nickname="小明妈妈")
    assert answer.status_code == 302 and answer.headers["Location"] == "/campaigns/7?from=share"
    user = db.session.scalar(select(User).where(User.nickname == "小明妈妈"))
    test_user = standin.state.users[user.openid]
    assert user.unionid == test_user.unionid and user.avatar_url == test_user.headimgurl
    assert _signed_in_as(client) == f"user:{user.id}"


def test_returning_user_is_matched_and_updated(client, app, db, standin, wechat_sign_in):
    wechat_sign_in(client, nickname="回头客")
    user = db.session.scalar(select(User).where(User.nickname == "回头客"))
    standin.state.users[user.openid].nickname = "回头客改名了"
    client.post("/auth/logout")
    second = app.test_client()
    wechat_sign_in(second, openid=user.openid)
    db.session.expire_all()
    assert _user_count(db) == 1
    assert db.session.get(User, user.id).nickname == "回头客改名了"
    assert _signed_in_as(second) == f"user:{user.id}"


def test_returning_user_without_unionid_is_matched_by_openid(client, app, db, wechat_sign_in):
    wechat_sign_in(client, nickname="无开放平台", with_unionid=False)
    user = db.session.scalar(select(User).where(User.nickname == "无开放平台"))
    assert user.unionid is None
    wechat_sign_in(app.test_client(), openid=user.openid)
    assert _user_count(db) == 1


def test_unionid_wins_over_a_new_openid(client, db, standin, wechat_sign_in):
    existing = UserFactory(openid="o_from_old_appid", unionid="u_same_person", nickname="老账号")
    standin.state.users["o_new_appid_openid"] = TestUser(
        openid="o_new_appid_openid", nickname="同一个人", unionid="u_same_person")
    wechat_sign_in(client, openid="o_new_appid_openid")
    db.session.expire_all()
    assert _user_count(db) == 1
    assert db.session.get(User, existing.id).openid == "o_new_appid_openid"
    assert _signed_in_as(client) == f"user:{existing.id}"


def test_wrong_state_is_refused(client, db):
    started = client.get("/auth/login", headers={"User-Agent": WECHAT_UA})
    callback = approve_to_callback(started.headers["Location"], nickname="被劫持")
    forged = path_of(callback).replace("state=", "state=x")
    answer = client.get(forged)
    assert answer.status_code == 400 and "登录请求已失效" in answer.get_data(as_text=True)
    assert _user_count(db) == 0 and _signed_in_as(client) is None


def test_callback_without_a_started_login_is_refused(client, db):
    answer = client.get("/auth/wechat/callback?code=abc&state=abc")
    assert answer.status_code == 400 and _user_count(db) == 0


def test_invalid_code_saves_nothing(client, db):
    started = client.get("/auth/login", headers={"User-Agent": WECHAT_UA})
    state = query_of(started.headers["Location"].split("#")[0])["state"]
    answer = client.get(f"/auth/wechat/callback?code=forged&state={state}")
    body = answer.get_data(as_text=True)
    assert answer.status_code == 400 and "微信登录没有成功" in body and "重新登录" in body
    assert _user_count(db) == 0 and _signed_in_as(client) is None


def test_reused_code_is_refused(client, app, db, wechat_sign_in):
    started = client.get("/auth/login", headers={"User-Agent": WECHAT_UA})
    callback = approve_to_callback(started.headers["Location"], nickname="只用一次")
    assert client.get(path_of(callback)).status_code == 302
    thief = app.test_client()
    thief_start = thief.get("/auth/login", headers={"User-Agent": WECHAT_UA})
    thief_state = query_of(thief_start.headers["Location"].split("#")[0])["state"]
    code = query_of(callback)["code"]
    answer = thief.get(f"/auth/wechat/callback?code={code}&state={thief_state}")
    assert answer.status_code == 400 and _signed_in_as(thief) is None


def test_unreachable_wechat_is_a_friendly_error(client, app, db):
    started = client.get("/auth/login", headers={"User-Agent": WECHAT_UA})
    state = query_of(started.headers["Location"].split("#")[0])["state"]
    base = app.config["WECHAT_API_BASE"]
    app.config["WECHAT_API_BASE"] = "http://127.0.0.1:9/"  # discard port: connection refused
    try:
        answer = client.get(f"/auth/wechat/callback?code=any&state={state}")
    finally:
        app.config["WECHAT_API_BASE"] = base
    assert answer.status_code == 400 and "微信登录没有成功" in answer.get_data(as_text=True)
    assert _user_count(db) == 0


def test_next_pointing_elsewhere_is_dropped(client, wechat_sign_in):
    answer = wechat_sign_in(client, next_url="https://evil.example/steal", nickname="谨慎")
    assert answer.headers["Location"] == "/"


def test_signed_in_user_skips_login(patient_client):
    answer = patient_client.get("/auth/login?next=/campaigns/mine")
    assert answer.status_code == 302 and answer.headers["Location"] == "/campaigns/mine"


def test_desktop_login_page_offers_qr_and_same_device_link(client, standin):
    answer = client.get("/auth/login?next=/campaigns/3")
    body = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "<svg" in body and "在本设备上用微信登录" in body and "/auth/ticket/" in body
    link = client.get("/auth/wechat?next=/campaigns/3")
    assert link.headers["Location"].startswith(standin.base_url + "connect/oauth2/authorize?")


def test_no_stale_please_sign_in_message_after_signing_in(client, wechat_sign_in):
    with client.session_transaction() as session:
        session["_flashes"] = [("info", "请先登录")]
    answer = wechat_sign_in(client, nickname="刚登录")
    with client.session_transaction() as session:
        assert "_flashes" not in session
    assert answer.status_code == 302
