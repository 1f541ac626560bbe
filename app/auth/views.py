"""Sign-in pages: WeChat OAuth (in WeChat, same browser, or desktop QR ticket), staff, logout."""
from __future__ import annotations

import hmac
import logging
import secrets

import qrcode
from flask import (Blueprint, current_app, flash, jsonify, redirect, render_template, request,
                   session, url_for)
from flask_login import current_user, login_user, logout_user
from markupsafe import Markup
from qrcode.image.svg import SvgPathImage

from app.auth import services
from app.auth.forms import ConfirmForm, StaffLoginForm
from app.auth.redirects import safe_next
from app.extensions import limiter
from app.wechat.clients import oauth_client

log = logging.getLogger(__name__)

bp = Blueprint("auth", __name__)

# Session keys.
OAUTH_STATE = "oauth_state"
LOGIN_NEXT = "login_next"
DESKTOP_TICKET = "login_ticket"      # the ticket this desktop browser shows and polls
APPROVING_TICKET = "approve_ticket"  # the ticket this phone approves once signed in
SILENT_SCOPE = "snsapi_base"
PROFILE_SCOPE = "snsapi_userinfo"


def _next_url() -> str:
    return safe_next(request.args.get("next"), url_for("core.index"))


def _is_wechat_browser() -> bool:
    return "MicroMessenger" in request.headers.get("User-Agent", "")


def _requested_scope() -> str:
    """snsapi_base (silent: no consent page, the openid only) when asked for with scope=base,
    as the donate panel does; snsapi_userinfo (WeChat's consent page) otherwise."""
    return SILENT_SCOPE if request.args.get("scope") == "base" else PROFILE_SCOPE


def _redirect_to_wechat(next_url: str | None, scope: str = "snsapi_userinfo"):
    state = secrets.token_hex(16)  # WeChat allows only [a-zA-Z0-9] in state
    session[OAUTH_STATE] = state
    if next_url is not None:
        session[LOGIN_NEXT] = next_url
    client = oauth_client(url_for("auth.oauth_callback", _external=True), scope, state)
    return redirect(client.authorize_url)


def _sign_in(principal, remember: bool) -> None:
    # A "please sign in" flash made before the OAuth round trip would greet them afterwards.
    session.pop("_flashes", None)
    login_user(principal, remember=remember)


def _qr_svg(data: str) -> Markup:
    image = qrcode.make(data, image_factory=SvgPathImage, border=2)
    return Markup(image.to_string(encoding="unicode"))


@bp.get("/login")
def login():
    next_url = _next_url()
    if current_user.is_authenticated and not current_user.is_staff:
        # Signed in silently and now choosing to show their name: WeChat's consent page.
        upgrade = (request.args.get("scope") == "userinfo" and not current_user.has_profile
                   and _is_wechat_browser())
        if not upgrade:
            return redirect(next_url)
    if _is_wechat_browser():
        return _redirect_to_wechat(next_url, _requested_scope())
    ticket = services.create_login_ticket()
    session[DESKTOP_TICKET] = ticket.token
    session[LOGIN_NEXT] = next_url
    ticket_url = (current_app.config["PUBLIC_BASE_URL"].rstrip("/")
                  + url_for("auth.ticket", token=ticket.token))
    return render_template(
        "auth/login.html", qr_svg=_qr_svg(ticket_url), ticket_url=ticket_url,
        status_url=url_for("auth.ticket_status", token=ticket.token),
        wechat_url=url_for("auth.wechat_start", next=next_url,
                           scope=request.args.get("scope") or None),
        ttl_seconds=int(services.TICKET_TTL.total_seconds()))


@bp.get("/wechat")
def wechat_start():
    return _redirect_to_wechat(_next_url(), _requested_scope())


@bp.get("/wechat/callback")
def oauth_callback():
    expected = session.pop(OAUTH_STATE, None)
    state = request.args.get("state", "")
    if not expected or not hmac.compare_digest(expected, state):
        return _oauth_error("登录请求已失效，请重新登录。")
    code = request.args.get("code", "")
    if not code:
        return _oauth_error("你没有同意微信授权，未能登录。")
    try:
        user = services.sign_in_with_wechat(
            code, url_for("auth.oauth_callback", _external=True))
    except services.WeChatSignInError as error:
        log.warning("WeChat sign-in failed: %s", error)
        return _oauth_error("微信登录没有成功，请稍后重试。")
    _sign_in(user, remember=True)
    approving = session.pop(APPROVING_TICKET, None)
    if approving:
        return _ticket_done(services.approve_ticket(approving, user))
    return redirect(safe_next(session.pop(LOGIN_NEXT, None), url_for("core.index")))


def _oauth_error(message: str):
    retry_url = url_for("auth.login", next=session.get(LOGIN_NEXT) or None)
    return render_template("auth/oauth_error.html", message=message, retry_url=retry_url), 400


# ---------------------------------------------------------------- desktop tickets

@bp.get("/ticket/<token>")
def ticket(token: str):
    if services.open_ticket(token) is None:
        return render_template("auth/ticket_invalid.html"), 404
    return render_template("auth/ticket_confirm.html", form=ConfirmForm(), token=token)


@bp.post("/ticket/<token>")
def ticket_confirm(token: str):
    if not ConfirmForm().validate_on_submit() or services.open_ticket(token) is None:
        return render_template("auth/ticket_invalid.html"), 404
    if current_user.is_authenticated and not current_user.is_staff:
        return _ticket_done(services.approve_ticket(token, current_user))
    session[APPROVING_TICKET] = token
    return _redirect_to_wechat(None)


def _ticket_done(approved: bool):
    if not approved:
        return render_template("auth/ticket_invalid.html"), 404
    return render_template("auth/ticket_done.html")


@bp.get("/ticket/<token>/status")
def ticket_status(token: str):
    # Only the browser that showed this QR code may be signed in by it.
    owned = session.get(DESKTOP_TICKET)
    if not owned or not hmac.compare_digest(owned, token):
        return jsonify(error={"code": "not_found", "message": "二维码不存在"}), 404
    result = services.claim_ticket(token)
    if result.status != "done" or result.user is None:
        return jsonify(status=result.status)
    session.pop(DESKTOP_TICKET, None)
    _sign_in(result.user, remember=True)
    return jsonify(status="done",
                   next=safe_next(session.pop(LOGIN_NEXT, None), url_for("core.index")))


# ---------------------------------------------------------------- staff and logout

def _staff_login_limit() -> str:
    return current_app.config.get("STAFF_LOGIN_RATE_LIMIT", "10 per minute")


@bp.route("/staff/login", methods=["GET", "POST"])
@limiter.limit(_staff_login_limit, methods=["POST"])
def staff_login():
    form = StaffLoginForm()
    error = None
    if form.validate_on_submit():
        try:
            staff = services.authenticate_staff(form.username.data, form.password.data)
        except services.StaffLoginError as failure:
            error = failure.message
        else:
            session.pop(APPROVING_TICKET, None)
            _sign_in(staff, remember=False)
            return redirect(safe_next(request.args.get("next"), url_for("staff.index")))
    return render_template("auth/staff_login.html", form=form, error=error)


@bp.post("/logout")
def logout():
    session.clear()
    logout_user()  # after clear(): it leaves the flag that deletes the remember-me cookie
    flash("已退出登录", "info")
    return redirect(url_for("core.index"))
