"""`ledger verify` for the bank: every payout given to the bank is pending (queued or in a
batch), paid or rejected — one of them, as its result line said — and a withdrawal's own state
never contradicts it: a payout the bank rejected is never paid in the ledger, and a withdrawal
the ledger paid through the bank is one the bank paid."""
from __future__ import annotations

from sqlalchemy import select

from app.custody_bank.models import BankPayoutLine, LineState
from app.extensions import db
from app.payouts.models import Withdrawal, WithdrawalStatus

W = WithdrawalStatus
AGREES = {LineState.queued: {W.released}, LineState.in_batch: {W.released},
          LineState.succeeded: {W.released, W.paid}, LineState.failed: {W.released, W.failed}}


def bank_problems() -> list[str]:
    problems = []
    lines = db.session.execute(select(BankPayoutLine.ref, BankPayoutLine.state,
                                      BankPayoutLine.amount_fen, BankPayoutLine.batch_id,
                                      BankPayoutLine.settled_at)).all()
    withdrawals = dict(db.session.execute(
        select(Withdrawal.transfer_id, Withdrawal.status)
        .where(Withdrawal.transfer_id.in_([line.ref for line in lines]))).all()) if lines else {}
    for line in lines:
        if (line.state == LineState.queued) != (line.batch_id is None):
            problems.append(f"bank payout {line.ref} is {line.state.value} with batch "
                            f"{line.batch_id}")
        if (line.state in (LineState.succeeded, LineState.failed)) != (line.settled_at is not None):
            problems.append(f"bank payout {line.ref} is {line.state.value}, settled_at "
                            f"{line.settled_at}")
        status = withdrawals.get(line.ref)
        if status is not None and status not in AGREES[line.state]:
            problems.append(f"withdrawal {line.ref} is {status.value} but the bank says "
                            f"{line.state.value}")
    return problems
