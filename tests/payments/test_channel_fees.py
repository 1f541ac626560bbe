"""No hidden fees: WeChat Pay's channel fee is computed per order (rounded half up to the fen),
shown before paying, stored on the payment, booked once as its own ledger transaction in the
confirming commit, and checked by `ledger verify`."""
import secrets
from decimal import ROUND_HALF_UP, Decimal

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.campaigns.models import Campaign
from app.extensions import db
from app.ledger.models import LedgerTransaction
from app.ledger.services import (CHANNEL_FEES, CLEARING_WECHAT, PLATFORM_FEE_SUBSIDY, Leg,
                                 Posting, balance, campaign_custody, post, post_many)
from app.ledger.verify import verify
from app.payments.fees import channel_fee, check_rate, fee_returned, refund_for_net
from app.payments.models import Payment
from tests.factories import UserFactory
from tests.payments.helpers import (acknowledged, fee_count, fresh, ledger_count, notice_for,
                                    post_notice, start)


def _half_up(amount: int, rate_bp: int) -> int:
    return int((Decimal(amount) * rate_bp / 10000).quantize(Decimal(1), ROUND_HALF_UP))


# --- the arithmetic ---------------------------------------------------------------------------

@pytest.mark.parametrize("amount, rate, fee", [
    (1, 60, 0),              # one fen: 0.006 fen rounds to nothing
    (83, 60, 0),             # 0.498
    (84, 60, 1),             # 0.504
    (250, 60, 2),            # exactly 1.5: half up
    (750, 60, 5),            # exactly 4.5: half up, not to even
    (20_00, 60, 12),
    (88_00, 60, 53),         # 52.8
    (50_000_00, 60, 300_00),
    (5, 1000, 1),            # 0.5 at the highest rate allowed
    (12_345_67, 0, 0),       # a fee-free merchant
    (3_333, 25, 8),          # 8.3325
])
def test_the_fee_is_the_rate_rounded_half_up_to_the_fen(amount, rate, fee):
    assert channel_fee(amount, rate) == fee == _half_up(amount, rate)


@pytest.mark.parametrize("rate", [-1, 1001, 0.6, "60", None])
def test_a_rate_that_is_not_basis_points_is_refused(rate):
    with pytest.raises(ValueError):
        check_rate(rate)


