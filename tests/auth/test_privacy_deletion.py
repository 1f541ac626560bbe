"""注销账号: after deletion the person's nickname, avatar and openid appear in no public place —
the campaign page, the donor list (HTML and JSON), blessings, attestations, share pages, posters,
the public ledger — while the ledger still balances and their donation still counts. Refused,
with reasons, while a campaign is live or money is in flight."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.auth.models import User
from app.campaigns import trust
from app.campaigns.models import Campaign
from app.core.audit import AuditEntry
from app.core.templating import mask_name
from app.donations.models import Donation
from app.extensions import db
from app.ledger.verify import verify
from app.notices.models import Notice, add_notice
from app.sharing.services import share_link_for
from tests.factories import UserFactory
from tests.payments.helpers import acknowledged, notice_for, post_notice, start

NAME = "独一无二的昵称"
OPENID = "o_deleted_person_openid_x1"
AVATAR = "https://thirdwx.qlogo.cn/mmopen/deleted-person-avatar/132"
TRACES = (NAME, mask_name(NAME), OPENID, AVATAR)


def paid(client, campaign, user, amount_fen, **options):
    payment = start(campaign, user, amount_fen, **options)
    assert acknowledged(post_notice(client, notice_for(payment)))
    return db.session.get(Donation, payment.payable_id)


def poster_page(browser, response, run_jobs) -> str:
    location = response.headers["Location"]
    run_jobs()
    if "/jobs/" in location:
        location = browser.get(location.replace("?", ".json?", 1)).get_json()["page"]
    return location


@pytest.fixture()
def deleted(app, client, live_campaign, run_jobs):
    """A donor who blessed, attested, shared and made a poster and a certificate, then deleted
    their account. Returns the pages to look at."""
    person = UserFactory(nickname=NAME, openid=OPENID, avatar_url=AVATAR)
    browser = app.test_client(user=person)
    donation = paid(client, live_campaign, person, 88_00, blessing="加油，等你康复！")
    trust.attest(live_campaign.id, person, "friend", "我是患者的同事，情况属实。")
    link = share_link_for(live_campaign, person.id, None)
    poster = poster_page(browser, browser.post(f"/c/{live_campaign.id}/poster"), run_jobs)
    certificate = poster_page(browser, browser.post(f"/donations/{donation.id}/certificate"),
                              run_jobs)
    add_notice(person.id, "test", "给您的通知", "内容")
    db.session.commit()
    c = live_campaign.id
    pages = {"campaign": f"/c/{c}", "donor list": f"/c/{c}/donations",
             "donor list JSON": f"/api/v1/campaigns/{c}/donations",
             "campaign JSON": f"/api/v1/campaigns/{c}", "share page": f"/c/{c}/share",
             "ambassadors": f"/c/{c}/ambassadors", "share link": f"/s/{link.token}",
             "public ledger": f"/c/{c}/ledger"}
    seen_before = "".join(client.get(path, follow_redirects=True).get_data(as_text=True)
                          for path in pages.values())
    assert mask_name(NAME) in seen_before and AVATAR in seen_before   # they were public
    organizer = app.test_client(user=live_campaign.organizer)
    assert NAME in organizer.get(pages["ambassadors"]).get_data(as_text=True)
    assert client.get(poster).status_code == 200 and client.get(certificate).status_code == 200
    raised = db.session.get(Campaign, c).raised_fen

    response = browser.post("/me/privacy/delete", data={"confirm": "注销"})
    assert response.status_code == 200 and "账号已注销" in response.get_data(as_text=True)
    return {"person_id": person.id, "browser": browser, "pages": pages, "poster": poster,
            "certificate": certificate, "donation_id": donation.id, "campaign_id": c,
            "raised": raised}


PAGES = ["campaign", "donor list", "donor list JSON", "campaign JSON", "share page",
         "ambassadors", "share link", "public ledger"]


@pytest.mark.parametrize("page", PAGES)
def test_a_deleted_person_appears_on_no_public_page(client, patient_client, deleted, page):
    viewer = patient_client if page == "ambassadors" else client   # the organizer's own page
    response = viewer.get(deleted["pages"][page], follow_redirects=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for trace in TRACES:
        assert trace not in html, (page, trace)
    if page == "campaign":   # their blessing and attestation stay, signed 爱心人士
        assert "加油，等你康复！" in html and "我是患者的同事" in html
        attestation = html[html.index("我是患者的同事") - 600:html.index("我是患者的同事")]
        assert "爱心人士" in attestation


@pytest.mark.parametrize("kind", ["poster", "certificate"])
def test_their_poster_and_certificate_are_gone(client, deleted, kind):
    page = deleted[kind]
    assert client.get(page).status_code == 404
    assert client.get(page.split("?")[0] + ".jpg").status_code == 404


def test_the_money_stays_counted_and_the_ledger_balances(db, deleted):
    donation = db.session.get(Donation, deleted["donation_id"])
    assert donation.user_id == deleted["person_id"] and donation.paid_at is not None
    assert db.session.get(Campaign, deleted["campaign_id"]).raised_fen == deleted["raised"]
    assert verify() == []
    user = db.session.get(User, deleted["person_id"])
    assert user.deleted_at is not None and user.avatar_url is None and user.unionid is None
    assert user.openid != OPENID and not user.has_profile
    assert db.session.scalar(select(func.count()).select_from(User)
                             .where(User.openid == OPENID)) == 0
    assert db.session.scalar(select(func.count()).select_from(Notice)
                             .where(Notice.user_id == user.id)) == 0
    [row] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "user.delete"))
    assert row.actor_user_id == user.id and row.target_id == user.id


def test_they_are_told_nothing_more(db, deleted):
    from app.notices.services import Message, tell
    from app.wechat.models import WechatMessage

    tell(deleted["person_id"], "after_deletion", Message(
        kind="campaign", title="筹款动态", body="有新进展", url="/", template="campaign_update"))
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Notice)
                             .where(Notice.user_id == deleted["person_id"])) == 0
    user = db.session.get(User, deleted["person_id"])
    assert db.session.scalar(select(func.count()).select_from(WechatMessage).where(
        WechatMessage.openid.in_([user.openid, OPENID]))) == 0


def test_their_sessions_end(deleted):
    assert deleted["browser"].get("/me/privacy/").status_code == 302


def test_deletion_is_refused_while_a_campaign_is_live(app, patient, live_campaign):
    browser = app.test_client(user=patient)
    page = browser.get("/me/privacy/").get_data(as_text=True)
    assert "现在还不能注销" in page and "正在审核或进行中的筹款" in page
    response = browser.post("/me/privacy/delete", data={"confirm": "注销"})
    assert response.status_code == 409 and "正在审核或进行中的筹款" in response.get_data(as_text=True)
    db.session.refresh(patient)
    assert patient.deleted_at is None and patient.nickname == "小明妈妈"


def test_deletion_is_refused_while_a_payment_is_in_flight(app, live_campaign):
    donor = UserFactory(nickname="等待支付的人")
    start(live_campaign, donor, 10_00)
    response = app.test_client(user=donor).post("/me/privacy/delete", data={"confirm": "注销"})
    assert response.status_code == 409 and "支付尚未完成" in response.get_data(as_text=True)
    db.session.refresh(donor)
    assert donor.deleted_at is None


def test_deletion_needs_the_confirmation_word(app, db):
    person = UserFactory(nickname="差点注销的人")
    response = app.test_client(user=person).post("/me/privacy/delete", data={"confirm": "是"})
    assert response.status_code == 422 and "请输入“注销”" in response.get_data(as_text=True)
    db.session.refresh(person)
    assert person.deleted_at is None and person.nickname == "差点注销的人"
