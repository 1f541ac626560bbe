"""诺言 pledges: a recipient's promise to give back after their campaign ends, its instalments,
repayments (a payable paid by WeChat Pay), how each repayment is distributed, reminders, and the
pay-it-forward fund (诺言基金) with every movement in and out of it.

A pledge is `active` until it is `kept` (every instalment paid) or `broken` (an instalment left
unpaid BROKEN_AFTER_DAYS past its due date); kept and broken pledges are closed. What the public
sees is its standing: on track, late, kept or broken (see services.standing).
"""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (CheckConstraint, Date, DateTime, Enum, ForeignKey, Integer, String,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.enums import LabelledEnum
from app.extensions import db
from app.models_base import created_at_column, fen_column, updated_at_column


def _enum(kind: type[enum.Enum]) -> Enum:
    return Enum(kind, native_enum=False, length=16)


class PledgeStatus(str, enum.Enum):
    active = "active"
    kept = "kept"
    broken = "broken"


class Schedule(LabelledEnum):
    monthly = "monthly", "按月分期"
    once = "once", "到期一次还清"


class Destination(LabelledEnum):
    donors = "donors", "按比例还给捐款人"
    forward = "forward", "转入诺言基金，帮助下一位患者"


class Pledge(db.Model):
    __tablename__ = "pledges"
    __table_args__ = (CheckConstraint("total_fen > 0", name="total_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    total_fen: Mapped[int] = fen_column()
    repaid_fen: Mapped[int] = fen_column(default=0)  # cached; `ledger verify` checks it
    schedule: Mapped[Schedule] = mapped_column(_enum(Schedule))
    destination: Mapped[Destination] = mapped_column(_enum(Destination))
    words: Mapped[str] = mapped_column(String(300), default="")  # the pledger's own words
    status: Mapped[PledgeStatus] = mapped_column(_enum(PledgeStatus),
                                                 default=PledgeStatus.active)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    campaign = relationship("Campaign")
    user = relationship("User")
    instalments: Mapped[list["Instalment"]] = relationship(
        order_by="Instalment.seq", viewonly=True)

    @property
    def is_closed(self) -> bool:
        return self.status != PledgeStatus.active

    @property
    def remaining_fen(self) -> int:
        return max(0, self.total_fen - self.repaid_fen)


class Instalment(db.Model):
    __tablename__ = "pledge_instalments"
    __table_args__ = (UniqueConstraint("pledge_id", "seq"),
                      CheckConstraint("paid_fen <= amount_fen", name="not_overpaid"))

    id: Mapped[int] = mapped_column(primary_key=True)
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[date] = mapped_column(Date, index=True)  # a China-time calendar date
    amount_fen: Mapped[int] = fen_column()
    paid_fen: Mapped[int] = fen_column(default=0)
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # fully paid

    @property
    def is_paid(self) -> bool:
        return self.paid_fen >= self.amount_fen


class Repayment(db.Model):
    """One WeChat Pay order towards a pledge (payable type `pledge_repayment`)."""

    __tablename__ = "pledge_repayments"
    __table_args__ = (CheckConstraint("amount_fen > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), unique=True)
    amount_fen: Mapped[int] = fen_column()
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    late: Mapped[bool] = mapped_column(default=False)  # paid after the pledge had closed
    distributed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()


class ShareRoute(str, enum.Enum):
    back = "back"        # transferred to the donor
    forward = "forward"  # into the pay-it-forward fund


class ShareStatus(LabelledEnum):
    pending = "pending", "转账中"
    paid = "paid", "已到账"
    failed = "failed", "转账失败"


class Share(db.Model):
    """One line of a repayment's distribution; the lines of a repayment sum to its amount."""

    __tablename__ = "pledge_shares"
    __table_args__ = (CheckConstraint("amount_fen > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    repayment_id: Mapped[int] = mapped_column(ForeignKey("pledge_repayments.id"), index=True)
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    route: Mapped[ShareRoute] = mapped_column(_enum(ShareRoute))
    amount_fen: Mapped[int] = fen_column()
    status: Mapped[ShareStatus] = mapped_column(_enum(ShareStatus), default=ShareStatus.pending)
    transfer_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    failure: Mapped[str] = mapped_column(String(300), default="")
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()


class DonorChoice(db.Model):
    """A donor who passes their part of a pledge on to the pay-it-forward fund."""

    __tablename__ = "pledge_donor_choices"
    __table_args__ = (UniqueConstraint("pledge_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    pass_on: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = updated_at_column()


class Reminder(db.Model):
    """The reminder before one instalment's due date: at most one per instalment."""

    __tablename__ = "pledge_reminders"

    id: Mapped[int] = mapped_column(primary_key=True)
    instalment_id: Mapped[int] = mapped_column(ForeignKey("pledge_instalments.id"), unique=True)
    wechat_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    wechat_msgid: Mapped[str | None] = mapped_column(String(32))
    wechat_error: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = created_at_column()


class FundEntryKind(LabelledEnum):
    pledge = "pledge", "诺言还款转入"          # in: a repayment (or the parts donors passed on)
    # in: what a terminated campaign held beyond its refundable donations
    leftover = "leftover", "终止筹款的剩余资金"
    campaign = "campaign", "资助筹款"          # out: a grant to a live campaign
    plan = "plan", "注入互助计划"              # out: a grant to the mutual-aid plan

    @property
    def is_in(self) -> bool:
        return self in (FundEntryKind.pledge, FundEntryKind.leftover)


class FundEntry(db.Model):
    """Every movement of the pay-it-forward fund; its id is the ledger transaction's source."""

    __tablename__ = "forward_fund_entries"
    __table_args__ = (CheckConstraint("amount_fen > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[FundEntryKind] = mapped_column(_enum(FundEntryKind))
    amount_fen: Mapped[int] = fen_column()
    repayment_id: Mapped[int | None] = mapped_column(ForeignKey("pledge_repayments.id"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"), index=True)
    plan_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = created_at_column()

    campaign = relationship("Campaign")
