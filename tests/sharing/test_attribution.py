"""Donations credited along the share chain; what sharers and organizers see."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.sharing import services, stats
from app.sharing.models import ShareAttribution, ShareChannel
from tests.sharing.conftest import Person, arrive, paid_donation, share


def credits(donation_id: int) -> list[tuple[int, int, int]]:
    rows = db.session.scalars(select(ShareAttribution).where(
        ShareAttribution.donation_id == donation_id).order_by(ShareAttribution.level))
    return [(row.share_id, row.level, row.amount_fen) for row in rows]


def chain(campaign, organizer, person):
    """organizer → 大姐 → 同事 (three levels of links), and a donor who arrives by poster."""
    a = share(campaign, organizer)
    sister = person("大姐")
    arrive(a, sister)
    b = share(campaign, sister)
    colleague = person("同事")
    arrive(b, colleague, ShareChannel.moments)
    c = share(campaign, colleague)
    return a, b, c, sister, colleague


def test_a_donation_is_credited_to_its_link_and_every_ancestor(live_campaign, patient, person):
    organizer = Person(patient.id)
    a, b, c, sister, colleague = chain(live_campaign, organizer, person)
    donor = person("路人")
    arrive(c, donor, ShareChannel.poster)
    donation = paid_donation(live_campaign, donor, 100_00)

    assert services.attribute_donation(donation.id) == 3
    assert credits(donation.id) == [(c.id, 0, 100_00), (b.id, 1, 100_00), (a.id, 2, 100_00)]
    assert services.attribute_donation(donation.id) == 0          # idempotent
    assert len(credits(donation.id)) == 3

    top = stats.sharer_stats(live_campaign.id, organizer.user_id, None)
    assert (top.visits, top.visits_total, top.donations, top.amount_fen) == (1, 3, 1, 100_00)
    assert (top.direct_donations, top.reach, top.resharers) == (0, 2, 2)
    mid = stats.sharer_stats(live_campaign.id, colleague.user_id, None)
    assert (mid.visits, mid.direct_donations, mid.direct_amount_fen, mid.reach) == (1, 1, 100_00, 0)

    ranking = stats.ambassador_ranking(live_campaign.id)
    assert {row.name: row.amount_fen for row in ranking} == \
        {"小明妈妈": 100_00, "大姐": 100_00, "同事": 100_00}
    assert ranking[-1].name == "同事"      # same money: fewer people brought in ranks lower
    assert {row.name: row.resharers for row in ranking} == {"小明妈妈": 1, "大姐": 1, "同事": 0}
    by_channel = {row.channel: row for row in stats.channel_breakdown(live_campaign.id)}
    assert by_channel[ShareChannel.poster].donations == 1
    assert by_channel[ShareChannel.poster].amount_fen == 100_00
    assert by_channel[ShareChannel.moments].visits == 1
    assert by_channel[ShareChannel.chat].visits == 1 and by_channel[ShareChannel.chat].donations == 0


def test_the_latest_visit_before_paying_wins(live_campaign, patient, person):
    a, b, c, *_ = chain(live_campaign, Person(patient.id), person)
    donor = person("路人")
    arrive(c, donor)
    arrive(a, donor)
    donation = paid_donation(live_campaign, donor, 20_00)
    services.attribute_donation(donation.id)
    assert credits(donation.id) == [(a.id, 0, 20_00)]


def test_no_visit_no_credit_and_unpaid_donations_are_ignored(live_campaign, patient, person):
    from app.donations.models import Donation

    share(live_campaign, Person(patient.id))
    walk_in = paid_donation(live_campaign, person("直接来的"), 50_00)
    assert services.attribute_donation(walk_in.id) == 0
    unpaid = Donation(campaign_id=live_campaign.id, user_id=walk_in.user_id, amount_fen=10_00)
    db.session.add(unpaid)
    db.session.commit()
    assert services.attribute_donation(unpaid.id) == 0
    assert services.attribute_donation(999_999) == 0


def test_nobody_is_credited_for_their_own_donation(live_campaign, patient, person):
    organizer = Person(patient.id)
    a, b, c, sister, colleague = chain(live_campaign, organizer, person)
    arrive(c, sister)                          # 大姐 comes back through 同事's link and gives
    donation = paid_donation(live_campaign, sister, 30_00)
    services.attribute_donation(donation.id)
    assert credits(donation.id) == [(c.id, 0, 30_00), (a.id, 2, 30_00)]


def test_an_anonymous_visit_counts_once_the_visitor_signs_in(app, live_campaign, patient, donor):
    from app.sharing.views import VISITOR_COOKIE

    link = share(live_campaign, Person(patient.id))
    browser = app.test_client()
    browser.get(f"/s/{link.token}/f")
    cookie = browser.get_cookie(VISITOR_COOKIE).value
    signed_in = app.test_client(user=donor)
    signed_in.set_cookie(VISITOR_COOKIE, cookie)
    signed_in.get(f"/c/{live_campaign.id}")        # any page: the visitor is linked once
    donation = paid_donation(live_campaign, Person(donor.id), 88_00)
    assert services.attribute_donation(donation.id) == 1
    # The hook may also be given the cookie directly.
    other = paid_donation(live_campaign, Person(None), 1_00)
    assert services.attribute_donation(other.id, visitor_id=cookie) == 1


def test_sharer_and_organizer_pages(app, live_campaign, patient, person, donor):
    organizer = Person(patient.id)
    a, b, c, sister, colleague = chain(live_campaign, organizer, person)
    buyer = person("路人")
    arrive(c, buyer, ShareChannel.desktop_qr)
    services.attribute_donation(paid_donation(live_campaign, buyer, 66_00).id)

    owner = app.test_client(user=patient)
    page = owner.get(f"/c/{live_campaign.id}/ambassadors")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for text in ("爱心大使榜", "大姐", "同事", "电脑扫码", "朋友圈", "¥66"):
        assert text in html
    assert app.test_client(user=donor).get(f"/c/{live_campaign.id}/ambassadors").status_code \
        == 404
    assert app.test_client().get(f"/c/{live_campaign.id}/ambassadors").status_code == 302

    mine = owner.get(f"/c/{live_campaign.id}/share").get_data(as_text=True)
    assert "我的转发成绩" in mine and "¥66" in mine and "传播层数" in mine
    nobody = app.test_client().get(f"/c/{live_campaign.id}/share").get_data(as_text=True)
    assert "你还没有转发过这个筹款" in nobody


def test_paid_signal_and_catch_up_command_credit_shares(app, live_campaign, patient, person,
                                                        run_jobs):
    from app.sharing import tasks

    link = share(live_campaign, Person(patient.id))
    first, second = person("甲"), person("乙")
    arrive(link, first)
    arrive(link, second)
    one = paid_donation(live_campaign, first, 10_00)
    tasks.on_donation_paid(app, donation_id=one.id)     # what donation_paid.send(...) calls
    run_jobs()
    assert credits(one.id) == [(link.id, 0, 10_00)]

    two = paid_donation(live_campaign, second, 20_00)    # its signal was lost
    result = app.test_cli_runner().invoke(args=["sharing", "attribute-donations"])
    assert result.exit_code == 0, result.output
    assert "1 of 1 donations newly attributed" in result.output
    assert credits(two.id) == [(link.id, 0, 20_00)]


def test_sharing_listens_to_the_donation_paid_signal(app, monkeypatch, live_campaign, patient,
                                                     person, run_jobs):
    """The contract with donations: `app.donations.signals.donation_paid`, a blinker signal
    sent with donation_id= once the payment has committed."""
    from app.donations.signals import send_donation_paid

    link = share(live_campaign, Person(patient.id))
    giver = person("丙")
    arrive(link, giver, ShareChannel.desktop_qr)
    donation = paid_donation(live_campaign, giver, 5_00)
    send_donation_paid(app, donation_id=donation.id, campaign_id=live_campaign.id,
                       user_id=giver.user_id, amount_fen=5_00, late=False)
    run_jobs()
    assert credits(donation.id) == [(link.id, 0, 5_00)]


def test_a_paid_donation_signalled_by_donations_is_credited(app, live_campaign, patient,
                                                            person, run_jobs):
    from app.donations.signals import send_donation_paid

    link = share(live_campaign, Person(patient.id))
    giver = person("丁")
    arrive(link, giver, ShareChannel.moments)
    donation = paid_donation(live_campaign, giver, 7_00)
    send_donation_paid(app, donation_id=donation.id, campaign_id=live_campaign.id,
                       user_id=giver.user_id, amount_fen=7_00, late=False)
    run_jobs()
    assert credits(donation.id) == [(link.id, 0, 7_00)]
