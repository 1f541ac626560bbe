"""`ledger verify` checks for payments: every paid payment has its ledger transaction, of its
amount, and every payment transaction in the ledger has its paid payment."""
from __future__ import annotations

from sqlalchemy import and_, func, select

from app.extensions import db
from app.ledger.models import Entry, LedgerTransaction
from app.ledger.verify import register_check
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


register_check("payments", payment_problems)
