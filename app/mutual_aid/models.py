"""The mutual-aid plan (互助计划): plans and their rules, memberships, claims and their public
notice (公示), apportionment rounds (分摊) with one share charge per member, the items a round
pays out (in money_models.py: rounds, charges, payables, distributions), member notices, staff
audit records and the donor funnel's events.

Money is integer fen. Rules live on the plan row and are shown publicly as they are stored.
"""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (JSON, BigInteger, Boolean, Date, DateTime, Enum, ForeignKey, Index,
                        Integer, String, Text, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.enums import LabelledEnum
from app.extensions import db
from app.models_base import created_at_column, fen_column
from app.mutual_aid.accounts import plan_custody

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a bigint.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def _enum(kind: type[enum.Enum]) -> Enum:
    return Enum(kind, native_enum=False, length=16)


class PlanStatus(str, enum.Enum):
    open = "open"        # takes new members
    closed = "closed"    # takes no new members; rounds go on for those in it


class Plan(db.Model):
    __tablename__ = "mutual_aid_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    summary: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[PlanStatus] = mapped_column(_enum(PlanStatus), default=PlanStatus.open)
    min_age_days: Mapped[int] = mapped_column(Integer, default=30)
    max_age_years: Mapped[int] = mapped_column(Integer, default=59)
    covered_conditions: Mapped[list] = mapped_column(JSON, default=list)
    waiting_days: Mapped[int] = mapped_column(Integer, default=180)
    # [[highest age in the band, payout in fen], …] ascending: [[39, 30000000], [59, 10000000]]
    payout_bands: Mapped[list] = mapped_column(JSON, default=list)
    fee_bp: Mapped[int] = mapped_column(Integer, default=800)  # management fee, basis points
    yearly_cap_fen: Mapped[int] = fen_column(default=188_00)
    announce_days: Mapped[list] = mapped_column(JSON, default=lambda: [7, 21])
    collect_days: Mapped[list] = mapped_column(JSON, default=lambda: [14, 28])
    grace_days: Mapped[int] = mapped_column(Integer, default=7)
    objection_days: Mapped[int] = mapped_column(Integer, default=5)
    rejoin_days: Mapped[int] = mapped_column(Integer, default=30)
    health_questions: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = created_at_column()

    @property
    def custody_account(self) -> str:
        return plan_custody(self.id)

    @property
    def fee_percent(self) -> str:
        whole, rest = divmod(self.fee_bp, 100)
        return f"{whole}" if rest == 0 else f"{whole}.{rest:02d}".rstrip("0")

    def payout_for_age(self, age: int) -> int | None:
        """The payout of a case by the member's age at diagnosis; None outside every band."""
        for highest, fen in self.payout_bands:
            if age <= int(highest):
                return int(fen)
        return None


class MembershipStatus(LabelledEnum):
    waiting = "waiting", "观察期"
    active = "active", "保障中"
    suspended = "suspended", "已暂停"    # a share unpaid after the grace period
    left = "left", "已退出"
    removed = "removed", "已移除"


LIVE_STATUSES = (MembershipStatus.waiting, MembershipStatus.active, MembershipStatus.suspended)
SHARING_STATUSES = (MembershipStatus.waiting, MembershipStatus.active)
RELATIONS = {"self": "本人", "spouse": "配偶", "child": "子女", "parent": "父母"}


class Membership(db.Model):
    __tablename__ = "mutual_aid_memberships"
    __table_args__ = (
        # One live membership per person (by ID number) and plan.
        Index("uq_mutual_aid_memberships_live_person", "plan_id", "id_index", unique=True,
              sqlite_where=text("status IN ('waiting', 'active', 'suspended')"),
              postgresql_where=text("status IN ('waiting', 'active', 'suspended')")),
        Index("ix_mutual_aid_memberships_plan_status_id", "plan_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("mutual_aid_plans.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)  # who pays
    relation: Mapped[str] = mapped_column(String(8), default="self")
    name_enc: Mapped[str] = mapped_column(Text)
    name_masked: Mapped[str] = mapped_column(String(32))
    id_enc: Mapped[str] = mapped_column(Text)
    id_index: Mapped[str] = mapped_column(String(64))
    id_masked: Mapped[str] = mapped_column(String(18))
    birth_date: Mapped[date] = mapped_column(Date)
    male: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[MembershipStatus] = mapped_column(_enum(MembershipStatus),
                                                     default=MembershipStatus.waiting)
    declaration: Mapped[dict] = mapped_column(JSON, default=dict)
    accepted_rules_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    joined_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    waiting_until: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    suspended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    end_reason: Mapped[str] = mapped_column(String(200), default="")
    source_campaign_id: Mapped[int | None] = mapped_column(Integer)  # the funnel it came from

    plan: Mapped[Plan] = relationship()

    @property
    def relation_label(self) -> str:
        return RELATIONS.get(self.relation, self.relation)

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES


class ClaimStatus(LabelledEnum):
    submitted = "submitted", "审核中"
    publicized = "publicized", "公示中"   # approved, in its public notice (公示) window
    confirmed = "confirmed", "待分摊"     # notice window over with no objection upheld: awaits a round
    in_round = "in_round", "分摊中"
    awarded = "awarded", "待打款"        # money moved to the claim's own account, not yet paid
    paying = "paying", "打款中"          # finance released it; the custodian or WeChat is on it
    paid = "paid", "已打款"              # nothing left to pay: it reached the payee
    rejected = "rejected", "未通过"
    revoked = "revoked", "公示后撤销"     # an objection was upheld during 公示
    # diagnosed within the waiting period: shares back, left
    refunded = "refunded", "观察期内确诊·已退还分摊"


class Claim(db.Model):
    __tablename__ = "mutual_aid_claims"
    __table_args__ = (Index("ix_mutual_aid_claims_plan_status", "plan_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("mutual_aid_plans.id"))
    membership_id: Mapped[int] = mapped_column(ForeignKey("mutual_aid_memberships.id"),
                                               index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    condition: Mapped[str] = mapped_column(String(60))
    diagnosis: Mapped[str] = mapped_column(String(100))
    hospital: Mapped[str] = mapped_column(String(100))
    diagnosed_on: Mapped[date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[ClaimStatus] = mapped_column(_enum(ClaimStatus), default=ClaimStatus.submitted)
    age_at_diagnosis: Mapped[int | None] = mapped_column(Integer)
    payout_fen: Mapped[int | None] = fen_column(nullable=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_accounts.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_reason: Mapped[str] = mapped_column(String(500), default="")
    notice_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()

    membership: Mapped[Membership] = relationship()
    documents: Mapped[list["ClaimDocument"]] = relationship(order_by="ClaimDocument.id")


class ClaimDocument(db.Model):
    """A re-encoded, encrypted image outside static/, served only to its owner and staff."""

    __tablename__ = "mutual_aid_claim_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("mutual_aid_claims.id"), index=True)
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = created_at_column()


class ObjectionStatus(str, enum.Enum):
    open = "open"
    upheld = "upheld"
    dismissed = "dismissed"

    @property
    def label(self) -> str:
        return {"open": "待处理", "upheld": "异议成立", "dismissed": "异议不成立"}[self.value]


class Objection(db.Model):
    __tablename__ = "mutual_aid_objections"

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("mutual_aid_claims.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(String(500))
    status: Mapped[ObjectionStatus] = mapped_column(_enum(ObjectionStatus),
                                                    default=ObjectionStatus.open)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_accounts.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_reason: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = created_at_column()


class MemberNotice(db.Model):
    __tablename__ = "mutual_aid_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    body: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = created_at_column()


class FunnelEvent(db.Model):
    """One step of one person toward membership. Written with a single INSERT, never updated."""

    __tablename__ = "mutual_aid_funnel_events"
    __table_args__ = (
        Index("ix_mutual_aid_funnel_events_day_step", "day", "step"),
        Index("ix_mutual_aid_funnel_events_campaign_step", "campaign_id", "step"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    step: Mapped[str] = mapped_column(String(24))
    campaign_id: Mapped[int | None] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(16), default="direct")
    user_id: Mapped[int | None] = mapped_column(Integer)
    visitor_id: Mapped[str | None] = mapped_column(String(32))
    day: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = created_at_column()
