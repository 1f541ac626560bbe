"""Stand-in for WeChat web OAuth, the access token and the JS-SDK ticket.

Same paths, parameters, JSON and error codes as WeChat:
  GET/POST connect/oauth2/authorize   snsapi_base: no page, straight back with a code (as WeChat
                                      does) for this browser's WeChat user — a new test user the
                                      first time; snsapi_userinfo: the consent page (that user
                                      chosen, or the tester picks or types another)
  GET sns/oauth2/access_token         code → user access token (codes single-use, 5 minutes)
  GET sns/oauth2/refresh_token        refresh a user access token
  GET sns/userinfo                    profile, only for snsapi_userinfo tokens (else 48001)
  GET sns/auth                        is this user access token valid for this openid
  GET cgi-bin/token                   the app's access token (client_credential)
  GET cgi-bin/ticket/getticket        the JS-SDK jsapi ticket
"""
from __future__ import annotations

import hashlib
import json
import secrets
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Blueprint, Response, current_app, render_template, request, url_for

from app.wechat_standin.state import StandinState, TestUser

bp = Blueprint("standin_oauth", __name__)

CODE_TTL = 300
# Which test user "is signed in to WeChat" in this browser: WeChat's browser always knows its
# user, so snsapi_base can answer without a page. A cookie of the stand-in's own.
PHONE_USER_COOKIE = "wx_standin_openid"
TOKEN_TTL = 7200
REFRESH_TTL = 30 * 24 * 3600
SCOPES = ("snsapi_base", "snsapi_userinfo")

ERRORS = {
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40013: "invalid appid",
    40029: "invalid code",
    40030: "invalid refresh_token",
    40097: "invalid args",
    40125: "invalid appsecret",
    40163: "code been used",
    41001: "access_token missing",
    41008: "missing code",
    42001: "access_token expired",
    42002: "refresh_token expired",
    48001: "api unauthorized",
}


def _state() -> StandinState:
    return current_app.extensions["standin_state"]


def _json(payload: dict) -> Response:
    return Response(json.dumps(payload, ensure_ascii=False), mimetype="application/json")


def _error(errcode: int) -> Response:
    rid = secrets.token_hex(4)
    return _json({"errcode": errcode, "errmsg": f"{ERRORS[errcode]} rid: {rid}"})


def _new_token() -> str:
    return secrets.token_urlsafe(48)


def _new_openid() -> str:
    # Real openids are 28 characters starting with "o"; nothing should rely on more.
    return "o" + secrets.token_urlsafe(20)[:27]


# ---------------------------------------------------------------- authorize page

def _authorize_params() -> dict[str, str]:
    source = request.form if request.method == "POST" else request.args
    return {key: source.get(key, "") for key in
            ("appid", "redirect_uri", "response_type", "scope", "state")}


def _authorize_problem(params: dict[str, str]) -> str | None:
    if params["appid"] != current_app.config["APPID"]:
        return "appid 参数错误"
    if params["response_type"] != "code":
        return "response_type 参数错误"
    if params["scope"] not in SCOPES:
        return "scope 参数错误或没有 scope 权限"
    parts = urlsplit(params["redirect_uri"])
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return "redirect_uri 参数错误"
    if len(params["state"]) > 128:
        return "state 参数过长"
    return None


def _render_authorize(params: dict[str, str], error: str | None = None, status: int = 200):
    with _state().lock:
        users = sorted(_state().users.values(), key=lambda u: u.nickname)
    return render_template("standin/authorize.html", params=params, users=users, error=error,
                           current=_phone_user(),
                           app_host=urlsplit(params["redirect_uri"]).netloc), status


def _phone_user() -> TestUser | None:
    """The test user this browser is signed in to WeChat as, if any yet."""
    with _state().lock:
        return _state().users.get(request.cookies.get(PHONE_USER_COOKIE, ""))


def _new_test_user(nickname: str, with_unionid: bool) -> TestUser:
    openid = _new_openid()
    user = TestUser(
        openid=openid, nickname=nickname,
        headimgurl=url_for("standin_oauth.avatar", openid=openid, _external=True),
        unionid=("u" + secrets.token_urlsafe(20)[:27]) if with_unionid else None,
    )
    with _state().lock:
        _state().users[openid] = user
    return user


def _grant(user: TestUser, params: dict[str, str]) -> Response:
    """Back to the page with a fresh code; this browser is now signed in to WeChat as `user`."""
    code = secrets.token_hex(16)
    state = _state()
    with state.lock:
        state.oauth_codes[code] = {"openid": user.openid, "scope": params["scope"],
                                   "appid": params["appid"],
                                   "expires_at": state.clock() + CODE_TTL}
    response = Response(status=302, headers={"Location": _with_query(
        params["redirect_uri"], code=code, state=params["state"])})
    response.set_cookie(PHONE_USER_COOKIE, user.openid, max_age=30 * 24 * 3600,
                        httponly=True, samesite="Lax")
    return response


@bp.get("/connect/oauth2/authorize")
def authorize():
    params = _authorize_params()
    problem = _authorize_problem(params)
    if problem:
        return render_template("standin/error.html", message=problem), 400
    if params["scope"] == "snsapi_base":
        # WeChat shows nothing for snsapi_base: the user is whoever is signed in to WeChat.
        user = _phone_user()
        if user is None:
            with _state().lock:
                number = len(_state().users) + 1
            user = _new_test_user(f"模拟微信用户{number}", with_unionid=True)
        return _grant(user, params)
    return _render_authorize(params)


