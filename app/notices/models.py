"""What a person is told: the in-app notice (站内通知) of each event, and the campaigns a donor
muted. A notice's key names the event and the person, so an event told again adds nothing."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models_base import created_at_column


class Notice(db.Model):
    """One line of a person's 通知 page; most have a WeChat message of the same key."""

    __tablename__ = "payout_notices"   # its name from when only payouts told anyone
    __table_args__ = (Index("ix_payout_notices_dedupe_key", "dedupe_key", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # e.g. "campaign_approved:12:1:34"; None for notices older than keys (told once anyway).
    dedupe_key: Mapped[str | None] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(60))
    body: Mapped[str] = mapped_column(String(300))
    url: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = created_at_column()
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CampaignMute(db.Model):
    """不再接收此筹款的消息: no news of this campaign for this person (money is still told)."""

    __tablename__ = "campaign_mutes"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    created_at: Mapped[datetime] = created_at_column()


def add_notice(user_id: int, kind: str, title: str, body: str, url: str = "",
               key: str | None = None) -> Notice:
    """Add a notice to the caller's transaction (the calling service commits)."""
    notice = Notice(user_id=user_id, kind=kind[:32], title=title[:60], body=body[:300],
                    url=url[:200], dedupe_key=key[:120] if key else None)
    db.session.add(notice)
    return notice
