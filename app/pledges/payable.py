"""The `pledge_repayment` payable: what a paid repayment does inside payments' confirming
transaction (fill the instalments, keep the pledge), and the distribution job after the commit."""
from __future__ import annotations

from datetime import datetime

from flask import url_for
from sqlalchemy import select

from app.extensions import db
from app.models_base import format_yuan
from app.payments.payables import PaidOutcome, PaidPayment, PayableHandler
from app.payouts.models import add_notice
from app.pledges.accounts import pledge_custody
from app.pledges.models import Instalment, Pledge, PledgeStatus, Repayment
from app.pledges.services import PAYABLE_TYPE
from app.pledges.tasks import enqueue_distribution

def _allocate(pledge: Pledge, amount: int, paid_at: datetime) -> None:
    """Fill the instalments in due order with a paid amount (what exceeds them is recorded on
    the pledge only)."""
    left = amount
    for instalment in db.session.scalars(select(Instalment).where(
            Instalment.pledge_id == pledge.id).order_by(Instalment.seq).with_for_update()):
        if left <= 0:
            break
        take = min(left, instalment.amount_fen - instalment.paid_fen)
        if take > 0:
            instalment.paid_fen += take
            left -= take
            if instalment.paid_fen == instalment.amount_fen:
                instalment.paid_at = paid_at


class PledgeRepaymentPayable(PayableHandler):
    type = PAYABLE_TYPE
    payable_table = Repayment.__table__
    platform_bears_channel_fee = True  # the whole amount is owed: see PayableHandler

    def on_paid(self, payment: PaidPayment) -> PaidOutcome:
        repayment = db.session.get(Repayment, payment.payable_id, with_for_update=True)
        pledge = db.session.get(Pledge, repayment.pledge_id, with_for_update=True)
        repayment.paid_at = payment.paid_at
        repayment.late = pledge.is_closed
        pledge.repaid_fen += payment.amount_fen
        _allocate(pledge, payment.amount_fen, payment.paid_at)
        db.session.flush()
        if pledge.status == PledgeStatus.active and pledge.repaid_fen >= pledge.total_fen:
            pledge.status, pledge.closed_at = PledgeStatus.kept, payment.paid_at
            add_notice(pledge.user_id, "pledge", "诺言已兑现",
                       f"您已还清诺言的全部 ¥{format_yuan(pledge.total_fen)}，感谢您的善意传递。",
                       f"/pledges/{pledge.id}")
        repayment_id = repayment.id

        def distribute() -> None:
            enqueue_distribution(repayment_id)

        return PaidOutcome(account=pledge_custody(pledge.id), memo="诺言还款 · 微信支付",
                           late=repayment.late, after_commit=distribute)

    def success_url(self, payable_id: int) -> str:
        repayment = db.session.get(Repayment, payable_id)
        return url_for("pledges.pledge_page", pledge_id=repayment.pledge_id, paid=1)
