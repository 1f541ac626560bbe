"""Reconciliation: orders whose notice never came are settled by asking WeChat."""
from sqlalchemy import select, update

from app.campaigns.models import Campaign
from app.extensions import db, jobs
from app.ledger.services import CHANNEL_FEES, balance
from app.ledger.verify import verify
from app.models_base import utcnow
from app.payments.models import NoticeVerdict, Payment, PaymentNotice, PaymentState
from app.payments.tasks import PERIODIC_JOBS, reconcile_pending_payments
from app.wechat_standin.pay import mark_paid
from tests.payments.helpers import (acknowledged, fee_count, fresh, ledger_count, notice_for,
                                    post_notice, start)


def test_an_order_whose_notice_never_came_is_settled_once(client, standin, live_campaign,
                                                         donor):
    payment = start(live_campaign, donor, 12_34)
    paid_at_wechat = mark_paid(standin.state, payment.out_trade_no)  # no notice is sent
    assert reconcile_pending_payments(older_than_seconds=0) == {"paid": 1}
    payment = fresh(Payment, payment.id)
    assert payment.state == PaymentState.paid
    assert payment.transaction_id == paid_at_wechat["transaction_id"]
    assert fresh(Campaign, live_campaign.id).raised_fen == 12_34
    notice = db.session.scalars(select(PaymentNotice)).one()
    assert (notice.source, notice.verdict) == ("query", NoticeVerdict.processed)
    # Running it again changes nothing; nor does the notice when it finally arrives.
    assert reconcile_pending_payments(older_than_seconds=0) == {}
    late_notice = notice_for(payment, transaction_id=paid_at_wechat["transaction_id"])
    assert acknowledged(post_notice(client, late_notice))
    assert ledger_count() == 1 and fresh(Campaign, live_campaign.id).donation_count == 1
    # the fee WeChat charged on the order (its bill), booked once, whichever way it was settled
    assert fee_count() == 1 and paid_at_wechat["fee"] == 7
    assert balance(CHANNEL_FEES) == paid_at_wechat["fee"]
    assert verify() == []


def test_recent_and_unpaid_orders_are_left_alone(standin, live_campaign, donor):
    payment = start(live_campaign, donor)
    assert reconcile_pending_payments() == {}  # younger than the threshold: not even asked
    assert reconcile_pending_payments(older_than_seconds=0) == {"pending": 1}
    assert fresh(Payment, payment.id).state == PaymentState.pending
    assert standin.state.orders[payment.out_trade_no]["trade_state"] == "NOTPAY"


def test_expired_orders_are_closed_here_and_at_wechat(standin, live_campaign, donor):
    payment = start(live_campaign, donor)
    db.session.execute(update(Payment).where(Payment.id == payment.id)
                       .values(expires_at=utcnow()))
    db.session.commit()
    assert reconcile_pending_payments(older_than_seconds=0) == {"closed": 1}
    assert fresh(Payment, payment.id).state == PaymentState.closed
    assert standin.state.orders[payment.out_trade_no]["trade_state"] == "CLOSED"
    assert mark_paid(standin.state, payment.out_trade_no) is None  # can no longer be paid
    assert reconcile_pending_payments(older_than_seconds=0) == {}
    assert ledger_count() == 0 and verify() == []


def test_a_notice_for_a_closed_order_still_records_the_money(client, live_campaign, donor):
    payment = start(live_campaign, donor, 40_00)
    db.session.execute(update(Payment).where(Payment.id == payment.id)
                       .values(state=PaymentState.closed))
    db.session.commit()
    assert acknowledged(post_notice(client, notice_for(payment)))
    assert fresh(Payment, payment.id).state == PaymentState.paid
    assert fresh(Campaign, live_campaign.id).raised_fen == 40_00
    assert verify() == []


def test_reconciliation_runs_as_a_queued_job(standin, run_jobs, live_campaign, donor):
    payment = start(live_campaign, donor)
    mark_paid(standin.state, payment.out_trade_no)
    jobs.enqueue(reconcile_pending_payments, 0, queue="payments")
    run_jobs()
    assert fresh(Payment, payment.id).state == PaymentState.paid
    assert verify() == []


def test_the_payers_page_asks_wechat_when_the_notice_is_slow(app, standin, donor_client,
                                                              live_campaign, donor):
    payment = start(live_campaign, donor)
    mark_paid(standin.state, payment.out_trade_no)
    url = f"/api/v1/payments/{payment.out_trade_no}"
    assert donor_client.get(url).json["paid"] is False  # too fresh to bother WeChat
    app.config["PAYMENT_CHECK_INTERVAL_SECONDS"] = 0
    try:
        assert donor_client.get(url).json["paid"] is True
    finally:
        app.config.pop("PAYMENT_CHECK_INTERVAL_SECONDS")
    assert ledger_count() == 1 and verify() == []


def test_periodic_jobs_name_the_reconciliation():
    assert (reconcile_pending_payments, 300, "payments") in PERIODIC_JOBS
