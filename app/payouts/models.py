"""Money leaving a campaign: withdrawals (提现) with their invoices and receipts, the organizer's
statement on leftover money, refunds to donors after termination. (In-app notices are
app/notices'; `PayoutNotice` and `add_notice` are kept here under their old names.)

Withdrawal states, each step signed by a different person (app/payouts/approvals.py)::

    requested ──▶ approved ──(countersigned above the threshold)──▶ released ──▶ paid
        │            │                                                  └──▶ failed
        ├────────────┴──▶ rejected  (a reviewer or finance, with a reason)
        └────────────┴──▶ cancelled (the organizer before approval, or the campaign's termination)

`approved`: a reviewer checked it against the documents; `released`: finance let it go to the
custodian (the transfer is in flight); `paid`: the custodian's transfer succeeded and the ledger
moved the money; `failed`: the custodian refused and nothing moved.

Refund states: pending (planned) ──▶ submitted (WeChat accepted) ──▶ succeeded (its notice:
ledger posted) | failed; `none` marks a donation whose pro-rata share is 0 fen.
"""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (CheckConstraint, DateTime, Enum, ForeignKey, Index, Integer, String,
                        Text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.enums import LabelledEnum
from app.extensions import db
from app.models_base import created_at_column, fen_column, updated_at_column
from app.notices.models import Notice as PayoutNotice, add_notice  # noqa: F401  (old names)


def _enum(kind: type[enum.Enum]) -> Enum:
    return Enum(kind, native_enum=False, length=16)


class WithdrawalStatus(LabelledEnum):
    requested = "requested", "待审核"
    approved = "approved", "已审核，待财务放款"
    released = "released", "已放款，转账中"
    paid = "paid", "已打款"
    failed = "failed", "转账失败"
    rejected = "rejected", "未通过"
    cancelled = "cancelled", "已撤回"


# These hold money back from the available balance until they are settled.
PENDING_WITHDRAWALS = (WithdrawalStatus.requested, WithdrawalStatus.approved,
                       WithdrawalStatus.released)


class Withdrawal(db.Model):
    __tablename__ = "payout_withdrawals"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        Index("ix_payout_withdrawals_campaign_status", "campaign_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    organizer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    amount_fen: Mapped[int] = fen_column()
    purpose: Mapped[str] = mapped_column(String(200))
    invoice_total_fen: Mapped[int | None] = fen_column(nullable=True)
    # The verified payee as it was when asked for; approval checks it has not changed since.
    payee_id: Mapped[int] = mapped_column(ForeignKey("campaign_payees.id"))
    payee_kind: Mapped[str] = mapped_column(String(16))
    payee_last4: Mapped[str] = mapped_column(String(4))
    status: Mapped[WithdrawalStatus] = mapped_column(_enum(WithdrawalStatus),
                                                     default=WithdrawalStatus.requested)
    transfer_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    custodian_ref: Mapped[str | None] = mapped_column(String(64))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_accounts.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_reason: Mapped[str] = mapped_column(String(500), default="")
    released_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_accounts.id"))
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    failure: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    campaign = relationship("Campaign")
    decided_by = relationship("StaffAccount", foreign_keys=[decided_by_id])
    released_by = relationship("StaffAccount", foreign_keys=[released_by_id])
    documents: Mapped[list["PayoutDocument"]] = relationship(
        order_by="PayoutDocument.id", viewonly=True)

    @property
    def invoices(self) -> list["PayoutDocument"]:
        return [d for d in self.documents if d.kind == DocKind.invoice]

    @property
    def receipts(self) -> list["PayoutDocument"]:
        return [d for d in self.documents if d.kind == DocKind.receipt]

    @property
    def public_receipts(self) -> list["PayoutDocument"]:
        return [d for d in self.receipts if d.status == DocStatus.approved]


class DocKind(LabelledEnum):
    # bills, invoices, cost lists behind a withdrawal (private)
    invoice = "invoice", "票据 / 费用清单"
    # the hospital's receipt for a payout (public once staff approve it)
    receipt = "receipt", "收款收据"


class DocStatus(LabelledEnum):
    pending = "pending", "待审核"
    approved = "approved", "已通过"
    rejected = "rejected", "未通过"


class PayoutDocument(db.Model):
    """A file in the private store (app/core/storage.py), checked by app/core/uploads."""

    __tablename__ = "payout_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    withdrawal_id: Mapped[int] = mapped_column(ForeignKey("payout_withdrawals.id"), index=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    kind: Mapped[DocKind] = mapped_column(_enum(DocKind))
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(32))
    size_bytes: Mapped[int] = mapped_column(Integer)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    pages: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[DocStatus] = mapped_column(_enum(DocStatus), default=DocStatus.pending)
    note: Mapped[str] = mapped_column(String(300), default="")
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_accounts.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()

    @property
    def is_pdf(self) -> bool:
        return self.content_type == "application/pdf"


class LeftoverStatement(db.Model):
    """Once a campaign has ended: what the organizer says will happen to money left over."""

    __tablename__ = "payout_leftover_statements"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class RefundStatus(LabelledEnum):
    pending = "pending", "待退款"
    submitted = "submitted", "退款处理中"
    succeeded = "succeeded", "已退回"
    failed = "failed", "退款异常"
    none = "none", "无剩余可退"


# Planned refunds whose money is still in custody.
UNSETTLED_REFUNDS = (RefundStatus.pending, RefundStatus.submitted, RefundStatus.failed)


class DonationRefund(db.Model):
    """One per donation of a terminated campaign: its pro-rata share of what remained."""

    __tablename__ = "payout_donation_refunds"
    __table_args__ = (
        CheckConstraint("amount_fen >= 0", name="amount_not_negative"),
        Index("ix_payout_donation_refunds_campaign_status", "campaign_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    donation_id: Mapped[int] = mapped_column(ForeignKey("donations.id"), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"))
    out_trade_no: Mapped[str] = mapped_column(String(32))
    out_refund_no: Mapped[str] = mapped_column(String(64), unique=True)
    donated_fen: Mapped[int] = fen_column()
    amount_fen: Mapped[int] = fen_column()  # refunded to the donor
    # The part of the payment's channel fee WeChat returns with this refund, so custody pays out
    # amount_fen − channel_fee_returned_fen (app/payments/fees.py).
    channel_fee_returned_fen: Mapped[int] = fen_column(default=0, server_default="0")
    status: Mapped[RefundStatus] = mapped_column(_enum(RefundStatus),
                                                 default=RefundStatus.pending)
    refund_id: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(String(300), default="")
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    settled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    campaign = relationship("Campaign")
