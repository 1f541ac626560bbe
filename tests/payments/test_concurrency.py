"""Concurrent notices and donations: counted exactly once, totals exact.

Meant for PostgreSQL (DATABASE_URL), where the row lock is what keeps duplicates out; they run on
SQLite too, where the database serializes writers.
"""
import random
import secrets
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import func, select

from app.auth.models import User
from app.campaigns.models import Campaign
from app.extensions import db
from app.ledger.services import CHANNEL_FEES, CLEARING_WECHAT, balance, campaign_custody
from app.ledger.verify import verify
from app.payments.models import NoticeVerdict, Payment, PaymentNotice, PaymentState
from tests.factories import UserFactory
from tests.payments.helpers import fee_count, fee_of, fresh, ledger_count, notice_for, start


def test_the_same_notice_10_times_at_once_counts_once(live_server, standin, live_campaign,
                                                       donor):
    payment = start(live_campaign, donor, 99_00)
    response = requests.post(
        f"{standin.base_url}standin/pay/{payment.out_trade_no}/notify?copies=10", timeout=30)
    assert response.json()["acknowledged"] == [True] * 10
    payment = fresh(Payment, payment.id)
    assert payment.state == PaymentState.paid
    assert ledger_count(payment.out_trade_no) == 1 and fee_count(payment.out_trade_no) == 1
    assert balance(CHANNEL_FEES) == fee_of(99_00)
    campaign = fresh(Campaign, live_campaign.id)
    assert (campaign.raised_fen, campaign.donation_count) == (99_00, 1)
    verdicts = sorted(v.value for v in db.session.scalars(
        select(PaymentNotice.verdict).where(PaymentNotice.out_trade_no == payment.out_trade_no)))
    assert verdicts == ["duplicate"] * 9 + ["processed"]
    assert verify() == []


def test_100_concurrent_donations_to_one_campaign_give_exact_totals(app, live_server,
                                                                    live_campaign):
    if db.engine.dialect.name == "sqlite":
        pytest.skip("SQLite lets one writer in at a time and starves the rest past its busy "
                    "timeout under 20 threads; run with DATABASE_URL=postgresql+psycopg://…")
    donors = [UserFactory().id for _ in range(10)]
    rng = random.Random(20261128)
    amounts = [rng.choice([10_00, 20_00, 50_00, 100_00, 200_00, rng.randint(100, 2_000_00)])
               for _ in range(100)]  # below the target: the campaign stays live throughout
    campaign_id = live_campaign.id
    session = requests.Session()

    def donate(i: int) -> bool:
        with app.app_context():
            try:
                user = db.session.get(User, donors[i % len(donors)])
                payment = start(campaign_id, user, amounts[i], form_key=secrets.token_hex(16))
                body = notice_for(payment)
            finally:
                db.session.remove()
        copies = 2 if i % 5 == 0 else 1  # 20% of the notices arrive twice
        replies = [session.post(f"{live_server}/wechat/pay/notify", data=body, timeout=30)
                   for _ in range(copies)]
        return all(b"SUCCESS" in r.content for r in replies)

    with ThreadPoolExecutor(max_workers=20) as pool:
        acknowledged = list(pool.map(donate, range(100)))
    assert all(acknowledged)
    campaign = fresh(Campaign, campaign_id)
    assert campaign.raised_fen == sum(amounts)
    assert campaign.donation_count == 100
    fees = sum(fee_of(amount) for amount in amounts)  # each order's fee, rounded on its own
    assert balance(campaign_custody(campaign_id)) == sum(amounts) - fees
    assert balance(CLEARING_WECHAT) == -sum(amounts)
    assert balance(CHANNEL_FEES) == fees
    assert ledger_count() == 100 and fee_count() == 100
    assert db.session.scalar(select(func.count()).select_from(Payment)
                             .where(Payment.state == PaymentState.paid)) == 100
    assert db.session.scalar(select(func.count()).select_from(PaymentNotice).where(
        PaymentNotice.verdict == NoticeVerdict.duplicate)) == 20
    assert verify() == []
