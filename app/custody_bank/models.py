"""The custodian bank's side of money out, as we keep it.

A payout given to the bank (`BankPayoutLine`, keyed by our payout reference — the transfer id
the payout provider was asked with) waits `queued` until finance builds a batch, is `in_batch`
while the bank works, and ends `succeeded` or `failed` from a line of the bank's result file,
once. A line of a file that cannot settle anything (an unknown reference, a duplicate, a
changed amount or name, a statement line with no payout, a payout with no statement line) is a
`BankFinding` for finance, never a settlement.

Payee names and account numbers are encrypted as the campaign payee's are.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, Enum, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core import crypto
from app.core.enums import LabelledEnum
from app.extensions import db
from app.models_base import created_at_column, fen_column


class LineState(LabelledEnum):
    queued = "queued", "待组批"
    in_batch = "in_batch", "银行处理中"
    succeeded = "succeeded", "已付款"
    failed = "failed", "银行退回"


class BatchStatus(LabelledEnum):
    built = "built", "待提交银行"
    partly_settled = "partly_settled", "部分已回单"
    settled = "settled", "已全部回单"


class BankBatch(db.Model):
    __tablename__ = "bank_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_no: Mapped[str] = mapped_column(String(24), unique=True)
    format_name: Mapped[str] = mapped_column(String(32))
    status: Mapped[BatchStatus] = mapped_column(
        Enum(BatchStatus, native_enum=False, length=16), default=BatchStatus.built)
    line_count: Mapped[int] = mapped_column(Integer)
    total_fen: Mapped[int] = fen_column()
    file_sha256: Mapped[str] = mapped_column(String(64))
    file_enc: Mapped[str] = mapped_column(Text)  # the file as written: an encrypt_bytes token
    built_by_id: Mapped[int] = mapped_column(ForeignKey("staff_accounts.id"))
    created_at: Mapped[datetime] = created_at_column()

    @property
    def file_bytes(self) -> bytes:
        return crypto.decrypt_bytes(self.file_enc.encode("ascii"))


class BankPayoutLine(db.Model):
    __tablename__ = "bank_payout_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True)  # our payout reference
    amount_fen: Mapped[int] = fen_column()
    payee_kind: Mapped[str] = mapped_column(String(16))
    account_name_enc: Mapped[str] = mapped_column(Text)
    account_number_enc: Mapped[str] = mapped_column(Text)
    account_last4: Mapped[str] = mapped_column(String(4))
    bank_name: Mapped[str] = mapped_column(String(100))
    branch_code: Mapped[str] = mapped_column(String(12), default="")
    memo: Mapped[str] = mapped_column(String(100))
    state: Mapped[LineState] = mapped_column(
        Enum(LineState, native_enum=False, length=16), default=LineState.queued, index=True)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("bank_batches.id"), index=True)
    bank_ref: Mapped[str] = mapped_column(String(40), default="")
    message: Mapped[str] = mapped_column(String(200), default="")
    settled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    bank_date: Mapped[date | None] = mapped_column(Date)  # the result file's date: its statement
    settled_by_import_id: Mapped[int | None] = mapped_column(ForeignKey("bank_file_imports.id"))
    created_at: Mapped[datetime] = created_at_column()

    @property
    def account_name(self) -> str:
        return crypto.decrypt(self.account_name_enc)

    @property
    def account_number(self) -> str:
        return crypto.decrypt(self.account_number_enc)


class FileKind(LabelledEnum):
    result = "result", "回单文件"
    statement = "statement", "对账单"


class BankFileImport(db.Model):
    """A result or statement file finance uploaded: the same file twice is one import."""

    __tablename__ = "bank_file_imports"
    __table_args__ = (UniqueConstraint("kind", "file_sha256", name="uq_bank_file_imports_file"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[FileKind] = mapped_column(Enum(FileKind, native_enum=False, length=16))
    format_name: Mapped[str] = mapped_column(String(32))
    file_sha256: Mapped[str] = mapped_column(String(64))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("bank_batches.id"))
    statement_date: Mapped[date | None] = mapped_column(Date)
    lines: Mapped[int] = mapped_column(Integer, default=0)
    settled: Mapped[int] = mapped_column(Integer, default=0)
    imported_by_id: Mapped[int] = mapped_column(ForeignKey("staff_accounts.id"))
    created_at: Mapped[datetime] = created_at_column()


class BankFinding(db.Model):
    __tablename__ = "bank_findings"

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("bank_file_imports.id"), index=True)
    line_no: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(24))
    ref: Mapped[str] = mapped_column(String(40), default="")
    detail: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = created_at_column()


FINDING_LABELS = {
    "unknown_ref": "参考号不是我们的付款",
    "other_batch": "参考号属于另一个批次",
    "duplicate_line": "同一参考号在文件中出现多次",
    "amount_changed": "金额与我们发出的不一致",
    "name_changed": "户名与我们发出的不一致",
    "conflict": "与之前导入的回单结果矛盾",
    "unknown_status": "银行结果代码无法识别",
    "bad_line": "行格式错误",
    "totals": "合计行与明细不符",
    "missing": "已付款的付款在对账单上没有记录",
    "extra": "对账单上的支出没有对应的付款",
    "statement_amount": "对账单金额与付款金额不一致",
}
