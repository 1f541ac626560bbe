"""Money of the plan: rounds (分摊), the items they pay, one share charge per member, the
payables behind WeChat payments (share batches; top-ups of the removed wallet, kept as
history), the distributions that pay out what was collected, and paybacks: money the plan owes
a member back (a waiting-period refund, an overpaid batch, a former wallet's balance), paid by
refunding their own WeChat payments or by 商家转账."""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (JSON, BigInteger, Boolean, Date, DateTime, ForeignKey, Index, Integer,
                        String, UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models_base import created_at_column, fen_column, updated_at_column
from app.mutual_aid.models import BigId, Claim, Membership, Plan, _enum


class RoundStatus(str, enum.Enum):
    computing = "computing"    # the apportionment job is writing the charges
    announced = "announced"    # shares due; members pay
    closed = "closed"          # past the grace period; collected money distributed
    cancelled = "cancelled"    # nobody was left to share it; its items wait for the next round

    @property
    def label(self) -> str:
        return {"computing": "计算中", "announced": "缴费中", "closed": "已结束",
                "cancelled": "已取消"}[self.value]


COMPUTED = (RoundStatus.announced, RoundStatus.closed)


class Round(db.Model):
    """One apportionment: what it pays, who shares it, and every figure of the public report."""

    __tablename__ = "mutual_aid_rounds"
    __table_args__ = (UniqueConstraint("plan_id", "number", name="uq_mutual_aid_rounds_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("mutual_aid_plans.id"))
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[RoundStatus] = mapped_column(_enum(RoundStatus), default=RoundStatus.computing)
    announced_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    close_on: Mapped[date] = mapped_column(Date)
    cutoff_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # who shares: joined by
    cutoff_membership_id: Mapped[int] = mapped_column(BigInteger, default=0)
    year: Mapped[int] = mapped_column(Integer)
    members: Mapped[int] = mapped_column(Integer, default=0)
    items_requested_fen: Mapped[int] = fen_column(default=0)
    fee_requested_fen: Mapped[int] = fen_column(default=0)
    cap_room_fen: Mapped[int] = fen_column(default=0)     # yearly cap left for everyone
    capped: Mapped[bool] = mapped_column(Boolean, default=False)
    items_granted_fen: Mapped[int] = fen_column(default=0)
    fee_fen: Mapped[int] = fen_column(default=0)
    total_fen: Mapped[int] = fen_column(default=0)
    base_share_fen: Mapped[int] = fen_column(default=0)
    remainder: Mapped[int] = mapped_column(BigInteger, default=0)
    remainder_offset: Mapped[int] = mapped_column(BigInteger, default=0)
    job_id: Mapped[str | None] = mapped_column(String(64))
    computed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()

    plan: Mapped[Plan] = relationship()

    @property
    def max_share_fen(self) -> int:
        return self.base_share_fen + (1 if self.remainder else 0)


class ItemKind(str, enum.Enum):
    claim = "claim"      # a payout to a member's approved case
    refund = "refund"    # a member diagnosed within the waiting period gets their shares back

    @property
    def label(self) -> str:
        return {"claim": "互助金", "refund": "观察期内确诊退还分摊"}[self.value]


class RoundItem(db.Model):
    """Something a round pays: created when it is owed (round_id empty until a round takes it).
    `granted_fen` is what the round could grant (reduced pro rata when the cap binds)."""

    __tablename__ = "mutual_aid_round_items"
    __table_args__ = (Index("ix_mutual_aid_round_items_plan_round", "plan_id", "round_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("mutual_aid_plans.id"))
    round_id: Mapped[int | None] = mapped_column(ForeignKey("mutual_aid_rounds.id"))
    kind: Mapped[ItemKind] = mapped_column(_enum(ItemKind))
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("mutual_aid_claims.id"), unique=True)
    membership_id: Mapped[int] = mapped_column(ForeignKey("mutual_aid_memberships.id"))
    beneficiary_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_fen: Mapped[int] = fen_column()
    granted_fen: Mapped[int | None] = fen_column(nullable=True)
    distributed_fen: Mapped[int] = fen_column(default=0)
    # A refund item's part paid into the member's wallet before wallets were removed (that
    # money is returned with the wallet); the rest is paid back directly (paybacks.py).
    to_wallet_fen: Mapped[int] = fen_column(default=0)
    created_at: Mapped[datetime] = created_at_column()

    claim: Mapped[Claim | None] = relationship()
    membership: Mapped[Membership] = relationship()


class ChargeStatus(str, enum.Enum):
    due = "due"
    paid = "paid"
    overdue = "overdue"      # unpaid at close; the member was suspended
    waived = "waived"        # the member left or was refunded before paying


class ShareCharge(db.Model):
    """One member's share of one round. `position` (0-based, by membership id) decides who pays
    the remainder's extra fen: see apportionment.share_at."""

    __tablename__ = "mutual_aid_share_charges"
    __table_args__ = (
        UniqueConstraint("round_id", "membership_id", name="uq_mutual_aid_share_charges_member"),
        Index("ix_mutual_aid_share_charges_user_status", "user_id", "status"),
        Index("ix_mutual_aid_share_charges_membership", "membership_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("mutual_aid_rounds.id"))
    membership_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(BigInteger)
    amount_fen: Mapped[int] = fen_column()
    status: Mapped[ChargeStatus] = mapped_column(_enum(ChargeStatus), default=ChargeStatus.due)
    paid_via: Mapped[str | None] = mapped_column(String(8))   # wechat / wallet
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ShareBatch(db.Model):
    """The payable behind one WeChat payment of a payer's due shares (one or more charges)."""

    __tablename__ = "mutual_aid_share_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("mutual_aid_plans.id"))
    charge_ids: Mapped[list] = mapped_column(JSON)
    amount_fen: Mapped[int] = fen_column()
    payment_id: Mapped[int | None] = mapped_column(Integer)
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    to_wallet_fen: Mapped[int] = fen_column(default=0)  # already paid: went to the old wallet
    overpaid_fen: Mapped[int] = fen_column(default=0)   # already paid: refunded (paybacks.py)
    created_at: Mapped[datetime] = created_at_column()


class TopUp(db.Model):
    """The payable behind a top-up of the removed wallet (history, and any order paid late):
    the balance is returned to the member by paybacks.py."""

    __tablename__ = "mutual_aid_topups"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    amount_fen: Mapped[int] = fen_column()
    payment_id: Mapped[int | None] = mapped_column(Integer)
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()


class WalletRefundStatus(str, enum.Enum):
    requested = "requested"        # old: out of the wallet for a bank transfer (now put back)
    transferring = "transferring"  # sent by 商家转账, waiting for the member to confirm (我的 · 领取)
    paid = "paid"                  # in the member's WeChat 零钱, or finance recorded the transfer
    failed = "failed"              # the 商家转账 came back (unconfirmed, closed): back in the wallet


class WalletRefund(db.Model):
    """A refund the member asked for while wallets existed (history; paybacks replace it)."""

    __tablename__ = "mutual_aid_wallet_refunds"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    amount_fen: Mapped[int] = fen_column()
    status: Mapped[WalletRefundStatus] = mapped_column(_enum(WalletRefundStatus),
                                                       default=WalletRefundStatus.requested)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_accounts.id"))
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = created_at_column()


class PayBackStatus(str, enum.Enum):
    sending = "sending"        # refund asked of WeChat / 商家转账 made: the money left its account
    paid = "paid"              # refunded to the member's payment, or in their WeChat 零钱
    failed = "failed"          # WeChat refused, or the member never confirmed: the money is back
    owed = "owed"              # WeChat could take none of it: the money waits, finance sees it
    superseded = "superseded"  # an `owed` record a later attempt replaced


class PayBack(db.Model):
    """One movement of money the plan owes a member back, out of `from_account`: a WeChat Pay
    refund of one of their payments (`payment_id`, `out_refund_no`) or a 商家转账. What it
    pays back is its subject: `wallet` (a user's former wallet balance), `refund_item` (a
    waiting-period refund) or `overpaid` (a share batch paid for shares already settled)."""

    __tablename__ = "mutual_aid_paybacks"
    __table_args__ = (Index("ix_mutual_aid_paybacks_subject", "subject", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    subject: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[int] = mapped_column(Integer)
    from_account: Mapped[str] = mapped_column(String(64))
    amount_fen: Mapped[int] = fen_column()
    method: Mapped[str] = mapped_column(String(16))    # wechat_refund / wechat_transfer / none
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), index=True)
    out_refund_no: Mapped[str | None] = mapped_column(String(64), unique=True)
    fee_returned_fen: Mapped[int] = fen_column(default=0)
    status: Mapped[PayBackStatus] = mapped_column(_enum(PayBackStatus),
                                                  default=PayBackStatus.sending)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Distribution(db.Model):
    """One pay-out of a round's collected money (a round closes with one; late payments bring
    more). Lines say how much each item got; one ledger transaction moves it all."""

    __tablename__ = "mutual_aid_distributions"
    __table_args__ = (UniqueConstraint("round_id", "seq", name="uq_mutual_aid_distributions_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("mutual_aid_rounds.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    collected_fen: Mapped[int] = fen_column()      # collected so far when it was made
    items_fen: Mapped[int] = fen_column()
    fee_fen: Mapped[int] = fen_column()
    created_at: Mapped[datetime] = created_at_column()


class DistributionLine(db.Model):
    __tablename__ = "mutual_aid_distribution_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    distribution_id: Mapped[int] = mapped_column(ForeignKey("mutual_aid_distributions.id"),
                                                 index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("mutual_aid_round_items.id"), index=True)
    amount_fen: Mapped[int] = fen_column()
