"""Sign-in business actions: WeChat OAuth, desktop login tickets, staff passwords.

Each public function is one business action and owns its commit.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import requests
from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash
from wechatpy.exceptions import WeChatOAuthException

from app.auth.models import LoginTicket, StaffAccount, StaffRole, User
from app.extensions import db
from app.models_base import as_utc, utcnow
from app.wechat.clients import oauth_client

TICKET_TTL = timedelta(minutes=5)
BAD_CREDENTIALS = "用户名或密码错误"
MIN_PASSWORD_LENGTH = 10
# Checked against when the username is unknown, so both failures take the same time.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


class WeChatSignInError(Exception):
    """WeChat refused or could not be reached; nothing was saved."""


class StaffLoginError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class StaffAccountError(Exception):
    pass


# ---------------------------------------------------------------- WeChat users

def sign_in_with_wechat(code: str, redirect_uri: str) -> User:
    """Exchange an OAuth code for the WeChat profile and create or update our user."""
    profile = _fetch_wechat_profile(code, redirect_uri)
    for _attempt in range(2):
        user = _upsert_user(profile)
        try:
            db.session.commit()
            return user
        except IntegrityError:
            # The same person signing in twice at once: the other request created the row.
            db.session.rollback()
    raise WeChatSignInError("could not save the WeChat user")


def _fetch_wechat_profile(code: str, redirect_uri: str) -> dict[str, Any]:
    client = oauth_client(redirect_uri)
    try:
        token = client.fetch_access_token(code)
        if "snsapi_userinfo" not in token.get("scope", ""):
            # Silent sign-in (snsapi_base): the openid only, which is all JSAPI pay needs.
            return {"openid": token["openid"], "unionid": token.get("unionid")}
        profile = client.get_user_info()
    except WeChatOAuthException as error:
        raise WeChatSignInError(f"WeChat OAuth error {error.errcode}: {error.errmsg}") from error
    except (requests.RequestException, ValueError, KeyError) as error:
        raise WeChatSignInError(f"WeChat OAuth unreachable or malformed: {error}") from error
    profile.setdefault("unionid", token.get("unionid"))
    return profile


def _upsert_user(profile: dict[str, Any]) -> User:
    openid = profile["openid"]
    unionid = profile.get("unionid") or None
    by_unionid = db.session.scalar(select(User).where(User.unionid == unionid)) if unionid else None
    by_openid = db.session.scalar(select(User).where(User.openid == openid))
    user = by_unionid or by_openid
    if user is None:
        user = User(openid=openid)
        db.session.add(user)
    elif by_openid is None:
        # Same person (unionid) under a new openid, e.g. after an appid change: payments need
        # the openid of the app we run as now.
        user.openid = openid
    if unionid and user.unionid is None:
        user.unionid = unionid
    nickname = (profile.get("nickname") or "").strip()
    if nickname:
        user.nickname = nickname[:64]
    avatar = profile.get("headimgurl") or ""
    if avatar and len(avatar) <= 512:
        user.avatar_url = avatar
    return user


# ---------------------------------------------------------------- desktop tickets

@dataclass(frozen=True)
class TicketStatus:
    status: str              # pending | done | expired | used
    user: User | None = None


def create_login_ticket() -> LoginTicket:
    now = utcnow()
    # Every desktop visit to the sign-in page makes a ticket: sweep the long-dead ones.
    db.session.execute(delete(LoginTicket).where(LoginTicket.expires_at < now - timedelta(hours=1)))
    ticket = LoginTicket(token=secrets.token_urlsafe(32), expires_at=now + TICKET_TTL)
    db.session.add(ticket)
    db.session.commit()
    return ticket


def open_ticket(token: str) -> LoginTicket | None:
    """The ticket a phone may still approve, or None."""
    ticket = db.session.scalar(select(LoginTicket).where(LoginTicket.token == token))
    if ticket is None or ticket.consumed or ticket.user_id is not None:
        return None
    if as_utc(ticket.expires_at) <= utcnow():
        return None
    return ticket


def approve_ticket(token: str, user: User) -> bool:
    """The phone's signed-in user vouches for the desktop that shows this ticket."""
    result = db.session.execute(
        update(LoginTicket)
        .where(LoginTicket.token == token, LoginTicket.user_id.is_(None),
               LoginTicket.consumed.is_(False), LoginTicket.expires_at > utcnow())
        .values(user_id=user.id)
    )
    db.session.commit()
    return result.rowcount == 1