@bp.post("/connect/oauth2/authorize")
def approve():
    params = _authorize_params()
    problem = _authorize_problem(params)
    if problem:
        return render_template("standin/error.html", message=problem), 400
    if request.form.get("action") == "deny":
        return render_template("standin/denied.html", app_host=urlsplit(
            params["redirect_uri"]).netloc)
    user = _chosen_user()
    if user is None:
        return _render_authorize(params, "请选择一个测试用户，或输入昵称新建一个", 400)
    return _grant(user, params)


def _chosen_user() -> TestUser | None:
    choice = request.form.get("openid", "new")
    if choice != "new":
        with _state().lock:
            return _state().users.get(choice)
    nickname = request.form.get("nickname", "").strip()[:32]
    if not nickname:
        return None
    return _new_test_user(nickname, with_unionid=bool(request.form.get("unionid")))


def _with_query(url: str, **extra: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if k not in extra]
    query.extend(extra.items())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


@bp.get("/standin/avatar/<openid>.svg")
def avatar(openid: str):
    with _state().lock:
        user = _state().users.get(openid)
    letter = user.nickname[:1] if user else "?"
    hue = int(hashlib.md5(openid.encode()).hexdigest()[:2], 16) * 360 // 256
    svg = render_template("standin/avatar.svg", letter=letter, hue=hue)
    return Response(svg, mimetype="image/svg+xml")


# ---------------------------------------------------------------- sns API

def _check_app(require_secret: bool = True) -> Response | None:
    if request.args.get("appid") != current_app.config["APPID"]:
        return _error(40013)
    if require_secret and request.args.get("secret") != current_app.config["SECRET"]:
        return _error(40125)
    return None


def _issue_user_token(openid: str, scope: str, refresh_token: str | None = None) -> dict:
    state = _state()
    now = state.clock()
    token = _new_token()
    refresh_token = refresh_token or _new_token()
    state.user_tokens[token] = {"openid": openid, "scope": scope, "expires_at": now + TOKEN_TTL}
    state.refresh_tokens.setdefault(refresh_token, {"openid": openid, "scope": scope,
                                                    "expires_at": now + REFRESH_TTL})
    payload = {"access_token": token, "expires_in": TOKEN_TTL, "refresh_token": refresh_token,
               "openid": openid, "scope": scope, "is_snapshotuser": 0}
    user = state.users.get(openid)
    if user is not None and user.unionid:
        payload["unionid"] = user.unionid
    return payload


@bp.get("/sns/oauth2/access_token")
def sns_access_token():
    problem = _check_app()
    if problem:
        return problem
    if request.args.get("grant_type") != "authorization_code":
        return _error(40002)
    code = request.args.get("code", "")
    if not code:
        return _error(41008)
    state = _state()
    with state.lock:
        if code in state.used_oauth_codes:
            return _error(40163)
        grant = state.oauth_codes.pop(code, None)
        if grant is None or grant["expires_at"] < state.clock():
            return _error(40029)
        state.used_oauth_codes.add(code)
        return _json(_issue_user_token(grant["openid"], grant["scope"]))


@bp.get("/sns/oauth2/refresh_token")
def sns_refresh_token():
    problem = _check_app(require_secret=False)
    if problem:
        return problem
    if request.args.get("grant_type") != "refresh_token":
        return _error(40002)
    state = _state()
    refresh_token = request.args.get("refresh_token", "")
    with state.lock:
        grant = state.refresh_tokens.get(refresh_token)
        if grant is None:
            return _error(40030)
        if grant["expires_at"] < state.clock():
            return _error(42002)
        return _json(_issue_user_token(grant["openid"], grant["scope"], refresh_token))


def _user_token_problem() -> Response | None:
    token = request.args.get("access_token", "")
    if not token:
        return _error(41001)
    state = _state()
    grant = state.user_tokens.get(token)
    if grant is None:
        return _error(40001)
    if grant["expires_at"] < state.clock():
        return _error(42001)
    if grant["openid"] != request.args.get("openid"):
        return _error(40003)
    return None


@bp.get("/sns/userinfo")
def sns_userinfo():
    state = _state()
    with state.lock:
        problem = _user_token_problem()
        if problem:
            return problem
        grant = state.user_tokens[request.args["access_token"]]
        if grant["scope"] != "snsapi_userinfo":
            return _error(48001)
        user = state.users[grant["openid"]]
    payload = {"openid": user.openid, "nickname": user.nickname, "sex": 0, "province": "",
               "city": "", "country": "", "headimgurl": user.headimgurl, "privilege": []}
    if user.unionid:
        payload["unionid"] = user.unionid
    return _json(payload)


@bp.get("/sns/auth")
def sns_auth():
    with _state().lock:
        problem = _user_token_problem()
    return problem or _json({"errcode": 0, "errmsg": "ok"})


# ---------------------------------------------------------------- cgi-bin

@bp.get("/cgi-bin/token")
def cgi_token():
    if request.args.get("grant_type") != "client_credential":
        return _error(40002)
    problem = _check_app()
    if problem:
        return problem
    state = _state()
    token = _new_token()
    with state.lock:
        state.access_tokens[token] = state.clock() + TOKEN_TTL
    return _json({"access_token": token, "expires_in": TOKEN_TTL})


@bp.get("/cgi-bin/ticket/getticket")
def cgi_getticket():
    state = _state()
    token = request.args.get("access_token", "")
    if not token:
        return _error(41001)
    with state.lock:
        expires_at = state.access_tokens.get(token)
        if expires_at is None:
            return _error(40001)
        if expires_at < state.clock():
            return _error(42001)
        if request.args.get("type", "jsapi") not in ("jsapi", "wx_card"):
            return _error(40097)
        ticket = secrets.token_urlsafe(64)
        state.jsapi_tickets[ticket] = state.clock() + TOKEN_TTL
    return _json({"errcode": 0, "errmsg": "ok", "ticket": ticket, "expires_in": TOKEN_TTL})
