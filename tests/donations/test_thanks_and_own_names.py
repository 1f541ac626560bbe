"""The thank-you page's one next step and who invited the donor; nobody sees their own name
masked on their own pages (the donor list, attestations), while others' names stay masked."""
from __future__ import annotations

import json

from app.campaigns import trust
from app.sharing.services import share_link_for
from tests.factories import UserFactory
from tests.payments.helpers import acknowledged, notice_for, post_notice, start


def _paid(client, campaign, user, amount_fen, **options):
    payment = start(campaign, user, amount_fen, **options)
    assert acknowledged(post_notice(client, notice_for(payment)))
    return payment


def _thanks(app, campaign, donor, payment) -> str:
    from app.donations.models import Donation
    from app.extensions import db

    donation = db.session.get(Donation, payment.payable_id)
    response = app.test_client(user=donor).get(f"/donations/{donation.id}/thanks")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_thank_you_page_names_who_invited_and_offers_one_next_step(app, client, live_campaign):
    teacher = UserFactory(nickname="热心的张老师")
    link = share_link_for(live_campaign, teacher.id, None)
    donor = UserFactory(nickname="阿杰")
    donor_client = app.test_client(user=donor)
    assert donor_client.get(f"/s/{link.token}/f").status_code == 302   # the friend's link
    html = _thanks(app, live_campaign, donor, _paid(client, live_campaign, donor, 50_00))

    assert "热心的张老师</strong>邀请你一起帮助 TA" in html
    step = html[html.index('class="card next-step'):]
    step = step[:step.index("</section>")]
    assert "下一步：转发给朋友" in step and "data-share-panel" in step      # the share card
    assert step.count("btn-primary") == 1 and ">转发给朋友</button>" in step  # one next step
    assert f'action="/c/{live_campaign.id}/poster"' in step                  # the poster
    assert f"/donations/" in step and "爱心证书" in step


def test_the_mutual_aid_invitation_comes_below_the_next_step(app, client, live_campaign):
    from app.mutual_aid.services import seed_demo_plan

    seed_demo_plan()
    donor = UserFactory(nickname="阿杰")
    html = _thanks(app, live_campaign, donor, _paid(client, live_campaign, donor, 20_00))
    assert html.index("下一步：转发给朋友") < html.index("也给自己和家人一份互助")


def test_a_donor_who_came_on_their_own_is_invited_by_nobody(app, client, live_campaign):
    donor = UserFactory(nickname="阿杰")
    html = _thanks(app, live_campaign, donor, _paid(client, live_campaign, donor, 20_00))
    assert "邀请你一起帮助 TA" not in html and "下一步：转发给朋友" in html


def test_own_donation_shows_own_name_others_see_it_masked(app, client, live_campaign):
    teacher = UserFactory(nickname="热心的张老师")
    other = UserFactory(nickname="李四")
    _paid(client, live_campaign, teacher, 200_00, blessing="小雨加油")
    _paid(client, live_campaign, other, 10_00)
    _paid(client, live_campaign, teacher, 30_00, anonymous=True)

    own = app.test_client(user=teacher).get(f"/c/{live_campaign.id}").get_data(as_text=True)
    donors = own[own.index("捐款记录"):]
    assert donors.count("热心的张老师") == 2 and "热*****" not in donors
    assert "李*" in donors and "李四" not in donors
    assert "匿名展示" in donors                          # their anonymous one, still theirs

    for viewer in (client, app.test_client(user=other)):
        page = viewer.get(f"/c/{live_campaign.id}").get_data(as_text=True)
        assert "热心的张老师" not in page and "热*****" in page and "匿名" in page

    api = app.test_client(user=teacher).get(f"/api/v1/campaigns/{live_campaign.id}/donations")
    rows = json.loads(api.get_data(as_text=True))["donations"]
    assert [r["name"] for r in rows if r["mine"]] == ["热心的张老师", "热心的张老师"]
    anonymous = client.get(f"/api/v1/campaigns/{live_campaign.id}/donations").get_json()
    assert not any(r["mine"] for r in anonymous["donations"])
    assert {r["name"] for r in anonymous["donations"]} == {"热*****", "李*", "匿名"}


def test_a_donor_without_a_wechat_name_is_a_kind_person(app, client, live_campaign):
    _paid(client, live_campaign, UserFactory(nickname="微信用户"), 10_00)
    page = client.get(f"/c/{live_campaign.id}").get_data(as_text=True)
    assert "爱心人士" in page and "微**" not in page


def test_own_attestation_shows_own_name(app, live_campaign):
    friend, stranger = UserFactory(nickname="小雨的舅舅"), UserFactory(nickname="路人甲")
    trust.attest(live_campaign.id, friend, "relative", "我是患者的亲属，情况属实。")
    own = app.test_client(user=friend).get(f"/c/{live_campaign.id}").get_data(as_text=True)
    assert "小雨的舅舅" in own[own.index('id="attestations"'):]
    seen = app.test_client(user=stranger).get(f"/c/{live_campaign.id}").get_data(as_text=True)
    assert "小雨的舅舅" not in seen and "小****" in seen
    assert "1 人证实" in seen                                   # at the top of the page


def test_the_thank_you_page_links_to_the_donations_certificate(app, client, live_campaign):
    from app.donations.models import Donation
    from app.extensions import db

    donor = UserFactory(nickname="阿杰")
    payment = _paid(client, live_campaign, donor, 20_00)
    donation = db.session.get(Donation, payment.payable_id)
    html = _thanks(app, live_campaign, donor, payment)
    assert f"/me/donations/{donation.id}/certificate" in html
    assert app.test_client(user=donor).get(
        f"/me/donations/{donation.id}/certificate").status_code == 200
