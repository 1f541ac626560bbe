"""`ledger verify` checks for money going out, registered through the ledger's hook:

- a paid withdrawal has exactly its ledger transaction (custody → payout clearing, its amount),
  and no other withdrawal has one;
- a succeeded refund has its transaction of its amount, and no other refund has one; a refund
  never exceeds its donation; a campaign's refunds never exceed what remained;
- no campaign custody is ever negative;
- a WeChat transfer to a person has its create posting of its amount, and exactly one of paid
  (succeeded) or returned (returned), none while open; the transfer clearing holds exactly the
  open transfers.
"""
from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.ledger.models import Account, Entry
from app.ledger.services import moved_by_source_ref
from app.payouts.accounts import SOURCE_REFUND, SOURCE_WITHDRAWAL
from app.payouts.models import DonationRefund, RefundStatus, Withdrawal, WithdrawalStatus


def withdrawal_problems() -> list[str]:
    moved = moved_by_source_ref(SOURCE_WITHDRAWAL)
    problems = []
    for wid, amount, status in db.session.execute(
            select(Withdrawal.id, Withdrawal.amount_fen, Withdrawal.status)):
        booked = moved.pop(str(wid), None)
        if status == WithdrawalStatus.paid and booked != amount:
            problems.append(f"paid withdrawal {wid} of {amount} fen: ledger moved {booked}")
        elif status != WithdrawalStatus.paid and booked is not None:
            problems.append(f"withdrawal {wid} is {status.value} but the ledger paid it")
    problems += [f"ledger withdrawal {ref} has no withdrawal" for ref in moved]
    return problems


def refund_problems() -> list[str]:
    moved = moved_by_source_ref(SOURCE_REFUND)
    problems = []
    for no, amount, donated, status in db.session.execute(
            select(DonationRefund.out_refund_no, DonationRefund.amount_fen,
                   DonationRefund.donated_fen, DonationRefund.status)):
        booked = moved.pop(no, None)
        if amount > donated:
            problems.append(f"refund {no} of {amount} fen exceeds its donation of {donated}")
        if status == RefundStatus.succeeded and booked != amount:
            problems.append(f"succeeded refund {no} of {amount} fen: ledger moved {booked}")
        elif status != RefundStatus.succeeded and booked is not None:
            problems.append(f"refund {no} is {status.value} but the ledger refunded it")
    problems += [f"ledger refund {ref} has no refund" for ref in moved]
    return problems


def negative_problems() -> list[str]:
    rows = db.session.execute(
        select(Account.code, func.sum(Entry.amount_fen)).join(Entry.account)
        .where(Account.code.startswith("campaign:"))
        .group_by(Account.code).having(func.sum(Entry.amount_fen) < 0)).all()
    return [f"{code} is overdrawn ({total} fen)" for code, total in rows]


def transfer_problems() -> list[str]:
    from app.ledger.services import balance
    from app.payouts import transfers as t
    from app.payouts.transfer_models import OPEN_TRANSFERS, PersonTransfer, TransferStatus

    made, paid = moved_by_source_ref(t.SOURCE_TRANSFER), moved_by_source_ref(t.SOURCE_TRANSFER_PAID)
    back = moved_by_source_ref(t.SOURCE_TRANSFER_RETURN)
    problems, open_total = [], 0
    for no, amount, status in db.session.execute(
            select(PersonTransfer.out_bill_no, PersonTransfer.amount_fen, PersonTransfer.status)):
        expected = {t.SOURCE_TRANSFER: amount,
                    t.SOURCE_TRANSFER_PAID: amount if status == TransferStatus.succeeded else None,
                    t.SOURCE_TRANSFER_RETURN: amount if status == TransferStatus.returned else None}
        for source, moved in ((t.SOURCE_TRANSFER, made), (t.SOURCE_TRANSFER_PAID, paid),
                              (t.SOURCE_TRANSFER_RETURN, back)):
            if moved.pop(no, None) != expected[source]:
                problems.append(f"transfer {no} ({status.value}, {amount} fen): {source} "
                                "posting wrong or missing")
        open_total += amount if status in OPEN_TRANSFERS else 0
    for moved in (made, paid, back):
        problems += [f"ledger transfer {ref} has no person transfer" for ref in moved]
    if balance(t.TRANSFER_CLEARING) != open_total:
        problems.append(f"transfer clearing holds {balance(t.TRANSFER_CLEARING)} fen, open "
                        f"transfers {open_total}")
    return problems


def payouts_problems() -> list[str]:
    return withdrawal_problems() + refund_problems() + negative_problems() + transfer_problems()
