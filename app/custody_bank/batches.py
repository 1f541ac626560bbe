"""Finance's two steps with the bank: build a batch file of the payouts waiting for it, and
import the bank's result file, whose lines settle those payouts exactly once.

A result line settles its payout only when everything agrees: the reference is one of this
batch's payouts and appears once in the file, the amount and the payee name are the ones we
sent, the bank's code is one the format knows, the file's totals add up. Anything else is a
finding for finance and settles nothing. A line already settled the same way is skipped (a
re-uploaded or overlapping file); settled the other way it is a `conflict` finding. The whole
file is one transaction; after it commits, payouts' reconciliation settles the payouts' owners.
"""
from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.core.audit import record_audit
from app.core.chinatime import CHINA, china_today
from app.custody_bank.formats import FileFormat, FormatError, get_format
from app.custody_bank.models import (BankBatch, BankFileImport, BankFinding, BankPayoutLine,
                                     BatchStatus, FileKind, LineState)
from app.core import crypto
from app.extensions import db
from app.models_base import as_utc, format_yuan, utcnow
from app.payouts.tasks import enqueue_settle_from_custodian

MAX_BATCH_LINES = 2000


class BankFileError(Exception):
    """Refused, nothing changed; `message` is for finance, in Chinese."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.message, self.code = message, code


@dataclass
class ImportReport:
    file_import: BankFileImport | None
    settled: int = 0
    repeated: bool = False
    findings: list[BankFinding] = field(default_factory=list)


def finder(report: ImportReport):
    """What records a finding of the report's import (in its transaction)."""
    def finding(kind: str, line_no: int | None, ref: str, detail: str) -> None:
        item = BankFinding(import_id=report.file_import.id, line_no=line_no, kind=kind,
                           ref=ref[:40], detail=detail[:300])
        db.session.add(item)
        report.findings.append(item)
    return finding


def default_format() -> FileFormat:
    return get_format(current_app.config.get("BANK_BATCH_FORMAT", "xiangzhu_csv"))


def queued_lines() -> list[BankPayoutLine]:
    return list(db.session.scalars(select(BankPayoutLine).where(
        BankPayoutLine.state == LineState.queued).order_by(BankPayoutLine.id)))


# --- the batch file ---------------------------------------------------------------------------

def build_batch(staff) -> BankBatch:
    """Put every queued payout (up to MAX_BATCH_LINES) into one new batch and write its file."""
    file_format = default_format()
    ids = list(db.session.scalars(select(BankPayoutLine.id).where(
        BankPayoutLine.state == LineState.queued).order_by(BankPayoutLine.id)
        .limit(MAX_BATCH_LINES)))
    if not ids:
        db.session.rollback()
        raise BankFileError("没有等待银行付款的款项", "nothing_queued")
    batch = BankBatch(batch_no="", format_name=file_format.name, line_count=0, total_fen=0,
                      file_sha256="", file_enc="", built_by_id=staff.id)
    db.session.add(batch)
    db.session.flush()
    batch.batch_no = f"XZB{china_today():%Y%m%d}{batch.id:06d}"
    # The guard on state claims each line for one batch even if two finance people build at once.
    db.session.execute(update(BankPayoutLine).where(
        BankPayoutLine.id.in_(ids), BankPayoutLine.state == LineState.queued)
        .values(state=LineState.in_batch, batch_id=batch.id)
        .execution_options(synchronize_session=False))
    lines = list(db.session.scalars(select(BankPayoutLine).where(
        BankPayoutLine.batch_id == batch.id).order_by(BankPayoutLine.id)
        .execution_options(populate_existing=True)))
    if not lines:
        db.session.rollback()
        raise BankFileError("这些款项已被另一位同事组批", "nothing_queued")
    batch.line_count, batch.total_fen = len(lines), sum(line.amount_fen for line in lines)
    try:
        data = batch_file(file_format, batch, lines)
    except FormatError as error:
        db.session.rollback()
        raise BankFileError(str(error), "format") from None
    batch.file_sha256 = hashlib.sha256(data).hexdigest()
    batch.file_enc = crypto.encrypt_bytes(data).decode("ascii")
    record_audit(staff, "bank_batch.build", "bank_batch", batch.id,
                 after={"batch_no": batch.batch_no, "lines": batch.line_count,
                        "total_fen": batch.total_fen},
                 reason=f"{batch.line_count} 笔，合计 ¥{format_yuan(batch.total_fen)}")
    db.session.commit()
    return batch


def batch_file(file_format: FileFormat, batch: BankBatch, lines: list[BankPayoutLine]) -> bytes:
    rows = [{"seq": seq, "ref": line.ref, "name": line.account_name,
             "account": line.account_number, "bank": line.bank_name,
             "branch": line.branch_code, "amount": file_format.amount_text(line.amount_fen),
             "purpose": line.memo} for seq, line in enumerate(lines, start=1)]
    fields = {"batch_no": batch.batch_no,
              "date": as_utc(batch.created_at).astimezone(CHINA).strftime(file_format.date_format),
              "count": len(lines), "total": file_format.amount_text(batch.total_fen)}
    return file_format.write(file_format.batch, fields, rows)


# --- the result file --------------------------------------------------------------------------

