"""`flask ledger verify`: exit 0 when everything agrees; name every disagreement and exit 1."""
from sqlalchemy import update

from app.campaigns.models import Campaign
from app.extensions import db
from app.ledger.services import CLEARING_WECHAT, Leg, campaign_custody, post
from app.payments.models import Payment, PaymentState
from tests.payments.helpers import acknowledged, notice_for, post_notice, start


def run_verify(app):
    return app.test_cli_runner().invoke(args=["ledger", "verify"])


def paid_donation(client, campaign, donor, fen=50_00):
    payment = start(campaign, donor, fen)
    assert acknowledged(post_notice(client, notice_for(payment)))
    return payment


def test_a_consistent_ledger_verifies(app, client, live_campaign, donor):
    paid_donation(client, live_campaign, donor)
    start(live_campaign, donor)  # an unpaid order is not an inconsistency
    result = run_verify(app)
    assert result.exit_code == 0, result.output
    assert "ledger verify: ok" in result.output


def test_a_tampered_cached_total_is_found(app, client, live_campaign, donor):
    paid_donation(client, live_campaign, donor)
    db.session.execute(update(Campaign).where(Campaign.id == live_campaign.id)
                       .values(raised_fen=Campaign.raised_fen + 1))
    db.session.commit()
    result = run_verify(app)
    assert result.exit_code == 1
    assert (f"campaign {live_campaign.id}: cached raised 5001 fen in 1 donations, "
            f"ledger says 5000 fen in 1") in result.output


def test_a_tampered_donation_count_is_found(app, client, live_campaign, donor):
    paid_donation(client, live_campaign, donor)
    db.session.execute(update(Campaign).values(donation_count=2))
    db.session.commit()
    assert run_verify(app).exit_code == 1


def test_a_paid_payment_without_its_transaction_is_found(app, live_campaign, donor):
    payment = start(live_campaign, donor)
    db.session.execute(update(Payment).where(Payment.id == payment.id)
                       .values(state=PaymentState.paid, transaction_id="4200forged"))
    db.session.commit()
    result = run_verify(app)
    assert result.exit_code == 1
    assert f"paid payment {payment.out_trade_no} has no ledger transaction" in result.output
    assert "payment is paid but the donation is not" in result.output


def test_a_transaction_without_its_payment_is_found(app, live_campaign):
    post("payment", "XZ_no_such_order", [Leg(CLEARING_WECHAT, -100),
                                         Leg(campaign_custody(live_campaign.id), 100)])
    db.session.commit()
    result = run_verify(app)
    assert result.exit_code == 1
    assert "names payment XZ_no_such_order, which is not paid" in result.output
    assert f"campaign {live_campaign.id}: cached raised 0 fen" in result.output