@given(st.integers(1, 5_000_000), st.integers(0, 1000))
def test_fee_arithmetic_matches_decimal_and_refunds_return_it_exactly(amount, rate):
    fee = channel_fee(amount, rate)
    assert fee == _half_up(amount, rate) and 0 <= fee <= amount
    assert fee_returned(amount, amount, fee) == fee and fee_returned(0, amount, fee) == 0
    net = amount - fee
    for share in {0, 1, net // 3, net // 2, net - 1, net} - {-1}:
        refund = refund_for_net(share, amount, fee)
        assert refund - fee_returned(refund, amount, fee) == share  # custody pays exactly that
        assert share <= refund <= amount
        if refund < amount:  # the donor gets the most that costs custody no more
            assert refund + 1 - fee_returned(refund + 1, amount, fee) > share


# --- booked once, its own entry ---------------------------------------------------------------

def _bill(standin, out_trade_no: str) -> dict:
    return requests.get(f"{standin.base_url}standin/pay/{out_trade_no}/bill", timeout=5).json()


def test_ten_concurrent_copies_of_a_notice_book_the_fee_once(live_server, standin,
                                                              live_campaign, donor):
    payment = start(live_campaign, donor, 2_50)  # 1.5 fen of fee: rounds up to 2
    assert payment.channel_fee_fen == 2 and payment.channel_fee_bp == 60
    reply = requests.post(f"{standin.base_url}standin/pay/{payment.out_trade_no}/notify"
                          "?copies=10", timeout=30).json()
    assert reply["acknowledged"] == [True] * 10
    assert ledger_count(payment.out_trade_no) == 1 and fee_count(payment.out_trade_no) == 1
    assert _bill(standin, payment.out_trade_no)["fee"] == 2 == balance(CHANNEL_FEES)
    assert balance(campaign_custody(live_campaign.id)) == 2_48
    assert fresh(Campaign, live_campaign.id).raised_fen == 2_50  # what the donor gave
    fee_txn = db.session.scalars(select(LedgerTransaction).where(
        LedgerTransaction.source_type == "channel_fee")).one()
    assert fee_txn.source_ref == payment.out_trade_no
    assert sorted((e.account.code, e.amount_fen) for e in fee_txn.entries) == [
        (campaign_custody(live_campaign.id), -2), (CHANNEL_FEES, 2)]
    assert verify() == []


def test_replayed_notices_book_the_fee_once(client, standin, live_campaign, donor):
    payment = start(live_campaign, donor, 1_00)  # the smallest donation: 0.6 fen → 1 fen
    paid = requests.post(f"{standin.base_url}standin/pay/{payment.out_trade_no}/pay",
                         timeout=5).json()
    body = notice_for(payment, transaction_id=paid["transaction_id"])
    assert all(acknowledged(post_notice(client, body)) for _ in range(5))
    assert fee_count() == 1 and balance(CHANNEL_FEES) == 1 == _bill(standin,
                                                                     payment.out_trade_no)["fee"]
    assert balance(campaign_custody(live_campaign.id)) == 99
    assert balance(CLEARING_WECHAT) == -1_00
    assert verify() == []


def test_rate_zero_books_no_fee_transaction(app, client, standin, live_campaign, donor,
                                            monkeypatch):
    monkeypatch.setitem(app.config, "PAYMENT_CHANNEL_FEE_BP", 0)
    monkeypatch.setitem(standin.wsgi_app.config, "CHANNEL_FEE_BP", 0)
    payment = start(live_campaign, donor, 88_00)
    assert (payment.channel_fee_bp, payment.channel_fee_fen) == (0, 0)
    assert acknowledged(post_notice(client, notice_for(payment)))
    assert fee_count() == 0 and ledger_count() == 1
    assert balance(campaign_custody(live_campaign.id)) == 88_00
    assert verify() == []


def test_the_fee_shown_at_checkout_is_the_fee_booked(app, client, live_campaign, donor,
                                                     monkeypatch):
    payment = start(live_campaign, donor, 100_00)  # ordered at 0.6%: ¥0.60 shown
    monkeypatch.setitem(app.config, "PAYMENT_CHANNEL_FEE_BP", 20)  # the rate changes meanwhile
    assert acknowledged(post_notice(client, notice_for(payment)))
    assert balance(CHANNEL_FEES) == 60 and verify() == []


def test_a_payable_owed_in_full_has_its_fee_borne_by_the_platform(client, db, run_jobs):
    from app.auth.models import User
    from app.mutual_aid import services, shares
    from tests.mutual_aid.conftest import announce, members, owe

    plan = services.seed_demo_plan()
    person = members(plan, 1)[0]
    owe(plan, 200_00)
    announce(plan, run_jobs)
    share = shares.start_share_payment(db.session.get(User, person.user_id), plan.id,
                                       secrets.token_hex(12), "NATIVE", "127.0.0.1")
    fee = share.channel_fee_fen
    assert fee > 0
    assert acknowledged(post_notice(client, notice_for(share)))
    assert balance(PLATFORM_FEE_SUBSIDY) == -fee and balance(CHANNEL_FEES) == fee
    assert verify() == []


# --- shown before paying ----------------------------------------------------------------------

def test_the_quote_and_the_order_show_the_fee(client, donor_client, live_campaign, donor):
    quote = client.get("/api/v1/payments/quote?amount_fen=250").json
    assert quote == {"amount_fen": 250, "channel_fee_fen": 2, "channel_fee_bp": 60,
                     "net_fen": 248, "service_fee_fen": 0}
    for bad in ("", "0", "-5", "1.5", "abc", "100000000001"):
        response = client.get(f"/api/v1/payments/quote?amount_fen={bad}")
        assert response.status_code == 400 and response.json["error"]["code"] == "amount_invalid"
    payment = start(live_campaign, donor, 50_00)
    status = donor_client.get(f"/api/v1/payments/{payment.out_trade_no}").json
    assert (status["amount_fen"], status["channel_fee_fen"], status["channel_fee_bp"]) == (
        50_00, 30, 60)
    page = donor_client.get(f"/pay/{payment.out_trade_no}").get_data(as_text=True)
    assert "微信支付通道费 ¥0.30（0.6%，由微信支付收取）· 相助不收取任何服务费" in page


def test_the_donate_page_shows_the_fee_for_a_refused_custom_amount_too(donor_client,
                                                                        live_campaign):
    page = donor_client.get(f"/c/{live_campaign.id}/donate").get_data(as_text=True)
    assert "¥0.12</strong>（0.6%，由微信支付收取）· 相助不收取任何服务费" in page
    assert 'data-fee-bp="60"' in page  # the page's script computes a custom amount's fee
    refused = donor_client.post(f"/c/{live_campaign.id}/donate",
                                data={"amount": "0.5", "checkout_key": secrets.token_hex(16)})
    assert refused.status_code == 422 and "按金额计" in refused.get_data(as_text=True)


def test_the_public_disclosure_shows_fees_as_their_own_line(client, live_campaign, donor):
    for amount in (20_00, 2_50):
        assert acknowledged(post_notice(client, notice_for(start(live_campaign, donor,
                                                                 amount))))
    page = client.get(f"/c/{live_campaign.id}").get_data(as_text=True)
    assert 'data-channel-fee="14"' in page and "微信支付通道费 ¥0.14" in page


# --- ledger verify ----------------------------------------------------------------------------

def _paid(client, campaign, donor, amount=20_00) -> Payment:
    payment = start(campaign, donor, amount)
    assert acknowledged(post_notice(client, notice_for(payment)))
    return fresh(Payment, payment.id)


def test_verify_catches_a_missing_fee(app, client, live_campaign, donor, monkeypatch):
    monkeypatch.setitem(app.config, "PAYMENT_CHANNEL_FEE_BP", 0)
    payment = _paid(client, live_campaign, donor)  # no fee, so no fee transaction
    db.session.execute(update(Payment).where(Payment.id == payment.id)
                       .values(channel_fee_bp=60, channel_fee_fen=12))
    assert f"[channel_fees] paid payment {payment.out_trade_no} has no channel fee " \
           f"transaction (12 fen)" in verify()
    db.session.rollback()
    assert verify() == []


def test_verify_catches_a_miscomputed_or_doubled_fee(client, live_campaign, donor):
    payment = _paid(client, live_campaign, donor)
    db.session.execute(update(Payment).where(Payment.id == payment.id)
                       .values(channel_fee_fen=13))
    problems = verify()
    assert f"[channel_fees] payment {payment.out_trade_no}: stored fee 13 fen ≠ 60 bp of " \
           f"2000 fen" in problems
    assert any("its fee transaction moves 12 fen" in line for line in problems)
    db.session.rollback()
    custody = campaign_custody(live_campaign.id)
    with pytest.raises(IntegrityError):  # the same fee twice: the database refuses it
        post_many([Posting("channel_fee", payment.out_trade_no,
                           [Leg(custody, -12), Leg(CHANNEL_FEES, 12)])])
    db.session.rollback()
    post("channel_fee", payment.out_trade_no + "-again", [Leg(custody, -12),
                                                          Leg(CHANNEL_FEES, 12)])
    post("adjustment", "fee-twice", [Leg(custody, -12), Leg(CHANNEL_FEES, 12)])
    problems = verify()
    assert f"[channel_fees] channel fee transaction for {payment.out_trade_no}-again names " \
           "no paid payment" in problems
    assert f"[channel_fees] {CHANNEL_FEES} has 12 fen from other than fee transactions" \
           in problems
    db.session.rollback()
    assert verify() == []