def import_result(data: bytes, staff) -> ImportReport:
    file_format = default_format()
    sha = hashlib.sha256(data).hexdigest()
    if _already_imported(FileKind.result, sha):
        db.session.rollback()
        return ImportReport(None, repeated=True)
    try:
        parsed = file_format.read(file_format.result, data)
    except FormatError as error:
        db.session.rollback()
        raise BankFileError(f"回单文件无法读取：{error}", "format") from None
    try:
        bank_date = file_date(file_format, parsed.fields.get("date", ""))
    except BankFileError:
        db.session.rollback()
        raise
    batch = db.session.scalar(select(BankBatch).where(
        BankBatch.batch_no == parsed.fields.get("batch_no", "")).with_for_update())
    if batch is None:
        db.session.rollback()
        raise BankFileError(f"批次号“{parsed.fields.get('batch_no', '')}”不是我们发出的批次",
                            "unknown_batch")
    file_import = BankFileImport(kind=FileKind.result, format_name=file_format.name,
                                 file_sha256=sha, batch_id=batch.id, lines=len(parsed.rows),
                                 imported_by_id=staff.id)
    db.session.add(file_import)
    db.session.flush()
    report = ImportReport(file_import)
    finding = finder(report)

    amounts = []
    for number, row in parsed.rows:
        try:
            amounts.append(file_format.parse_amount(row["amount"]))
        except FormatError as error:
            amounts.append(None)
            finding("bad_line", number, row.get("ref", ""), str(error))
    if (str(len(parsed.rows)) != parsed.fields.get("count", str(len(parsed.rows)))
            or ("total" in parsed.fields and None not in amounts
                and file_format.amount_text(sum(amounts)) != parsed.fields["total"])):
        finding("totals", None, "", f"合计行为 {parsed.fields.get('count')} 笔 "
                f"{parsed.fields.get('total')}，明细为 {len(parsed.rows)} 笔")
    else:
        times_named = Counter(row.get("ref", "") for _, row in parsed.rows)
        for (number, row), amount in zip(parsed.rows, amounts):
            if amount is not None:
                _settle_line(file_format, batch, file_import, number, row, amount,
                             times_named[row["ref"]] > 1, finding, report, bank_date)
    _update_status(batch)
    record_audit(staff, "bank_batch.result", "bank_batch", batch.id,
                 after={"settled": report.settled, "findings": len(report.findings)},
                 reason=f"导入回单：{report.settled} 笔入账，{len(report.findings)} 项待核对")
    file_import.settled = report.settled
    try:
        db.session.commit()
    except IntegrityError:  # a colleague imported the same file at the same moment
        db.session.rollback()
        return ImportReport(None, repeated=True)
    if report.settled:
        enqueue_settle_from_custodian()
    return report


def _settle_line(file_format, batch, file_import, number, row, amount, duplicated, finding,
                 report, bank_date) -> None:
    ref = row["ref"]
    if duplicated:
        finding("duplicate_line", number, ref, f"参考号 {ref} 在文件中出现多次，均未入账")
        return
    line = db.session.scalar(select(BankPayoutLine).where(BankPayoutLine.ref == ref)
                             .with_for_update().execution_options(populate_existing=True))
    if line is None:
        finding("unknown_ref", number, ref, f"参考号 {ref} 不是我们的付款")
        return
    if line.batch_id != batch.id:
        finding("other_batch", number, ref, f"参考号 {ref} 不在批次 {batch.batch_no} 中")
        return
    if amount != line.amount_fen:
        finding("amount_changed", number, ref, f"回单金额 ¥{format_yuan(amount)}，我们发出 "
                f"¥{format_yuan(line.amount_fen)}")
        return
    if "name" in row and _plain(row["name"]) != _plain(line.account_name):
        finding("name_changed", number, ref, "回单户名与我们发出的户名不一致")
        return
    outcome = file_format.result.codes.get(row["status"])
    if outcome not in ("succeeded", "failed"):
        finding("unknown_status", number, ref, f"结果代码“{row['status']}”无法识别")
        return
    state = LineState[outcome]
    if line.state in (LineState.succeeded, LineState.failed):
        if line.state != state:
            finding("conflict", number, ref, f"之前的回单为“{line.state.label}”，本次为"
                    f"“{state.label}”，以之前为准")
        return
    line.state, line.settled_at, line.settled_by_import_id = state, utcnow(), file_import.id
    line.bank_ref = row.get("bank_ref", "")[:40]
    line.bank_date = bank_date
    line.message = (row.get("message") or ("" if outcome == "succeeded" else "银行退回"))[:200]
    report.settled += 1


def file_date(file_format: FileFormat, text: str) -> date:
    try:
        return datetime.strptime(text, file_format.date_format).date()
    except ValueError:
        raise BankFileError(f"日期“{text}”不是 {file_format.date_format} 格式", "format") from None


def _plain(name: str) -> str:
    return "".join(name.split())


def _update_status(batch: BankBatch) -> None:
    open_lines = db.session.scalar(select(db.func.count()).select_from(BankPayoutLine).where(
        BankPayoutLine.batch_id == batch.id, BankPayoutLine.state == LineState.in_batch))
    batch.status = BatchStatus.settled if open_lines == 0 else (
        BatchStatus.partly_settled if open_lines < batch.line_count else BatchStatus.built)


def _already_imported(kind: FileKind, sha: str) -> bool:
    return db.session.scalar(select(BankFileImport.id).where(
        BankFileImport.kind == kind, BankFileImport.file_sha256 == sha)) is not None
