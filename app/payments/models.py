"""Payments (one per order at WeChat Pay) and the log of every notice received about them.

A payment pays for a *payable* named by (payable_type, payable_id): a donation, a mutual-aid
share or a pledge repayment. The payments package knows nothing else about it.

State machine::

    created ──▶ pending ──▶ paid ──▶ refunded
                   │  ▲
                   ▼  │ (a notice for a closed order: the money moved, it is recorded)
              closed / failed
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (BigInteger, CheckConstraint, DateTime, Enum, ForeignKey, Index, Integer,
                        String, Text)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.enums import LabelledEnum
from app.extensions import db
from app.models_base import created_at_column, fen_column, updated_at_column


class PaymentState(LabelledEnum):
    created = "created", "待支付"
    pending = "pending", "待支付"
    paid = "paid", "已支付"
    failed = "failed", "支付失败"
    closed = "closed", "已关闭"
    refunded = "refunded", "已退款"


# States from which a valid "paid" notice or query result moves the payment to paid.
PAYABLE_STATES = (PaymentState.created, PaymentState.pending, PaymentState.closed,
                  PaymentState.failed)


class Payment(db.Model):
    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("channel_fee_fen >= 0 AND channel_fee_fen <= amount_fen",
                        name="channel_fee_in_range"),
        Index("ix_payments_state_created_at", "state", "created_at"),
        Index("ix_payments_payable", "payable_type", "payable_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(16), default="wechat")
    out_trade_no: Mapped[str] = mapped_column(String(32), unique=True)
    transaction_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    payable_type: Mapped[str] = mapped_column(String(32))
    payable_id: Mapped[int] = mapped_column(Integer)
    amount_fen: Mapped[int] = fen_column()
    # WeChat Pay's fee on this order at the rate shown to the payer when the order was made
    # (app/payments/fees.py); booked as its own ledger transaction when the payment is confirmed.
    channel_fee_bp: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    channel_fee_fen: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    description: Mapped[str] = mapped_column(String(128))
    state: Mapped[PaymentState] = mapped_column(
        Enum(PaymentState, native_enum=False, length=16), default=PaymentState.created)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    openid: Mapped[str | None] = mapped_column(String(64))
    trade_type: Mapped[str] = mapped_column(String(8))  # JSAPI / NATIVE
    client_ip: Mapped[str] = mapped_column(String(45))
    prepay_id: Mapped[str | None] = mapped_column(String(64))
    code_url: Mapped[str | None] = mapped_column(String(256))
    # The payable no longer took money when the payment arrived (e.g. the campaign had ended or
    # been frozen): the money is recorded all the same, and staff see the flag.
    late: Mapped[bool] = mapped_column(default=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # last query
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    @property
    def is_open(self) -> bool:
        return self.state in (PaymentState.created, PaymentState.pending)


class NoticeVerdict(LabelledEnum):
    processed = "processed", "已入账"                # recorded the payment
    late = "late", "已入账（筹款已停止）"            # recorded, but the payable had stopped taking money
    duplicate = "duplicate", "重复通知"              # already recorded; acknowledged again
    not_success = "not_success", "支付未成功"        # a signed notice of a failed payment: acknowledged
    bad_signature = "bad_signature", "签名错误"
    wrong_merchant = "wrong_merchant", "商户号不符"  # appid or mch_id not ours
    unknown_order = "unknown_order", "订单不存在"
    amount_mismatch = "amount_mismatch", "金额不符"
    conflict = "conflict", "状态冲突"    # a second transaction_id for a paid order, or reused id
    malformed = "malformed", "格式错误"

    @property
    def accepted(self) -> bool:
        return self in (NoticeVerdict.processed, NoticeVerdict.late, NoticeVerdict.duplicate,
                        NoticeVerdict.not_success)


# What staff look at first: notices refused, and money that arrived after its campaign stopped.
ATTENTION_VERDICTS = tuple(v for v in NoticeVerdict if not v.accepted) + (NoticeVerdict.late,)


class PaymentNotice(db.Model):
    """Every payment notice and query result we acted on or refused, for staff to read."""

    __tablename__ = "payment_notices"
    __table_args__ = (Index("ix_payment_notices_verdict_id", "verdict", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(8))  # notify / query
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), index=True)
    out_trade_no: Mapped[str | None] = mapped_column(String(64), index=True)
    transaction_id: Mapped[str | None] = mapped_column(String(64))
    verdict: Mapped[NoticeVerdict] = mapped_column(
        Enum(NoticeVerdict, native_enum=False, length=16))
    detail: Mapped[str] = mapped_column(String(300), default="")
    remote_addr: Mapped[str | None] = mapped_column(String(45))
    raw: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime] = created_at_column()
