"""`ledger verify` checks of paybacks (paybacks.py, payback_refunds.py):

- the payback clearing = refund items' money not paid into old wallets + overpaid batches −
  paybacks out of it (not come back);
- the refund-submitted clearing = refunds asked and not settled;
- each settled refund has exactly its posting (refunded or given back), and the fee WeChat
  returned with it is booked once, as recorded; no payment is refunded beyond its amount;
- each payback's 商家转账 has its amount and a matching state.
"""
from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.ledger.services import SOURCE_CHANNEL_FEE_RETURN, balance, moved_by_source_ref
from app.mutual_aid.accounts import PAYBACK_DUE, REFUND_SUBMITTED
from app.mutual_aid.money_models import ItemKind, PayBack, PayBackStatus, RoundItem, ShareBatch
from app.mutual_aid.payback_refunds import SOURCE_BACK, SOURCE_REFUNDED
from app.mutual_aid.paybacks import MOVED, PREFIX, PURPOSE
from app.payments.models import Payment
from app.payouts.transfer_models import OPEN_TRANSFERS, PersonTransfer, TransferStatus

P = PayBackStatus


def _total(query) -> int:
    return int(db.session.scalar(query) or 0)


def clearing_problems() -> list[str]:
    problems = []
    owed_in = (_total(select(func.sum(RoundItem.distributed_fen - RoundItem.to_wallet_fen))
                      .where(RoundItem.kind == ItemKind.refund))
               + _total(select(func.sum(ShareBatch.overpaid_fen))
                        .where(ShareBatch.paid_at.is_not(None))))
    out = _total(select(func.sum(PayBack.amount_fen)).where(
        PayBack.from_account == PAYBACK_DUE, PayBack.status.in_(MOVED)))
    if balance(PAYBACK_DUE) != owed_in - out:
        problems.append(f"payback clearing holds {balance(PAYBACK_DUE)} fen; refunds owed "
                        f"{owed_in} less paid back {out} say {owed_in - out}")
    asked = _total(select(func.sum(PayBack.amount_fen)).where(
        PayBack.method == "wechat_refund", PayBack.status == P.sending))
    if balance(REFUND_SUBMITTED) != asked:
        problems.append(f"refund-submitted clearing holds {balance(REFUND_SUBMITTED)} fen; "
                        f"refunds under way say {asked}")
    return problems


def refund_problems() -> list[str]:
    refunded, back = moved_by_source_ref(SOURCE_REFUNDED), moved_by_source_ref(SOURCE_BACK)
    fees = {ref: amount for ref, amount in moved_by_source_ref(SOURCE_CHANNEL_FEE_RETURN).items()
            if ref.startswith(PREFIX)}
    problems = []
    for payback in db.session.scalars(select(PayBack).where(
            PayBack.method == "wechat_refund").order_by(PayBack.id)):
        no = payback.out_refund_no
        want = {P.paid: (payback.amount_fen, None), P.failed: (None, payback.amount_fen),
                P.sending: (None, None)}[payback.status]
        if (refunded.pop(no, None), back.pop(no, None)) != want:
            problems.append(f"payback {payback.id} ({payback.status.value}): its refund "
                            "postings do not match")
        fee = fees.pop(no, None)
        if (fee or 0) != (payback.fee_returned_fen if payback.status == P.paid else 0):
            problems.append(f"payback {payback.id}: fee returned {fee}, recorded "
                            f"{payback.fee_returned_fen}")
    problems += [f"ledger payback refund {ref} has no payback"
                 for ref in list(refunded) + list(back) + list(fees)]
    over = db.session.execute(
        select(PayBack.payment_id).join(Payment, Payment.id == PayBack.payment_id)
        .where(PayBack.status.in_(MOVED)).group_by(PayBack.payment_id, Payment.amount_fen)
        .having(func.sum(PayBack.amount_fen) > Payment.amount_fen)).scalars()
    problems += [f"payment {i} is refunded beyond its amount" for i in over]
    return problems


def transfer_problems() -> list[str]:
    transfers = {int(t.purpose_ref): t for t in db.session.scalars(
        select(PersonTransfer).where(PersonTransfer.purpose == PURPOSE))}
    matching = {P.sending: OPEN_TRANSFERS, P.paid: (TransferStatus.succeeded,),
                P.failed: (TransferStatus.returned,)}
    problems = []
    for payback in db.session.scalars(select(PayBack).where(
            PayBack.method == "wechat_transfer").order_by(PayBack.id)):
        transfer = transfers.pop(payback.id, None)
        if (transfer is None or transfer.amount_fen != payback.amount_fen
                or transfer.status not in matching.get(payback.status, ())):
            problems.append(f"payback {payback.id} ({payback.status.value}): its 商家转账 is "
                            "missing, of another amount or in another state")
    problems += [f"payback 商家转账 {ref} has no payback" for ref in transfers]
    return problems


def payback_problems() -> list[str]:
    return clearing_problems() + refund_problems() + transfer_problems()
