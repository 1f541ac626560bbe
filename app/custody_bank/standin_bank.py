"""The stand-in bank, for development and the tests only: it plays the custodian bank's corporate
channel. It reads a batch file as the bank would (format, totals and checksum checked), pays
each line into its own book — rejecting an account it cannot pay — and writes the result file
finance uploads back; it writes the custody account's daily statement from its book.

What it rejects: an account number that is not 8 to 32 digits, or that ends in 0000 (a closed
account, for trying rejections by hand), and any reference passed in `reject`. `only` pays just
those references now (a partial result); the rest stay with the bank for a later file.
"""
from __future__ import annotations

import secrets
from datetime import date, datetime

from sqlalchemy import Date, String, select
from sqlalchemy.orm import Mapped, mapped_column

from app.core.chinatime import china_today
from app.custody_bank.formats import FileFormat, FormatError
from app.extensions import db
from app.models_base import created_at_column, fen_column

CUSTODY_ACCOUNT = "6212000000000000888"


class StandinBankEntry(db.Model):
    """The stand-in bank's own book of what it paid (nothing of ours reads it)."""

    __tablename__ = "standin_bank_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True)
    serial: Mapped[str] = mapped_column(String(32))
    amount_fen: Mapped[int] = fen_column()
    counterparty: Mapped[str] = mapped_column(String(100))
    counter_account: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(String(100), default="")
    booked_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = created_at_column()


def _bank_code(codes: dict[str, str], ours: str) -> str:
    """The bank's first word for one of our outcomes, as the format declares it."""
    return next(word for word, meaning in codes.items() if meaning == ours)


def _rejected(account: str) -> str:
    if not (account.isdigit() and 8 <= len(account) <= 32):
        return "收款账号格式错误"
    if account.endswith("0000"):
        return "收款账户已销户"
    return ""


def process_batch(file_format: FileFormat, data: bytes, reject: set[str] = frozenset(),
                  only: set[str] | None = None, today: date | None = None) -> bytes:
    """The result file for a batch file; the bank's book keeps what it paid."""
    parsed = file_format.read(file_format.batch, data)
    if file_format.checksum(parsed.body) != parsed.fields.get("checksum"):
        raise FormatError("校验码不符：文件在生成后被改动过")
    total = sum(file_format.parse_amount(row["amount"]) for _, row in parsed.rows)
    if (str(len(parsed.rows)) != parsed.fields.get("count")
            or file_format.amount_text(total) != parsed.fields.get("total")):
        raise FormatError("合计行与明细不符")
    today = today or china_today()
    results = []
    for seq, (_, row) in enumerate(parsed.rows, start=1):
        if only is not None and row["ref"] not in only:
            continue
        amount = file_format.parse_amount(row["amount"])
        entry = db.session.scalar(select(StandinBankEntry).where(
            StandinBankEntry.ref == row["ref"]))
        if entry is None:
            reason = "收款账户状态异常" if row["ref"] in reject else _rejected(row["account"])
            entry = StandinBankEntry(
                ref=row["ref"], serial=f"BK{today:%Y%m%d}{secrets.token_hex(6).upper()}",
                amount_fen=amount, counterparty=row["name"], counter_account=row["account"],
                state="failed" if reason else "succeeded", message=reason, booked_on=today)
            db.session.add(entry)
        code = _bank_code(file_format.result.codes, entry.state)
        results.append({"seq": seq, "ref": entry.ref, "account": entry.counter_account,
                        "name": entry.counterparty,
                        "amount": file_format.amount_text(entry.amount_fen), "status": code,
                        "message": entry.message, "bank_ref": entry.serial})
    db.session.commit()
    total_out = sum(file_format.parse_amount(row["amount"]) for row in results)
    return file_format.write(file_format.result, {
        "batch_no": parsed.fields["batch_no"], "date": today.strftime(file_format.date_format),
        "count": len(results), "total": file_format.amount_text(total_out)}, results)


def statement(file_format: FileFormat, day: date) -> bytes:
    """The custody account's statement for `day`: one debit per payment the bank made."""
    entries = db.session.scalars(select(StandinBankEntry).where(
        StandinBankEntry.booked_on == day, StandinBankEntry.state == "succeeded")
        .order_by(StandinBankEntry.id)).all()
    out = _bank_code(file_format.statement.codes, "out")
    rows = [{"date": day.strftime(file_format.date_format), "serial": entry.serial,
             "direction": out, "amount": file_format.amount_text(entry.amount_fen),
             "counterparty": entry.counterparty, "counter_account": entry.counter_account,
             "memo": f"代付 {entry.ref}"} for entry in entries]
    db.session.rollback()
    return file_format.write(file_format.statement, {
        "account": CUSTODY_ACCOUNT, "date": day.strftime(file_format.date_format),
        "count": len(rows)}, rows)