def claim_ticket(token: str) -> TicketStatus:
    """The desktop asks; once approved, the first claim wins and signs in."""
    result = db.session.execute(
        update(LoginTicket)
        .where(LoginTicket.token == token, LoginTicket.user_id.is_not(None),
               LoginTicket.consumed.is_(False), LoginTicket.expires_at > utcnow())
        .values(consumed=True)
    )
    db.session.commit()
    ticket = db.session.scalar(select(LoginTicket).where(LoginTicket.token == token))
    if ticket is None:
        return TicketStatus("expired")
    if result.rowcount == 1:
        return TicketStatus("done", db.session.get(User, ticket.user_id))
    if ticket.consumed:
        return TicketStatus("used")
    if as_utc(ticket.expires_at) <= utcnow():
        return TicketStatus("expired")
    return TicketStatus("pending")


# ---------------------------------------------------------------- staff

def normalize_username(username: str) -> str:
    return username.strip().lower()


def authenticate_staff(username: str, password: str) -> StaffAccount:
    """The staff account, or StaffLoginError with the message to show."""
    staff = db.session.scalar(
        select(StaffAccount).where(StaffAccount.username == normalize_username(username)))
    if staff is None:
        check_password_hash(_DUMMY_HASH, password)
        raise StaffLoginError(BAD_CREDENTIALS)
    now = utcnow()
    lock_message = f"密码错误次数过多，账号已锁定，请 {current_app.config['STAFF_LOCK_MINUTES']} 分钟后再试"
    if staff.locked_until is not None and as_utc(staff.locked_until) > now:
        raise StaffLoginError(lock_message)
    if not staff.check_password(password) or not staff.active:
        if _record_failure(staff):
            raise StaffLoginError(lock_message)
        raise StaffLoginError(BAD_CREDENTIALS)
    staff.failed_logins = 0
    staff.locked_until = None
    db.session.commit()
    return staff


def _record_failure(staff: StaffAccount) -> bool:
    """Count one failure atomically (several processes may see the same account); True when
    this failure locked the account."""
    cfg = current_app.config
    db.session.execute(update(StaffAccount).where(StaffAccount.id == staff.id)
                       .values(failed_logins=StaffAccount.failed_logins + 1))
    locked = db.session.execute(
        update(StaffAccount)
        .where(StaffAccount.id == staff.id,
               StaffAccount.failed_logins >= cfg["STAFF_MAX_FAILED_LOGINS"])
        .values(failed_logins=0,
                locked_until=utcnow() + timedelta(minutes=cfg["STAFF_LOCK_MINUTES"]))
    ).rowcount == 1
    db.session.commit()
    return locked


def create_staff(username: str, display_name: str, role: StaffRole | str,
                 password: str) -> StaffAccount:
    username = normalize_username(username)
    if not username or not display_name.strip():
        raise StaffAccountError("用户名和姓名不能为空")
    _check_password_strength(password)
    if db.session.scalar(select(StaffAccount).where(StaffAccount.username == username)):
        raise StaffAccountError(f"用户名 {username} 已存在")
    staff = StaffAccount(username=username, display_name=display_name.strip(),
                         role=StaffRole(role), failed_logins=0)
    staff.set_password(password)
    db.session.add(staff)
    db.session.commit()
    return staff


def set_staff_password(username: str, password: str) -> StaffAccount:
    staff = _staff_by_username(username)
    _check_password_strength(password)
    staff.set_password(password)
    staff.failed_logins = 0
    staff.locked_until = None
    db.session.commit()
    return staff


def unlock_staff(username: str) -> StaffAccount:
    staff = _staff_by_username(username)
    staff.failed_logins = 0
    staff.locked_until = None
    db.session.commit()
    return staff


def _staff_by_username(username: str) -> StaffAccount:
    staff = db.session.scalar(
        select(StaffAccount).where(StaffAccount.username == normalize_username(username)))
    if staff is None:
        raise StaffAccountError(f"没有用户名为 {username} 的员工账号")
    return staff


def _check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StaffAccountError(f"密码至少 {MIN_PASSWORD_LENGTH} 位")
