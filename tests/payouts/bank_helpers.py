"""Withdrawals paid through the custodian bank's batch files, the stand-in bank playing the bank,
and result files changed as a bank (or an attacker) might change them — through the format's
own reader and writer, so a test changes one cell and nothing else."""
from __future__ import annotations

from app.custody_bank import batches, standin_bank
from app.extensions import db
from app.payouts import withdrawals
from app.payouts.models import Withdrawal
from tests.factories import StaffFactory
from tests.payouts.helpers import invoice, pay_out


def released(campaign, organizer, reviewer, finance, *amounts: int) -> list[str]:
    """Withdrawals asked, approved, released and handed to the bank: their payout references."""
    refs = []
    for amount in amounts:
        withdrawal = withdrawals.request_withdrawal(campaign.id, organizer, amount, "支付住院押金",
                                                    invoices=[invoice()])
        pay_out(withdrawal.id, reviewer, finance)
        withdrawals.execute(withdrawal.id)  # the transfer job's work (queued jobs run later)
        refs.append(withdrawals.transfer_id_of(withdrawal.id))
    return refs


def status_of(ref: str) -> str:
    db.session.expire_all()
    return db.session.scalar(db.select(Withdrawal.status)
                             .where(Withdrawal.transfer_id == ref)).value


def bank_result(batch, **options) -> bytes:
    """What the stand-in bank answers for this batch's file."""
    return standin_bank.process_batch(batches.default_format(), batch.file_bytes, **options)


def rewrite(data: bytes, change, section: str = "result", keep_totals: bool = True) -> bytes:
    """The file with `change(rows)` applied to its detail lines; totals recomputed unless asked
    not to (a bank's own file always adds up; a forged one might not)."""
    file_format = batches.default_format()
    part = getattr(file_format, section)
    parsed = file_format.read(part, data)
    rows = [dict(row) for _, row in parsed.rows]
    change(rows)
    fields = dict(parsed.fields)
    if keep_totals:
        fields["count"] = len(rows)
        if "total" in fields:
            fields["total"] = file_format.amount_text(
                sum(file_format.parse_amount(row["amount"]) for row in rows))
    return file_format.write(part, fields, rows)


def finance_person(name: str = "财务小王"):
    from app.auth.models import StaffRole
    return StaffFactory(role=StaffRole.finance, display_name=name)
