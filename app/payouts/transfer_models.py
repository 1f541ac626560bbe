"""A transfer to a person's WeChat (商家转账): one row per payout, its out_bill_no fixed and
committed before WeChat is asked, so every retry names the same bill.

States::

    created ──▶ waiting_user ──▶ transferring ──▶ succeeded     (已到账)
       │             │                 └──────▶ returned        (已退回: failed, closed, cancelled)
       └─────────────┴───────────────────────▶ returned

`created`: the row and its first ledger posting (from the account it leaves into the transfer
clearing) are committed, WeChat not yet asked or its answer lost. `waiting_user`: WeChat holds
the bill until the recipient confirms (待领取), `package_info` is what their page needs.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (CheckConstraint, DateTime, Enum, ForeignKey, Index, Integer, String,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.enums import LabelledEnum
from app.extensions import db
from app.models_base import created_at_column, fen_column, updated_at_column


class TransferStatus(LabelledEnum):
    created = "created", "转账中"
    waiting_user = "waiting_user", "待领取"
    transferring = "transferring", "转账中"
    succeeded = "succeeded", "已到账"
    returned = "returned", "已退回"


OPEN_TRANSFERS = (TransferStatus.created, TransferStatus.waiting_user,
                  TransferStatus.transferring)


class PersonTransfer(db.Model):
    __tablename__ = "payout_person_transfers"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        UniqueConstraint("purpose", "purpose_ref", name="uq_payout_person_transfers_purpose"),
        Index("ix_payout_person_transfers_user_status", "user_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    out_bill_no: Mapped[str] = mapped_column(String(32), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    openid: Mapped[str] = mapped_column(String(64))
    amount_fen: Mapped[int] = fen_column()
    # What it pays (a registered purpose, e.g. pledge_share) and which one of those.
    purpose: Mapped[str] = mapped_column(String(24))
    purpose_ref: Mapped[str] = mapped_column(String(32))
    from_account: Mapped[str] = mapped_column(String(64))  # the ledger account it left
    remark: Mapped[str] = mapped_column(String(32))         # 转账备注, shown to the recipient
    status: Mapped[TransferStatus] = mapped_column(
        Enum(TransferStatus, native_enum=False, length=16), default=TransferStatus.created)
    transfer_bill_no: Mapped[str | None] = mapped_column(String(64))
    wechat_state: Mapped[str] = mapped_column(String(24), default="")
    package_info: Mapped[str] = mapped_column(String(1024), default="")
    fail_reason: Mapped[str] = mapped_column(String(100), default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    waiting_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    settled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_TRANSFERS
