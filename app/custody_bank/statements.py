"""The custody account's daily statement (对账单), matched against what the bank told us it
paid: every debit names one of our payouts (its reference in the 摘要) with the amount we sent,
and every payout the bank's result file said it paid that day has its debit. Differences are
findings for finance, never fixed silently. Credits (WeChat's settlements into custody) are
counted and not matched here: the WeChat bills reconcile money in.

The bank's result lines and the ledger are held together by `ledger verify` (verify.py): a
payout the bank paid is one the ledger moved out of custody, exactly once.
"""
from __future__ import annotations

import hashlib
import re

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.core.audit import record_audit
from app.custody_bank.batches import (BankFileError, ImportReport, default_format, file_date,
                                      finder)
from app.custody_bank.formats import FormatError
from app.custody_bank.models import BankFileImport, BankPayoutLine, FileKind, LineState
from app.extensions import db
from app.models_base import format_yuan

REFERENCE = re.compile(r"[A-Z]{2,8}\d{6,20}")


def import_statement(data: bytes, staff) -> ImportReport:
    file_format = default_format()
    sha = hashlib.sha256(data).hexdigest()
    if db.session.scalar(select(BankFileImport.id).where(
            BankFileImport.kind == FileKind.statement, BankFileImport.file_sha256 == sha)):
        db.session.rollback()
        return ImportReport(None, repeated=True)
    try:
        parsed = file_format.read(file_format.statement, data)
        day = file_date(file_format, parsed.fields.get("date", ""))
        rows = [(number, row, file_format.parse_amount(row["amount"]))
                for number, row in parsed.rows]
    except (FormatError, BankFileError) as error:
        db.session.rollback()
        raise BankFileError(f"对账单无法读取：{getattr(error, 'message', error)}",
                            "format") from None
    file_import = BankFileImport(kind=FileKind.statement, format_name=file_format.name,
                                 file_sha256=sha, statement_date=day, lines=len(rows),
                                 imported_by_id=staff.id)
    db.session.add(file_import)
    db.session.flush()
    report = ImportReport(file_import)
    finding = finder(report)

    named = _payouts_named_in(row["memo"] for _, row, _ in rows)
    seen: set[str] = set()
    for number, row, amount in rows:
        if file_format.statement.codes.get(row["direction"]) != "out":
            continue
        line = next((named[ref] for ref in REFERENCE.findall(row["memo"] or "")
                     if ref in named), None)
        if line is None or line.state != LineState.succeeded:
            finding("extra", number, line.ref if line else "",
                    f"支出 ¥{format_yuan(amount)}（{row['memo'][:40]}）没有对应的已付款款项")
            continue
        if line.ref in seen:
            finding("duplicate_line", number, line.ref, f"{line.ref} 在对账单上出现多次")
            continue
        seen.add(line.ref)
        if amount != line.amount_fen:
            finding("statement_amount", number, line.ref, f"对账单 ¥{format_yuan(amount)}，"
                    f"付款 ¥{format_yuan(line.amount_fen)}")
        else:
            report.settled += 1
    paid_that_day = db.session.scalars(select(BankPayoutLine).where(
        BankPayoutLine.state == LineState.succeeded, BankPayoutLine.bank_date == day)
        .order_by(BankPayoutLine.id))
    for line in paid_that_day:
        if line.ref not in seen:
            finding("missing", None, line.ref, f"银行回单称 {line.ref} 已付 "
                    f"¥{format_yuan(line.amount_fen)}，对账单上没有这笔支出")
    file_import.settled = report.settled
    record_audit(staff, "bank_statement.import", "bank_file_import", file_import.id,
                 after={"date": day.isoformat(), "matched": report.settled,
                        "findings": len(report.findings)},
                 reason=f"{day:%Y-%m-%d} 对账单：{report.settled} 笔相符，"
                        f"{len(report.findings)} 项待核对")
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return ImportReport(None, repeated=True)
    return report


def _payouts_named_in(memos) -> dict[str, BankPayoutLine]:
    """Our payouts that the statement's 摘要 name, by reference, in one query."""
    refs = {ref for memo in memos for ref in REFERENCE.findall(memo or "")}
    if not refs:
        return {}
    return {line.ref: line for line in db.session.scalars(
        select(BankPayoutLine).where(BankPayoutLine.ref.in_(refs)))}
