"""BankBatchCustodian: the payout provider of a custodian bank paid by batch file.

`transfer` hands the payout to the bank: it books a `BankPayoutLine` under the payout's
reference (committed at once on its own connection, like the stand-in custodian, because the
caller holds no transaction while a provider works) and answers "processing". Finance puts the
queued lines into a batch file, the bank pays, and its result file settles each line; from then
`query` answers what the bank said and the payout's owner settles it (withdrawals, pledge
shares, claims: through payouts' reconciliation). Asking twice books once; the same reference
with another amount is refused, never booked twice.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from app.core import crypto
from app.custody_bank.models import BankPayoutLine, LineState
from app.extensions import db
from app.models_base import utcnow
from app.payouts.provider import PayoutProvider, TransferRequest, TransferResult

LINES = BankPayoutLine.__table__


class BankBatchCustodian(PayoutProvider):
    name = "bank_batch"

    def transfer(self, request: TransferRequest) -> TransferResult:
        if request.payee_kind == "wechat_user" or request.amount_fen <= 0:
            return TransferResult(request.transfer_id, "failed", request.amount_fen,
                                  message="银行批量代付只能转入银行账户")
        row = {"ref": request.transfer_id, "amount_fen": request.amount_fen,
               "payee_kind": request.payee_kind,
               "account_name_enc": crypto.encrypt(request.account_name),
               "account_number_enc": crypto.encrypt(request.account_number),
               "account_last4": request.account_number[-4:], "bank_name": request.bank_name[:100],
               "branch_code": (request.branch_code or "")[:12], "memo": request.memo[:100],
               "state": LineState.queued.name, "bank_ref": "", "message": "",
               "created_at": utcnow()}
        with db.engine.begin() as conn:
            insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
            conn.execute(insert(LINES).values(**row).on_conflict_do_nothing(index_elements=["ref"]))
            booked = conn.execute(select(LINES).where(LINES.c.ref == request.transfer_id)).one()
        if booked.amount_fen != request.amount_fen:
            return TransferResult(request.transfer_id, "failed", request.amount_fen,
                                  message="同一付款参考号的金额与之前不一致")
        return result_of(booked)

    def query(self, transfer_id: str) -> TransferResult | None:
        with db.engine.connect() as conn:
            booked = conn.execute(select(LINES).where(LINES.c.ref == transfer_id)).one_or_none()
        return result_of(booked) if booked is not None else None


def result_of(line) -> TransferResult:
    state = LineState[line.state] if isinstance(line.state, str) else line.state
    outcome = {LineState.succeeded: "succeeded", LineState.failed: "failed"}.get(state,
                                                                                 "processing")
    return TransferResult(transfer_id=line.ref, state=outcome, amount_fen=line.amount_fen,
                          custodian_ref=line.bank_ref, message=line.message)
