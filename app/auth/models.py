"""People who sign in: WeChat users (patients, donors, sharers) and staff with passwords."""
from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import DateTime, Enum, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from app.core.enums import LabelledEnum
from app.extensions import db
from app.models_base import created_at_column

DEFAULT_NICKNAME = "微信用户"  # WeChat's own placeholder, until someone shows their name


class User(UserMixin, db.Model):
    """A WeChat identity. Matched by unionid when WeChat gives one, else by openid."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    openid: Mapped[str] = mapped_column(String(64), unique=True)
    unionid: Mapped[str | None] = mapped_column(String(64), unique=True)
    nickname: Mapped[str] = mapped_column(String(64), default=DEFAULT_NICKNAME)
    avatar_url: Mapped[str | None] = mapped_column(String(512))
    created_at: Mapped[datetime] = created_at_column()
    # 注销账号 (app/privacy): the row stays for the records that must be kept, anonymised; its
    # sessions no longer load and WeChat no longer maps to it.
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    is_staff = False

    @property
    def has_profile(self) -> bool:
        """Did WeChat give us their name (snsapi_userinfo)? A silent sign-in (snsapi_base) gives
        only the openid, and the nickname stays WeChat's placeholder: shown as 爱心人士."""
        return bool(self.nickname) and self.nickname != DEFAULT_NICKNAME

    def get_id(self) -> str:
        return f"user:{self.id}"


class StaffRole(LabelledEnum):
    reviewer = "reviewer", "审核员"
    finance = "finance", "财务"
    admin = "admin", "管理员"


class StaffAccount(UserMixin, db.Model):
    __tablename__ = "staff_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[StaffRole] = mapped_column(Enum(StaffRole, native_enum=False, length=16))
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()

    is_staff = True
    nickname = property(lambda self: self.display_name)

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def has_role(self, *roles: StaffRole) -> bool:
        return self.role == StaffRole.admin or self.role in roles

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return f"staff:{self.id}"


class LoginTicket(db.Model):
    """Desktop sign-in: the desktop shows a QR code of this ticket; a phone completes WeChat
    OAuth for it; the desktop polls and is signed in as that user."""

    __tablename__ = "login_tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    consumed: Mapped[bool] = mapped_column(default=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()


def load_principal(principal_id: str):
    kind, _, raw_id = principal_id.partition(":")
    if not raw_id.isdigit():
        return None
    if kind == "user":
        user = db.session.get(User, int(raw_id))
        return user if user is not None and user.deleted_at is None else None
    if kind == "staff":
        staff = db.session.get(StaffAccount, int(raw_id))
        return staff if staff and staff.active else None
    return None
