"""Paying an approved claim for real: where the money goes (the claimant's payee) and each payout
of the claim's awarded money (app/mutual_aid/claim_payouts.py).

A round's distribution moves a claim's part into the claim's own custody account
(accounts.claim_payable: 待打款). The claimant names a payee — the member's own bank account
(in the member's real name), the hospital's account, or their WeChat 零钱 — and finance verifies
a bank payee. Payout states, each step signed by a different person (app/payouts/approvals.py)::

    (approve: the reviewer who approved the claim)
    ──(countersigned by finance from PAYOUT_SECOND_APPROVAL_FEN: approved)──▶ released ──▶ paid
                                                                                  └──▶ failed

`released`: finance let it go (bank: the custodian's transfer XZMA…, settled by its answer or
the reconciler; wechat: a 商家转账 whose settlement settles the payout); `paid`: the money left
the claim's account; `failed`: it stays there, payable again.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core import crypto
from app.core.enums import LabelledEnum
from app.extensions import db
from app.models_base import created_at_column, fen_column, updated_at_column
from app.mutual_aid.models import Claim, _enum


class PayeeKind(LabelledEnum):
    member = "member", "会员本人银行账户"
    hospital = "hospital", "医院对公账户"
    wechat = "wechat", "微信零钱（商家转账）"


BANK_KINDS = (PayeeKind.member, PayeeKind.hospital)


class PayeeStatus(LabelledEnum):
    pending = "pending", "待财务核实"
    verified = "verified", "已核实"
    rejected = "rejected", "未通过核实"


class ClaimPayee(db.Model):
    """Where a claim's money goes; one per claim. A change sends a bank payee back to pending."""

    __tablename__ = "mutual_aid_claim_payees"

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("mutual_aid_claims.id"), unique=True)
    kind: Mapped[PayeeKind] = mapped_column(_enum(PayeeKind))
    account_name_enc: Mapped[str] = mapped_column(Text, default="")
    bank_name: Mapped[str] = mapped_column(String(100), default="")
    account_number_enc: Mapped[str] = mapped_column(Text, default="")
    account_last4: Mapped[str] = mapped_column(String(4), default="")
    status: Mapped[PayeeStatus] = mapped_column(_enum(PayeeStatus), default=PayeeStatus.pending)
    note: Mapped[str] = mapped_column(String(500), default="")
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_accounts.id"))
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    @property
    def is_bank(self) -> bool:
        return self.kind in BANK_KINDS

    @property
    def account_name(self) -> str:
        return crypto.decrypt(self.account_name_enc) if self.account_name_enc else ""

    @property
    def account_number(self) -> str:
        return crypto.decrypt(self.account_number_enc) if self.account_number_enc else ""

    @property
    def masked(self) -> str:
        if not self.is_bank:
            return "申请人的微信零钱"
        return f"{self.bank_name} 尾号 {self.account_last4}"


class PayoutState(LabelledEnum):
    approved = "approved", "已复核，待放款"
    released = "released", "打款中"
    paid = "paid", "已打款"
    failed = "failed", "打款失败"


OPEN_PAYOUTS = (PayoutState.approved, PayoutState.released)


class ClaimPayout(db.Model):
    __tablename__ = "mutual_aid_claim_payouts"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        # One payout of a claim in flight at a time, whatever the code above does.
        Index("uq_mutual_aid_claim_payouts_open", "claim_id", unique=True,
              sqlite_where=text("status IN ('approved', 'released')"),
              postgresql_where=text("status IN ('approved', 'released')")),
        Index("ix_mutual_aid_claim_payouts_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("mutual_aid_claims.id"), index=True)
    amount_fen: Mapped[int] = fen_column()
    payee_kind: Mapped[str] = mapped_column(String(16))   # as it was when it left
    payee_last4: Mapped[str] = mapped_column(String(4), default="")
    status: Mapped[PayoutState] = mapped_column(_enum(PayoutState))
    transfer_id: Mapped[str | None] = mapped_column(String(32), unique=True)  # XZMA… / out_bill_no
    custodian_ref: Mapped[str] = mapped_column(String(64), default="")
    failure: Mapped[str] = mapped_column(String(300), default="")
    released_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_accounts.id"))
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    settled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    claim: Mapped[Claim] = relationship()

    @property
    def by_wechat(self) -> bool:
        return self.payee_kind == PayeeKind.wechat.value
