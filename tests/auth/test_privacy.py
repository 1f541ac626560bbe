"""我的 → 个人信息: the data export holds the person's own data (identifiers in full) and nothing
of anyone else; withdrawing consent stops that processing, giving it again restarts it."""
from __future__ import annotations

import json

from sqlalchemy import select

from app.auth import legal
from app.donations.models import Donation
from app.extensions import db
from app.mutual_aid.models import FunnelEvent
from app.notices.models import add_notice
from app.sharing.services import share_link_for
from tests.factories import UserFactory
from tests.payments.helpers import acknowledged, notice_for, post_notice, start
from tests.review.helpers import ORGANIZER_ID, PATIENT_ID, ready_campaign


def paid(client, campaign, user, amount_fen, **options):
    payment = start(campaign, user, amount_fen, **options)
    assert acknowledged(post_notice(client, notice_for(payment)))
    return db.session.get(Donation, payment.payable_id)


def test_the_page_is_the_persons_own(app, client, patient_client, staff_client):
    html = patient_client.get("/me/privacy/").get_data(as_text=True)
    for words in ("下载我的数据", "可选的授权", "互助计划邀请", "注销账号", "30 年", "个人信息"):
        assert words in html
    assert client.get("/me/privacy/").status_code == 302            # sign in first
    assert staff_client.get("/me/privacy/").status_code == 403
    assert client.get("/me/privacy/export.json").status_code == 302


def test_the_export_holds_my_data_and_nothing_of_others(app, client, live_campaign):
    me = UserFactory(nickname="王家大姐", openid="o_me_openid_123", unionid="u_me_union")
    other = UserFactory(nickname="隔壁老王", openid="o_other_openid_999")
    mine = ready_campaign(me)
    mine_donation = paid(client, live_campaign, me, 30_00, blessing="我的祝福，早日康复")
    paid(client, live_campaign, other, 40_00, blessing="老王的祝福")
    from app.mutual_aid import services as mutual_aid
    from tests.mutual_aid.conftest import id_number
    from tests.mutual_aid.test_membership import request_for

    member_id = id_number()
    mutual_aid.join(request_for(mutual_aid.seed_demo_plan(), me, id_number=member_id,
                                real_name="王家大姐"))
    add_notice(me.id, "test", "给我的通知", "内容")
    add_notice(other.id, "test", "给老王的通知", "内容")
    db.session.commit()

    response = app.test_client(user=me).get("/me/privacy/export.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.get_data(as_text=True))
    assert data["profile"]["nickname"] == "王家大姐"
    assert data["identities"] == [{"kind": "wechat", "openid": "o_me_openid_123",
                                   "unionid": "u_me_union"}]
    [campaign] = data["campaigns"]
    assert campaign["id"] == mine.id and campaign["real_names"]["patient_id"] == PATIENT_ID
    assert campaign["real_names"]["organizer_id"] == ORGANIZER_ID
    assert [d["id"] for d in data["donations"]] == [mine_donation.id]
    assert data["donations"][0]["blessing"] == "我的祝福，早日康复"
    assert [n["title"] for n in data["notices"]] == ["给我的通知"]
    [membership] = data["mutual_aid_memberships"]
    assert membership["id_number"] == member_id and membership["name"] == "王家大姐"
    assert {a["document"] for a in data["consents"]["accepted"]} == {"terms", "privacy"}
    text = response.get_data(as_text=True)
    for foreign in ("隔壁老王", "o_other_openid_999", "老王的祝福", "给老王的通知",
                    live_campaign.organizer.nickname):
        assert foreign not in text, foreign


def test_withdrawing_the_invitation_consent_stops_it(app, client, live_campaign):
    from app.mutual_aid.services import seed_demo_plan

    seed_demo_plan()
    donor = UserFactory()
    browser = app.test_client(user=donor)
    first = paid(client, live_campaign, donor, 20_00)
    assert "也给自己和家人一份互助" in browser.get(f"/donations/{first.id}/thanks").get_data(as_text=True)
    shown = select(FunnelEvent).where(FunnelEvent.step == "invitation_shown",
                                      FunnelEvent.user_id == donor.id)
    assert len(db.session.scalars(shown).all()) == 1

    response = browser.post("/me/privacy/consents",
                            data={"purpose": "mutual_aid_invitation", "allowed": "0"},
                            follow_redirects=True)
    assert "已撤回同意：互助计划邀请" in response.get_data(as_text=True)
    second = paid(client, live_campaign, donor, 20_00)
    html = browser.get(f"/donations/{second.id}/thanks").get_data(as_text=True)
    assert "也给自己和家人一份互助" not in html and "下一步：转发给朋友" in html
    assert len(db.session.scalars(shown).all()) == 1          # not recorded either
    others = app.test_client(user=(someone := UserFactory()))
    third = paid(client, live_campaign, someone, 20_00)
    assert "也给自己和家人一份互助" in others.get(f"/donations/{third.id}/thanks").get_data(as_text=True)

    browser.post("/me/privacy/consents", data={"purpose": "mutual_aid_invitation", "allowed": "1"})
    assert legal.allows(donor.id, legal.OptionalPurpose.MUTUAL_AID_INVITATION)
    assert "恢复同意" not in browser.get("/me/privacy/").get_data(as_text=True)


def test_withdrawing_the_sharer_name_consent_hides_it_from_friends(app, client, live_campaign):
    teacher = UserFactory(nickname="热心的张老师")
    link = share_link_for(live_campaign, teacher.id, None)
    app.test_client(user=teacher).post("/me/privacy/consents",
                                       data={"purpose": "sharer_name", "allowed": "0"})
    donor = UserFactory()
    browser = app.test_client(user=donor)
    assert browser.get(f"/s/{link.token}/f").status_code == 302
    donation = paid(client, live_campaign, donor, 20_00)
    html = browser.get(f"/donations/{donation.id}/thanks").get_data(as_text=True)
    assert "热心的张老师" not in html and "一位朋友</strong>邀请你一起帮助 TA" in html
    ranking = app.test_client(user=live_campaign.organizer).get(
        f"/c/{live_campaign.id}/ambassadors").get_data(as_text=True)
    assert "热心的张老师" not in ranking and "一位朋友" in ranking


def test_an_unknown_purpose_is_refused(app, patient_client):
    response = patient_client.post("/me/privacy/consents", data={"purpose": "x", "allowed": "0"})
    assert response.status_code == 422 and "没有这一项" in response.get_data(as_text=True)
