"""What reconciling a day against WeChat Pay's bills found: one BillDay per China calendar day,
and its findings (差异). Findings are kept per (day, kind, line, reference), so running a day again
updates them rather than adding twins; one no longer found is marked cleared, never deleted, and
nothing here ever changes the ledger."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (BigInteger, Date, DateTime, Enum, ForeignKey, Integer, String,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.enums import LabelledEnum
from app.extensions import db
from app.models_base import created_at_column


class BillDayStatus(LabelledEnum):
    balanced = "balanced", "已对平"
    differences = "differences", "有差异"
    unavailable = "unavailable", "账单未取得"


class FindingKind(LabelledEnum):
    missing_in_ledger = "missing_in_ledger", "账单有、账本无"
    missing_in_bill = "missing_in_bill", "账本有、账单无"
    amount_differs = "amount_differs", "金额不符"
    fee_differs = "fee_differs", "手续费不符"
    duplicate_in_bill = "duplicate_in_bill", "账单重复行"
    duplicate_in_ledger = "duplicate_in_ledger", "账本重复记账"
    bad_hash = "bad_hash", "账单校验值不符"
    bad_file = "bad_file", "账单格式错误"
    bad_summary = "bad_summary", "账单汇总不符"


class BillDay(db.Model):
    __tablename__ = "bill_days"

    id: Mapped[int] = mapped_column(primary_key=True)
    bill_date: Mapped[date] = mapped_column(Date, unique=True)
    status: Mapped[BillDayStatus] = mapped_column(
        Enum(BillDayStatus, native_enum=False, length=16))
    trade_lines: Mapped[int] = mapped_column(Integer, default=0)
    fund_lines: Mapped[int] = mapped_column(Integer, default=0)
    ledger_lines: Mapped[int] = mapped_column(Integer, default=0)
    trade_sha1: Mapped[str] = mapped_column(String(40), default="")
    fundflow_sha1: Mapped[str] = mapped_column(String(40), default="")
    runs: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str] = mapped_column(String(300), default="")  # why a bill was not obtained
    first_checked_at: Mapped[datetime] = created_at_column()
    checked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    findings: Mapped[list["BillFinding"]] = relationship(
        back_populates="day", order_by="BillFinding.id")

    @property
    def open_findings(self) -> list["BillFinding"]:
        return [f for f in self.findings if f.cleared_at is None]


class BillFinding(db.Model):
    __tablename__ = "bill_findings"
    __table_args__ = (UniqueConstraint("bill_day_id", "kind", "line_kind", "ref",
                                       name="uq_bill_finding"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bill_day_id: Mapped[int] = mapped_column(ForeignKey("bill_days.id"))  # uq_bill_finding leads
    kind: Mapped[FindingKind] = mapped_column(Enum(FindingKind, native_enum=False, length=24))
    # out_trade_no / out_refund_no / out_bill_no, or the bill's name for a file-level finding
    ref: Mapped[str] = mapped_column(String(64))
    line_kind: Mapped[str] = mapped_column(String(16), default="")  # payment / refund / transfer
    bill_fen: Mapped[int | None] = mapped_column(BigInteger)
    ledger_fen: Mapped[int | None] = mapped_column(BigInteger)
    detail: Mapped[str] = mapped_column(String(300), default="")
    found_at: Mapped[datetime] = created_at_column()
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    cleared_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    day: Mapped[BillDay] = relationship(back_populates="findings")
