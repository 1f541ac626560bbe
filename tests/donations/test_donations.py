"""The donate panel, amounts and blessings, the public list (keyset pages), ledger page,
thank-you page, and the campaign ending at its target."""
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.campaigns.models import Campaign, CampaignStatus
from app.donations.models import Donation
from app.donations.queries import decode_cursor, paid_donations
from app.donations.services import DonationError, clean_blessing, parse_amount
from app.extensions import db
from app.ledger.verify import verify
from app.models_base import as_utc, utcnow
from app.payments.models import Payment, PaymentState
from tests.factories import CampaignFactory, UserFactory
from tests.payments.helpers import acknowledged, fresh, notice_for, post_notice, start


def pay(client, payment):
    assert acknowledged(post_notice(client, notice_for(payment)))


@pytest.mark.parametrize("preset, custom, fen", [
    ("10", "", 10_00), ("200", None, 200_00), ("20", "66.6", 66_60), ("", "1", 1_00),
    ("", "50,000", 5_000_000), ("", " 8.08 ", 8_08), ("", "１０", 10_00), ("", "²", None), ("", "0.999", None),
    ("", "50000.01", None), ("", "0", None), ("", "", None), ("", "1e2", None),
])
def test_amounts_are_parsed_without_floats(preset, custom, fen):
    if fen is None:
        with pytest.raises(DonationError):
            parse_amount(preset, custom)
    else:
        assert parse_amount(preset, custom) == fen


def test_blessings_are_trimmed_and_limited():
    assert clean_blessing("  早日康复\x00\u202e！ ") == "早日康复！"
    assert clean_blessing("加" * 100) == "加" * 100
    with pytest.raises(DonationError):
        clean_blessing("加" * 101)


def test_the_panel_offers_presets_and_a_fresh_checkout(donor_client, live_campaign):
    html = donor_client.get(f"/c/{live_campaign.id}").get_data(as_text=True)
    for label in ("10 元", "20 元", "50 元", "100 元", "200 元", "其他金额", "匿名捐款"):
        assert label in html
    assert 'value="20" checked' in html and "平台不收取服务费" in html
    # WeChat's fee on the chosen amount is shown before paying: 0.6% of ¥20
    assert "微信支付通道费 <strong data-fee-amount>¥0.12</strong>（0.6%，由微信支付收取）" in html
    assert "相助不收取任何服务费" in html
    assert 'data-fee-fen="60" value="100"' in html  # each preset's fee, for the page's script


def test_the_list_shows_masked_names_amounts_blessings_newest_first(client, live_campaign):
    alice, bob = UserFactory(nickname="张三丰"), UserFactory(nickname="李四")
    first = start(live_campaign, alice, 10_00, blessing="加油！")
    second = start(live_campaign, bob, 20_00, anonymous=True, blessing="<b>早日康复</b>")
    unpaid = start(live_campaign, bob, 30_00, blessing="不应出现")
    pay(client, first)
    pay(client, second)
    html = client.get(f"/c/{live_campaign.id}").get_data(as_text=True)
    assert "张**" in html and "张三丰" not in html and "李四" not in html
    assert "匿名" in html and "&lt;b&gt;早日康复&lt;/b&gt;" in html
    assert "不应出现" not in html and unpaid
    data = client.get(f"/api/v1/campaigns/{live_campaign.id}/donations").json
    assert [(d["name"], d["amount_fen"], d["blessing"]) for d in data["donations"]] == [
        ("匿名", 20_00, "<b>早日康复</b>"), ("张**", 10_00, "加油！")]
    assert data["next_cursor"] is None


