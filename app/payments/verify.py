"""`ledger verify` checks for payments: every paid payment has its ledger transaction, of its
amount, and every payment transaction in the ledger has its paid payment; and the same for the
channel fee: each payment's stored fee is its rate's fee on its amount, and a settled payment with
a fee has exactly one fee transaction moving exactly that fee (none without a fee)."""
from __future__ import annotations

from sqlalchemy import and_, case, func, select

from app.extensions import db
from app.ledger.models import Account, Entry, LedgerTransaction
from app.ledger.services import CHANNEL_FEES, SOURCE_CHANNEL_FEE, SOURCE_CHANNEL_FEE_RETURN
from app.payments.models import Payment, PaymentState

SETTLED = (PaymentState.paid, PaymentState.refunded)


def payment_problems() -> list[str]:
    of_payment = and_(LedgerTransaction.source_type == "payment",
                      LedgerTransaction.source_ref == Payment.out_trade_no)
    missing = db.session.scalars(
        select(Payment.out_trade_no).outerjoin(LedgerTransaction, of_payment)
        .where(Payment.state.in_(SETTLED), LedgerTransaction.id.is_(None))).all()
    orphans = db.session.execute(
        select(LedgerTransaction.id, LedgerTransaction.source_ref)
        .outerjoin(Payment, and_(Payment.out_trade_no == LedgerTransaction.source_ref,
                                 Payment.state.in_(SETTLED)))
        .where(LedgerTransaction.source_type == "payment", Payment.id.is_(None))).all()
    credited = (select(Entry.transaction_id, func.sum(Entry.amount_fen).label("credited"))
                .where(Entry.amount_fen > 0).group_by(Entry.transaction_id).subquery())
    wrong = db.session.execute(
        select(Payment.out_trade_no, Payment.amount_fen, credited.c.credited)
        .join(LedgerTransaction, of_payment)
        .join(credited, credited.c.transaction_id == LedgerTransaction.id)
        .where(credited.c.credited != Payment.amount_fen)).all()
    return ([f"paid payment {no} has no ledger transaction" for no in missing]
            + [f"ledger transaction {tid} names payment {ref}, which is not paid"
               for tid, ref in orphans]
            + [f"payment {no} is {amount} fen but its transaction moves {moved}"
               for no, amount, moved in wrong])


def channel_fee_problems() -> list[str]:
    # round_half_up(amount × bp / 10000) in integer arithmetic, as app/payments/fees.py does
    expected_fee = (Payment.amount_fen * Payment.channel_fee_bp + 5000) // 10000
    miscomputed = db.session.execute(
        select(Payment.out_trade_no, Payment.amount_fen, Payment.channel_fee_bp,
               Payment.channel_fee_fen)
        .where(Payment.channel_fee_fen != expected_fee)).all()
    to_fees = (select(Entry.transaction_id,
                      func.sum(case((Account.code == CHANNEL_FEES, Entry.amount_fen),
                                    else_=0)).label("fee"),
                      func.count().label("legs"))
               .join(Account, Account.id == Entry.account_id)
               .group_by(Entry.transaction_id).subquery())
    booked = {ref: (fee, legs) for ref, fee, legs in db.session.execute(
        select(LedgerTransaction.source_ref, to_fees.c.fee, to_fees.c.legs)
        .join(to_fees, to_fees.c.transaction_id == LedgerTransaction.id)
        .where(LedgerTransaction.source_type == SOURCE_CHANNEL_FEE))}
    problems = [f"payment {no}: stored fee {fee} fen ≠ {bp} bp of {amount} fen"
                for no, amount, bp, fee in miscomputed]
    for no, fee in db.session.execute(
            select(Payment.out_trade_no, Payment.channel_fee_fen)
            .where(Payment.state.in_(SETTLED))):
        moved, legs = booked.pop(no, (None, 0))
        if fee and moved is None:
            problems.append(f"paid payment {no} has no channel fee transaction ({fee} fen)")
        elif moved is not None and (int(moved) != fee or legs != 2):
            problems.append(f"payment {no}: fee {fee} fen, its fee transaction moves {moved} "
                            f"fen to {CHANNEL_FEES} in {legs} legs")
    problems += [f"channel fee transaction for {ref} names no paid payment" for ref in booked]
    fee_account = db.session.scalar(
        select(func.coalesce(func.sum(Entry.amount_fen), 0)).join(Entry.account)
        .join(Entry.transaction)
        .where(Account.code == CHANNEL_FEES,
               LedgerTransaction.source_type.not_in((SOURCE_CHANNEL_FEE,
                                                     SOURCE_CHANNEL_FEE_RETURN))))
    if fee_account:
        problems.append(f"{CHANNEL_FEES} has {fee_account} fen from other than fee transactions")
    return problems
