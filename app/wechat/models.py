"""A WeChat message owed to someone: written in the transaction of the change it tells of, so
a change is told once (its key is unique) and a message is never lost with a crash.

States::

    pending ──▶ sending ──▶ sent
       ▲           │ └────▶ failed      (WeChat refused it for good, e.g. the user unfollowed)
       └───────────┘                    (a transient error, or a sender that died: sent again)
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Enum, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.enums import LabelledEnum
from app.extensions import db
from app.models_base import created_at_column, updated_at_column


class MessageStatus(LabelledEnum):
    pending = "pending", "待发送"
    sending = "sending", "发送中"
    sent = "sent", "已发送"
    failed = "failed", "未能发送"
    skipped = "skipped", "未配置模板"


class WechatMessage(db.Model):
    __tablename__ = "wechat_messages"
    __table_args__ = (Index("ix_wechat_messages_status", "status", "updated_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # What it tells of, e.g. "transfer:XZTB…:waiting_user": a second telling is refused here.
    dedupe_key: Mapped[str] = mapped_column(String(120), unique=True)
    openid: Mapped[str] = mapped_column(String(64))
    template: Mapped[str] = mapped_column(String(32))   # our name; the id is configuration
    fields: Mapped[dict] = mapped_column(JSON)           # keyword name → value
    url: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[MessageStatus] = mapped_column(
        Enum(MessageStatus, native_enum=False, length=16), default=MessageStatus.pending)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    msgid: Mapped[str] = mapped_column(String(32), default="")
    last_error: Mapped[str] = mapped_column(String(300), default="")
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
