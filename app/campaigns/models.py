"""Campaigns (筹款), their photos and the record of every state change."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Enum, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.enums import LabelledEnum
from app.extensions import db
from app.models_base import created_at_column, fen_column, updated_at_column

TARGET_MIN_FEN = 1_000 * 100
TARGET_MAX_FEN = 500_000 * 100
DEFAULT_DURATION_DAYS = 30
MAX_PHOTOS = 8


class CampaignStatus(LabelledEnum):
    draft = "draft", "草稿"
    submitted = "submitted", "审核中"
    live = "live", "筹款中"
    ended = "ended", "已结束"
    rejected = "rejected", "未通过"
    frozen = "frozen", "已冻结"
    terminated = "terminated", "已终止"


# Anyone may open these pages; the others are seen only by their organizer and staff.
PUBLIC_STATUSES = frozenset({CampaignStatus.live, CampaignStatus.ended, CampaignStatus.terminated,
                             CampaignStatus.frozen})
# A patient "has a campaign running" in these states (frozen: live but under investigation).
ACTIVE_STATUSES = frozenset({CampaignStatus.live, CampaignStatus.frozen})

RELATIONS = [
    ("self", "本人"), ("spouse", "配偶"), ("parent", "父母"), ("child", "子女"),
    ("sibling", "兄弟姐妹"), ("relative", "其他亲属"), ("friend", "朋友"),
]
RELATION_LABELS = dict(RELATIONS)

HOUSE_CHOICES = [("none", "无房产"), ("one", "1 套"), ("two_plus", "2 套及以上")]
CAR_CHOICES = [("none", "无车辆"), ("one", "1 辆"), ("two_plus", "2 辆及以上")]
SAVINGS_CHOICES = [("lt10k", "1 万元以下"), ("10k_50k", "1 万 - 5 万元"),
                   ("50k_100k", "5 万 - 10 万元"), ("gt100k", "10 万元以上")]
HOUSE_LABELS = dict(HOUSE_CHOICES)
CAR_LABELS = dict(CAR_CHOICES)
SAVINGS_LABELS = dict(SAVINGS_CHOICES)
MIN_DURATION_DAYS = 7
MAX_DURATION_DAYS = 90


class Campaign(db.Model):
    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint("target_fen > 0", name="target_positive"),
        CheckConstraint("raised_fen >= 0", name="raised_not_negative"),
        Index("ix_campaigns_status_live_at", "status", "live_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[CampaignStatus] = mapped_column(
        Enum(CampaignStatus, native_enum=False, length=16), default=CampaignStatus.draft)
    title: Mapped[str] = mapped_column(String(60))
    patient_name: Mapped[str] = mapped_column(String(32))
    relation: Mapped[str] = mapped_column(String(16))
    diagnosis: Mapped[str] = mapped_column(String(100))
    hospital: Mapped[str] = mapped_column(String(100))
    target_fen: Mapped[int] = fen_column()
    duration_days: Mapped[int] = mapped_column(Integer, default=DEFAULT_DURATION_DAYS)
    story: Mapped[str] = mapped_column(Text)
    # Financial disclosure (家庭经济状况), shown publicly.
    house: Mapped[str] = mapped_column(String(16), default="none")
    car: Mapped[str] = mapped_column(String(16), default="none")
    savings: Mapped[str] = mapped_column(String(16), default="lt10k")
    has_medical_insurance: Mapped[bool] = mapped_column(default=True)
    has_commercial_insurance: Mapped[bool] = mapped_column(default=False)
    disclosure_note: Mapped[str] = mapped_column(String(300), default="")
    # Cached from the ledger in the same transaction as each posting; `ledger verify` checks it.
    raised_fen: Mapped[int] = fen_column(default=0)
    donation_count: Mapped[int] = mapped_column(BigInteger, default=0)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    live_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    organizer = relationship("User", lazy="joined")
    photos: Mapped[list["CampaignPhoto"]] = relationship(
        back_populates="campaign", order_by="CampaignPhoto.position",
        cascade="all, delete-orphan")
    # Read-only view of the append-only history; events are only ever added by the services.
    events: Mapped[list["CampaignEvent"]] = relationship(
        order_by="CampaignEvent.id", viewonly=True)

    @property
    def cover(self) -> "CampaignPhoto | None":
        return self.photos[0] if self.photos else None

    @property
    def progress_percent(self) -> int:
        if not self.target_fen:
            return 0
        return min(100, self.raised_fen * 100 // self.target_fen)

    @property
    def relation_label(self) -> str:
        return RELATION_LABELS.get(self.relation, self.relation)

    @property
    def is_editable(self) -> bool:
        return self.status in (CampaignStatus.draft, CampaignStatus.rejected)

    @property
    def accepts_donations(self) -> bool:
        return self.status == CampaignStatus.live

    @property
    def is_public(self) -> bool:
        return self.status in PUBLIC_STATUSES

    @property
    def story_paragraphs(self) -> list[str]:
        """The story as plain-text paragraphs (one per non-blank line); templates escape them."""
        return [line.strip() for line in self.story.splitlines() if line.strip()]

    @property
    def disclosure_items(self) -> list[tuple[str, str]]:
        """The family's financial disclosure as (label, value) pairs for the public page."""
        return [
            ("房产", HOUSE_LABELS.get(self.house, self.house)),
            ("车辆", CAR_LABELS.get(self.car, self.car)),
            ("存款", SAVINGS_LABELS.get(self.savings, self.savings)),
            ("基本医疗保险", "有" if self.has_medical_insurance else "无"),
            ("商业保险", "有" if self.has_commercial_insurance else "无"),
        ]

    @property
    def last_decision(self) -> "CampaignEvent | None":
        """The most recent review decision (approval or rejection), for the organizer to read."""
        for event in reversed(self.events):
            if event.to_status in (CampaignStatus.live.value, CampaignStatus.rejected.value):
                return event
        return None


class CampaignPhoto(db.Model):
    """A re-encoded JPEG in the public photo store; position 0 is the cover."""

    __tablename__ = "campaign_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = created_at_column()

    campaign: Mapped[Campaign] = relationship(back_populates="photos")


class CampaignEvent(db.Model):
    """Append-only record of each state change: who, when, why."""

    __tablename__ = "campaign_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_accounts.id"))
    reason: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = created_at_column()

    actor_user = relationship("User")
    actor_staff = relationship("StaffAccount")

    @property
    def actor_name(self) -> str:
        if self.actor_staff is not None:
            return self.actor_staff.display_name
        if self.actor_user is not None:
            return self.actor_user.nickname
        return "系统"

    @property
    def to_label(self) -> str:
        return CampaignStatus(self.to_status).label
