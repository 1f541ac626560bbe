"""An uncached campaign page costs at most MAX_ROUND_TRIPS statements to the database, whatever
the campaign's size: counted with SQLAlchemy's before_cursor_execute event on a campaign with
donations, updates (one with a photo), attestations, a verified payee, a paid withdrawal with a
receipt, and an organizer with a pledge on an earlier campaign — then counted again after the
campaign has grown, and the count must not move. A count, not a time. (The event sees the
statements; on PostgreSQL the connection's implicit BEGIN and the pool's pre-ping are a round
trip each beside them, whatever the page.) Today: the campaign with its photos and the page's
one statement (app/campaigns/page_data.py) for everyone; a signed-in person's account and
whether they muted the campaign besides."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event, insert

from app.campaigns import page_cache, trust
from app.campaigns.photos import process_image
from app.campaigns.services import end_campaign
from app.donations.models import Donation
from app.extensions import db
from app.models_base import utcnow
from app.payouts import withdrawals
from app.pledges import services as pledges
from tests.campaigns.images import jpeg_bytes
from tests.clock import days_ahead
from tests.factories import UserFactory
from tests.payouts.helpers import donate, invoice, pay_out, verified_campaign

MAX_ROUND_TRIPS = 5


@contextmanager
def statements():
    """Every statement sent to the database meanwhile (each one round trip), as SQL text."""
    sent: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.fixture()
def finance(db):
    from app.auth.models import StaffRole
    from tests.factories import StaffFactory

    return StaffFactory(role=StaffRole.finance, display_name="财务小李")


@pytest.fixture()
def busy_campaign(app, client, patient, staff, finance, run_jobs):
    """A live campaign with something in every section of its page."""
    earlier = verified_campaign(patient, staff, finance, title="去年的筹款：小明的化疗")
    donate(client, earlier, UserFactory(nickname="老朋友"), 500_00)
    end_campaign(earlier, "筹款期限已到", by_staff=staff)
    pledges.create_pledge(earlier.id, patient, total_fen=300_00, schedule="monthly",
                          instalments=2, first_due=days_ahead(44), destination="donors",
                          words="谢谢大家，我会努力回报。")
    campaign = verified_campaign(patient, staff, finance)
    donors = [UserFactory(nickname=f"爱心人士{i}") for i in range(4)]
    for i, donor in enumerate(donors):
        donate(client, campaign, donor, (i + 1) * 300_00)
    withdrawal = withdrawals.request_withdrawal(campaign.id, patient, 800_00, "支付住院押金",
                                                invoices=[invoice()])
    pay_out(withdrawal.id, staff, finance, "票据与金额一致")
    run_jobs()
    trust.post_update(campaign.id, patient, "第一次化疗结束，孩子状态不错。")
    trust.post_update(campaign.id, patient, "感谢大家，今天转入无菌病房。",
                      [process_image(jpeg_bytes((320, 240)))])
    for i, (donor, relation) in enumerate(zip(donors, ("relative", "friend", "colleague"))):
        trust.attest(campaign.id, donor, relation, f"我是患者的{relation}，情况属实{i}。")
    grow(campaign, donors, 30)
    db.session.expire_all()
    return campaign


def grow(campaign, donors, count: int) -> None:
    """`count` more paid donations, written as rows (the page reads donations, never sums them)."""
    now = utcnow()
    db.session.execute(insert(Donation), [
        {"campaign_id": campaign.id, "user_id": donors[i % len(donors)].id, "amount_fen": 100,
         "blessing": "加油" if i % 2 else "", "anonymous": i % 5 == 0,
         "paid_at": now - timedelta(seconds=i)} for i in range(count)])
    campaign.donation_count += count
    campaign.raised_fen += 100 * count
    db.session.commit()


def funnel_step(statement: str) -> bool:
    """The view's funnel step, recorded after the page is rendered: an RPUSH to Redis in
    production, written at once (with synchronous_commit off) where the tests run it."""
    return "mutual_aid_funnel_events" in statement or "synchronous_commit" in statement


def render(client, campaign_id: int) -> tuple[str, list[str]]:
    """The page as `client` gets it, and the statements its rendering sent."""
    db.session.expire_all()   # nothing the page reads is already in the session
    with statements() as sent:
        reply = client.get(f"/c/{campaign_id}")
    assert reply.status_code == 200
    assert sum(map(funnel_step, sent)) <= 2
    return reply.get_data(as_text=True), [s for s in sent if not funnel_step(s)]


def test_the_page_is_a_few_round_trips_whatever_its_size(app, busy_campaign, patient):
    page_cache.clear()
    campaign_id = busy_campaign.id
    html, sent = render(app.test_client(), campaign_id)
    for text in ("提现记录 <small>1 笔</small>", "3 人证实", "感谢大家，今天转入无菌病房",
                 "第一次化疗结束", "发起人过往的诺言", "医院对公账户", "34 次",
                 'class="verified-chip"'):
        assert text in html
    assert len(sent) <= MAX_ROUND_TRIPS, "\n\n".join(sent)

    grow(db.session.get(type(busy_campaign), campaign_id), [patient], 200)
    more = UserFactory(nickname="新朋友")
    trust.attest(campaign_id, more, "neighbour", "我是患者的邻居，情况属实。")
    trust.post_update(campaign_id, patient, "第二次化疗也很顺利，谢谢大家。",
                      [process_image(jpeg_bytes((200, 150)))])
    html, grown = render(app.test_client(), campaign_id)
    assert "234 次" in html and "4 人证实" in html and "第二次化疗也很顺利" in html
    assert len(grown) == len(sent), "\n\n".join(grown)


def test_a_signed_in_donor_too(app, busy_campaign, donor):
    """Their account and whether they muted the campaign are theirs; the rest is shared."""
    html, sent = render(app.test_client(user=donor), busy_campaign.id)
    assert 'name="checkout_key"' in html and "3 人证实" in html
    assert len(sent) <= MAX_ROUND_TRIPS, "\n\n".join(sent)
