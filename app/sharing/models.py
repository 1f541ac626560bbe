"""Share links forming a tree, the visits they bring, and the donations credited to them.

One `ShareLink` per person per campaign: its token is in every link that person shares
(`/s/<token>/<channel code>`), and its parent is the link through which that person arrived, so
the links form a tree of who brought whom. A `ShareVisit` is one visitor arriving through a link
on one (China) day: written with a single INSERT that a unique key deduplicates, never a counter
updated in place. A `ShareAttribution` credits one donation to the link it came through (level
0) and to each of that link's ancestors (level 1, 2, …).
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (BigInteger, Date, Enum, ForeignKey, Index, Integer, String,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.enums import LabelledEnum
from app.extensions import db
from app.models_base import created_at_column, fen_column

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a bigint.
BigId = BigInteger().with_variant(Integer(), "sqlite")
MAX_DEPTH = 200   # a chain longer than this is cut (attribution walks at most this far up)


class ShareChannel(LabelledEnum):
    chat = "chat", "微信好友"
    moments = "moments", "朋友圈"
    poster = "poster", "海报"
    desktop_qr = "desktop_qr", "电脑扫码"

    @property
    def code(self) -> str:
        return CHANNEL_CODES[self]

    @classmethod
    def from_code(cls, code: str | None) -> "ShareChannel":
        return CODE_CHANNELS.get(code or "", cls.chat)


# One letter in the URL keeps the QR codes small: /s/<token>/p
CHANNEL_CODES = {ShareChannel.chat: "f", ShareChannel.moments: "m", ShareChannel.poster: "p",
                 ShareChannel.desktop_qr: "q"}
CODE_CHANNELS = {code: channel for channel, code in CHANNEL_CODES.items()}


def sharer_key(user_id: int | None, visitor_id: str | None) -> str | None:
    """Who shares: a signed-in user, else the anonymous visitor cookie."""
    if user_id:
        return f"u:{user_id}"
    if visitor_id:
        return f"v:{visitor_id}"
    return None


class ShareLink(db.Model):
    __tablename__ = "share_links"
    __table_args__ = (
        UniqueConstraint("campaign_id", "sharer_key", name="uq_share_links_campaign_sharer"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(16), unique=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    sharer_key: Mapped[str] = mapped_column(String(48))
    sharer_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    sharer_visitor_id: Mapped[str | None] = mapped_column(String(32), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("share_links.id"), index=True)
    depth: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = created_at_column()

    sharer = relationship("User", lazy="joined")
    parent: Mapped["ShareLink | None"] = relationship(remote_side=[id])

    @property
    def sharer_name(self) -> str:
        return self.sharer.nickname if self.sharer is not None else "微信用户"

    def path(self, channel: ShareChannel) -> str:
        return f"/s/{self.token}/{channel.code}"


class ShareVisit(db.Model):
    __tablename__ = "share_visits"
    __table_args__ = (
        UniqueConstraint("share_id", "visitor_key", "day", name="uq_share_visits_once_a_day"),
        Index("ix_share_visits_campaign_user", "campaign_id", "user_id"),
        Index("ix_share_visits_campaign_visitor", "campaign_id", "visitor_id"),
        Index("ix_share_visits_visitor_id", "visitor_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    share_id: Mapped[int] = mapped_column(ForeignKey("share_links.id"), index=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    channel: Mapped[ShareChannel] = mapped_column(
        Enum(ShareChannel, native_enum=False, length=16))
    visitor_key: Mapped[str] = mapped_column(String(48))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    visitor_id: Mapped[str | None] = mapped_column(String(32))
    day: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = created_at_column()


class ShareAttribution(db.Model):
    """A donation credited to a share link: level 0 the link it came through, then ancestors."""

    __tablename__ = "share_attributions"
    __table_args__ = (
        UniqueConstraint("donation_id", "share_id", name="uq_share_attributions_donation_share"),
        Index("ix_share_attributions_campaign_level", "campaign_id", "level"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    donation_id: Mapped[int] = mapped_column(ForeignKey("donations.id"), index=True)
    share_id: Mapped[int] = mapped_column(ForeignKey("share_links.id"), index=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    level: Mapped[int] = mapped_column(Integer)
    # The channel of the visit that led to the donation (what the channel breakdown counts).
    channel: Mapped[ShareChannel] = mapped_column(
        Enum(ShareChannel, native_enum=False, length=16))
    amount_fen: Mapped[int] = fen_column()
    created_at: Mapped[datetime] = created_at_column()
