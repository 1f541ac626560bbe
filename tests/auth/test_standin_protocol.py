"""The stand-in speaks WeChat's OAuth, token and ticket protocol to the real wechatpy."""
from __future__ import annotations

import pytest
import requests
from wechatpy.exceptions import WeChatClientException, WeChatOAuthException

from app.wechat.clients import api_client, oauth_client
from tests.auth.conftest import standin_clock_ahead
from tests.auth.wechat_browser import approve, approve_to_callback, open_authorize_page, query_of

REDIRECT = "http://127.0.0.1:9/auth/wechat/callback?keep=1"


@pytest.fixture()
def ctx(app):
    with app.app_context():
        yield app


def _code(ctx, scope: str = "snsapi_userinfo", **choice) -> str:
    url = oauth_client(REDIRECT, scope, "abc123").authorize_url
    choice.setdefault("nickname", "协议测试")
    callback = approve_to_callback(url, **choice)
    query = query_of(callback)
    assert callback.startswith("http://127.0.0.1:9/auth/wechat/callback?")
    assert query["state"] == "abc123" and query["keep"] == "1"
    return query["code"]


def test_code_exchange_and_userinfo(ctx, standin):
    code = _code(ctx, nickname="张阿姨")
    client = oauth_client(REDIRECT)
    token = client.fetch_access_token(code)
    assert token["scope"] == "snsapi_userinfo" and token["expires_in"] == 7200
    user = standin.state.users[token["openid"]]
    assert token["unionid"] == user.unionid
    info = client.get_user_info()
    assert info["nickname"] == "张阿姨" and info["openid"] == token["openid"]
    assert info["headimgurl"].endswith(".svg") and info["unionid"] == user.unionid
    assert client.check_access_token() is True


def test_codes_are_single_use(ctx):
    code = _code(ctx)
    oauth_client(REDIRECT).fetch_access_token(code)
    with pytest.raises(WeChatOAuthException) as reused:
        oauth_client(REDIRECT).fetch_access_token(code)
    assert reused.value.errcode == 40163


def test_unknown_and_expired_codes_are_invalid(ctx, standin):
    with pytest.raises(WeChatOAuthException) as unknown:
        oauth_client(REDIRECT).fetch_access_token("not-a-code")
    assert unknown.value.errcode == 40029
    code = _code(ctx)
    with standin_clock_ahead(standin.state, 301), pytest.raises(WeChatOAuthException) as late:
        oauth_client(REDIRECT).fetch_access_token(code)
    assert late.value.errcode == 40029


def test_bad_secret_is_refused(ctx):
    code = _code(ctx)
    client = oauth_client(REDIRECT)
    client.secret = "wrong"
    with pytest.raises(WeChatOAuthException) as refused:
        client.fetch_access_token(code)
    assert refused.value.errcode == 40125
    # The refused attempt did not use the code up.
    assert oauth_client(REDIRECT).fetch_access_token(code)["openid"]


def _silent(url: str, phone: requests.Session) -> requests.Response:
    """snsapi_base as WeChat's browser does it: no page, straight back with a code."""
    return phone.get(url, allow_redirects=False, timeout=5)


def test_base_scope_is_silent_and_gets_no_userinfo(ctx, standin):
    phone = requests.Session()
    answer = _silent(oauth_client(REDIRECT, "snsapi_base", "b1").authorize_url, phone)
    assert answer.status_code == 302 and "<form" not in answer.text
    query = query_of(answer.headers["Location"])
    assert answer.headers["Location"].startswith("http://127.0.0.1:9/auth/wechat/callback?")
    assert query["state"] == "b1" and query["keep"] == "1"
    client = oauth_client(REDIRECT, "snsapi_base")
    token = client.fetch_access_token(query["code"])
    assert token["scope"] == "snsapi_base" and token["openid"] in standin.state.users
    with pytest.raises(WeChatOAuthException) as refused:
        client.get_user_info()
    assert refused.value.errcode == 48001