def test_the_list_pages_by_keyset(client, live_campaign, donor):
    now = utcnow()
    rows = [Donation(campaign_id=live_campaign.id, user_id=donor.id, amount_fen=100 + i,
                     paid_at=now - timedelta(seconds=i // 2)) for i in range(45)]
    db.session.add_all(rows)  # pairs share a paid_at: the id breaks the tie
    db.session.commit()
    seen, cursor, pages = [], None, 0
    while True:
        page, cursor = paid_donations(live_campaign.id, cursor, limit=20)
        seen += [row.amount_fen for row in page]
        pages += 1
        if cursor is None:
            break
    assert pages == 3 and sorted(seen) == sorted(r.amount_fen for r in rows)
    assert len(set(seen)) == 45
    first = client.get(f"/api/v1/campaigns/{live_campaign.id}/donations").json
    second = client.get(f"/api/v1/campaigns/{live_campaign.id}/donations",
                        query_string={"cursor": first["next_cursor"]}).json
    assert len(first["donations"]) == 20 and len(second["donations"]) == 20
    assert not {d["id"] for d in first["donations"]} & {d["id"] for d in second["donations"]}
    page = client.get(f"/c/{live_campaign.id}/donations",
                      query_string={"cursor": first["next_cursor"]})
    assert page.status_code == 200 and "下一页" in page.get_data(as_text=True)


@pytest.mark.parametrize("cursor", ["x", "1.", ".1", "1.2.3", "9" * 30 + ".1"])
def test_bad_cursors_are_a_400(client, live_campaign, cursor):
    response = client.get(f"/api/v1/campaigns/{live_campaign.id}/donations",
                          query_string={"cursor": cursor})
    assert response.status_code == 400
    with pytest.raises(ValueError):
        decode_cursor(cursor)


def test_unpublished_campaigns_have_no_public_lists(client, patient):
    draft = CampaignFactory(organizer=patient)
    for url in (f"/c/{draft.id}/ledger", f"/c/{draft.id}/donations",
                f"/api/v1/campaigns/{draft.id}/donations", "/c/999999/ledger"):
        assert client.get(url).status_code == 404


def test_the_ledger_page_lists_every_custodial_entry(client, live_campaign, donor):
    for fen in (10_00, 20_00, 30_00):
        pay(client, start(live_campaign, donor, fen))
    html = client.get(f"/c/{live_campaign.id}/ledger").get_data(as_text=True)
    assert "¥59.64" in html and html.count("爱心捐款 · 微信支付") == 3
    assert "+10" in html and "+20" in html and "+30" in html
    # WeChat's fee on each donation is its own line (0.6%: 6, 12 and 18 fen)
    assert html.count("微信支付通道费（由微信支付收取）") == 3
    assert "-0.06" in html and "-0.12" in html and "-0.18" in html


def test_the_thank_you_page_is_the_donors_and_waits_for_payment(app, client, donor_client,
                                                                live_campaign, donor):
    payment = start(live_campaign, donor, 25_00, blessing="平安")
    donation_id = payment.payable_id
    response = donor_client.get(f"/donations/{donation_id}/thanks")
    assert response.status_code == 302 and payment.out_trade_no in response.headers["Location"]
    pay(client, payment)
    html = donor_client.get(f"/donations/{donation_id}/thanks").get_data(as_text=True)
    assert "感谢您的爱心" in html and "25" in html and "平安" in html
    assert app.test_client(user=UserFactory()).get(
        f"/donations/{donation_id}/thanks").status_code == 404


def test_reaching_the_target_ends_the_campaign_in_the_payment_s_own_commit(client, live_campaign,
                                                                           donor):
    """No moment in which the filling donation is committed but the campaign still live: after
    every commit, read on a connection of its own, a paid second payment means an ended
    campaign, with its event recorded at the payment's time."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from app.campaigns.models import CampaignEvent

    seen_after_commits = set()
    watched = {}

    def after_commit(session):
        with db.engine.connect() as other:
            state = other.execute(select(Payment.state).where(
                Payment.id == watched["payment"])).scalar_one()
            status = other.execute(select(Campaign.status).where(
                Campaign.id == watched["campaign"])).scalar_one()
            seen_after_commits.add((state, status))

    db.session.execute(update(Campaign).where(Campaign.id == live_campaign.id)
                       .values(target_fen=100_00))
    db.session.commit()
    first = start(live_campaign, donor, 60_00)
    second = start(live_campaign, donor, 60_00)
    pay(client, first)
    assert fresh(Campaign, live_campaign.id).status == CampaignStatus.live
    watched.update(payment=second.id, campaign=live_campaign.id)
    event.listen(Session, "after_commit", after_commit)
    try:
        pay(client, second)
    finally:
        event.remove(Session, "after_commit", after_commit)
    assert {status for state, status in seen_after_commits if state == PaymentState.paid} == {
        CampaignStatus.ended}
    campaign = fresh(Campaign, live_campaign.id)
    assert campaign.status == CampaignStatus.ended and campaign.raised_fen == 120_00
    ended = db.session.scalars(select(CampaignEvent).where(
        CampaignEvent.campaign_id == campaign.id, CampaignEvent.to_status == "ended")).one()
    assert ended.reason == "已筹满目标金额" and ended.from_status == "live"
    assert as_utc(campaign.ended_at) == as_utc(fresh(Payment, second.id).paid_at)
    with pytest.raises(DonationError):
        start(live_campaign, donor, 10_00)
    assert verify() == []


def test_donation_paid_is_signalled_once_after_the_commit(client, live_campaign, donor):
    from app.donations.signals import donation_paid

    seen = []

    def listener(sender, **payload):
        db.session.rollback()  # the payment is committed: a listener cannot undo it
        seen.append(payload)

    def broken(sender, **payload):
        raise RuntimeError("a listener's bug")

    donation_paid.connect(listener)
    donation_paid.connect(broken)
    try:
        payment = start(live_campaign, donor, 18_00)
        body = notice_for(payment)
        for _ in range(3):  # a broken listener still leaves the reply SUCCESS
            assert acknowledged(post_notice(client, body))
    finally:
        donation_paid.disconnect(listener)
        donation_paid.disconnect(broken)
    assert seen == [{"donation_id": payment.payable_id, "campaign_id": live_campaign.id,
                     "user_id": donor.id, "amount_fen": 18_00, "late": False}]
    assert fresh(Campaign, live_campaign.id).raised_fen == 18_00
    assert verify() == []