def test_the_same_phone_is_the_same_wechat_user(ctx, standin):
    phone, other_phone = requests.Session(), requests.Session()
    url = oauth_client(REDIRECT, "snsapi_base", "b2").authorize_url

    def openid_of(session) -> str:
        code = query_of(_silent(url, session).headers["Location"])["code"]
        return oauth_client(REDIRECT, "snsapi_base").fetch_access_token(code)["openid"]

    first = openid_of(phone)
    assert openid_of(phone) == first
    assert openid_of(other_phone) != first
    # snsapi_userinfo shows the consent page, this phone's user chosen; allowing gives its profile.
    consent, form = open_authorize_page(oauth_client(REDIRECT, "snsapi_userinfo", "u1")
                                        .authorize_url, phone)
    assert consent.status_code == 200 and "允许" in consent.text
    assert f'value="{first}" checked' in consent.text
    allowed = phone.post(requests.compat.urljoin(consent.url, form.action),
                         data=dict(form.hidden, action="allow", openid=first),
                         allow_redirects=False, timeout=5)
    client = oauth_client(REDIRECT)
    token = client.fetch_access_token(query_of(allowed.headers["Location"])["code"])
    assert token["openid"] == first and token["scope"] == "snsapi_userinfo"
    assert client.get_user_info()["nickname"] == standin.state.users[first].nickname


def test_refresh_token_and_sns_auth(ctx):
    client = oauth_client(REDIRECT)
    first = client.fetch_access_token(_code(ctx))
    refreshed = client.refresh_access_token(first["refresh_token"])
    assert refreshed["access_token"] != first["access_token"]
    assert refreshed["openid"] == first["openid"]
    assert client.get_user_info()["openid"] == first["openid"]
    with pytest.raises(WeChatOAuthException) as wrong_openid:
        client.check_access_token(openid="o_someone_else")
    assert wrong_openid.value.errcode == 40003
    with pytest.raises(WeChatOAuthException) as bad_refresh:
        client.refresh_access_token("nope")
    assert bad_refresh.value.errcode == 40030


def test_user_tokens_expire(ctx, standin):
    client = oauth_client(REDIRECT)
    client.fetch_access_token(_code(ctx))
    with standin_clock_ahead(standin.state, 7201), pytest.raises(WeChatOAuthException) as late:
        client.get_user_info()
    assert late.value.errcode == 42001


def test_access_token_and_jsapi_ticket(ctx, standin):
    client = api_client()
    answer = client.jsapi.get_ticket()
    assert answer["errcode"] == 0 and answer["errmsg"] == "ok"
    assert answer["expires_in"] == 7200
    assert answer["ticket"] in standin.state.jsapi_tickets
    assert client.access_token in standin.state.access_tokens


def test_ticket_with_bad_token(standin):
    answer = requests.get(standin.base_url + "cgi-bin/ticket/getticket",
                          params={"access_token": "forged", "type": "jsapi"}, timeout=5).json()
    assert answer["errcode"] == 40001


def test_cgi_token_bad_secret(ctx):
    client = api_client()
    client.secret = "wrong"
    with pytest.raises(WeChatClientException) as refused:
        client.fetch_access_token()
    assert refused.value.errcode == 40125


def test_authorize_page_checks_appid_and_scope(ctx, standin):
    url = oauth_client(REDIRECT, "snsapi_userinfo", "s1").authorize_url
    page, form = open_authorize_page(url)
    assert page.status_code == 200 and "申请使用" in page.text and "微信模拟服务" in page.text
    assert form.hidden["appid"] == ctx.config["WECHAT_APPID"] and "new" in form.choices
    wrong_appid = requests.get(url.replace(ctx.config["WECHAT_APPID"], "wx_unknown"), timeout=5)
    assert wrong_appid.status_code == 400 and "appid 参数错误" in wrong_appid.text
    bad_scope = requests.get(url.replace("snsapi_userinfo", "snsapi_everything"), timeout=5)
    assert bad_scope.status_code == 400 and "scope" in bad_scope.text


def test_authorize_needs_a_user_and_deny_sends_no_code(ctx, standin):
    url = oauth_client(REDIRECT, "snsapi_userinfo", "s2").authorize_url
    codes_before = len(standin.state.oauth_codes)
    empty = approve(url, nickname="")
    assert empty.status_code == 400 and "请选择一个测试用户" in empty.text
    denied = approve(url, nickname="不同意的人", action="deny")
    assert denied.status_code == 200 and "你已拒绝授权" in denied.text
    assert len(standin.state.oauth_codes) == codes_before


def test_existing_test_user_can_be_picked(ctx, standin):
    first = oauth_client(REDIRECT).fetch_access_token(_code(ctx, nickname="老用户"))
    again = oauth_client(REDIRECT).fetch_access_token(_code(ctx, openid=first["openid"]))
    assert again["openid"] == first["openid"]


def test_avatar_is_served(ctx, standin):
    client = oauth_client(REDIRECT)
    client.fetch_access_token(_code(ctx, nickname="<b>头像</b>"))
    avatar = requests.get(client.get_user_info()["headimgurl"], timeout=5)
    assert avatar.status_code == 200 and avatar.headers["Content-Type"].startswith("image/svg")
    assert "<b>" not in avatar.text
