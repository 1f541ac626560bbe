"""Blessings moderated: the organizer hides (and shows again), anyone signed in reports once,
staff remove with a reason (audited); hidden and removed text leaves the campaign page, the
donations list and the API while the donation stays; floods of reports and blessings get 429."""
import secrets

import pytest
from sqlalchemy import func, select

from app.core.audit import AuditEntry
from app.donations.models import BlessingReport, Donation
from app.extensions import db
from tests.factories import StaffFactory, UserFactory
from tests.payments.helpers import acknowledged, notice_for, post_notice, start

DESKTOP_UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15"


def blessed(client, campaign, text: str, amount_fen: int = 10_00) -> Donation:
    payment = start(campaign, UserFactory(nickname="张三丰"), amount_fen, blessing=text)
    assert acknowledged(post_notice(client, notice_for(payment)))
    return db.session.get(Donation, payment.payable_id)


def public_texts(client, campaign) -> tuple[str, str, list[str]]:
    page = client.get(f"/c/{campaign.id}").get_data(as_text=True)
    listing = client.get(f"/c/{campaign.id}/donations").get_data(as_text=True)
    api = client.get(f"/api/v1/campaigns/{campaign.id}/donations").json["donations"]
    return page, listing, [d["blessing"] for d in api]


@pytest.fixture()
def donation(client, live_campaign):
    return blessed(client, live_campaign, "小明挺住，我们都在")


def test_the_organizer_hides_and_shows_again(app, client, patient_client, live_campaign,
                                             donation):
    response = patient_client.post(f"/donations/{donation.id}/blessing/hide")
    assert response.status_code == 302
    page, listing, api = public_texts(client, live_campaign)
    assert "小明挺住，我们都在" not in page and "小明挺住，我们都在" not in listing
    assert api == [""]
    data = client.get(f"/api/v1/campaigns/{live_campaign.id}/donations").json["donations"]
    assert [d["amount_fen"] for d in data] == [10_00]   # the donation and its amount stay
    manage = patient_client.get(f"/c/{live_campaign.id}/blessings").get_data(as_text=True)
    assert "小明挺住，我们都在" in manage and "已隐藏" in manage and "恢复显示" in manage
    assert patient_client.post(f"/donations/{donation.id}/blessing/unhide").status_code == 302
    assert public_texts(client, live_campaign)[2] == ["小明挺住，我们都在"]


def test_only_the_organizer_may_hide(app, client, donor_client, live_campaign, donation):
    assert donor_client.post(f"/donations/{donation.id}/blessing/hide").status_code == 403
    assert donor_client.get(f"/c/{live_campaign.id}/blessings").status_code == 403
    staff_client = app.test_client(user=StaffFactory())
    assert staff_client.post(f"/donations/{donation.id}/blessing/hide").status_code == 403
    assert donor_client.post("/donations/999999/blessing/hide").status_code == 404
    anonymous = client.post(f"/donations/{donation.id}/blessing/hide")
    assert anonymous.status_code == 302 and "/auth/login" in anonymous.headers["Location"]
    assert db.session.get(Donation, donation.id).blessing_hidden_at is None
    assert public_texts(client, live_campaign)[2] == ["小明挺住，我们都在"]


def test_the_organizer_sees_the_manage_link_others_do_not(patient_client, donor_client,
                                                          live_campaign, donation):
    assert "祝福管理" in patient_client.get(f"/c/{live_campaign.id}").get_data(as_text=True)
    html = donor_client.get(f"/c/{live_campaign.id}").get_data(as_text=True)
    assert "祝福管理" not in html and f"/donations/{donation.id}/blessing/report" in html


def test_a_person_reports_a_blessing_once(donor_client, live_campaign, donation):
    form = donor_client.get(f"/donations/{donation.id}/blessing/report")
    assert form.status_code == 200 and 'name="csrf_token"' in form.get_data(as_text=True)
    empty = donor_client.post(f"/donations/{donation.id}/blessing/report", data={"reason": " "})
    assert empty.status_code == 422 and "请填写原因" in empty.get_data(as_text=True)
    first = donor_client.post(f"/donations/{donation.id}/blessing/report",
                              data={"reason": "广告"})
    assert first.status_code == 302
    again = donor_client.post(f"/donations/{donation.id}/blessing/report",
                              data={"reason": "还是广告"})
    assert again.status_code == 409 and "已举报过" in again.get_data(as_text=True)
    as_json = donor_client.post(f"/donations/{donation.id}/blessing/report",
                                data={"reason": "广告"}, headers={"Accept": "application/json"})
    assert as_json.status_code == 409 and as_json.json["error"]["code"] == "already_reported"
    assert db.session.scalar(select(func.count()).select_from(BlessingReport)) == 1


def test_signing_in_is_needed_to_report(client, donation):
    response = client.post(f"/donations/{donation.id}/blessing/report", data={"reason": "广告"})
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    assert db.session.scalar(select(func.count()).select_from(BlessingReport)) == 0


def test_a_hidden_blessing_cannot_be_reported(patient_client, donor_client, donation):
    patient_client.post(f"/donations/{donation.id}/blessing/hide")
    assert donor_client.get(f"/donations/{donation.id}/blessing/report").status_code == 404


def test_staff_remove_a_reported_blessing_with_a_reason(app, client, donor_client, staff,
                                                        live_campaign, donation):
    donor_client.post(f"/donations/{donation.id}/blessing/report", data={"reason": "辱骂他人"})
    staff_client = app.test_client(user=staff)
    queue = staff_client.get("/staff/blessings").get_data(as_text=True)
    assert "小明挺住，我们都在" in queue and "辱骂他人" in queue and 'name="csrf_token"' in queue
    assert "祝福举报" in staff_client.get("/staff/reports").get_data(as_text=True)
    no_reason = staff_client.post(f"/staff/blessings/{donation.id}/remove", data={"reason": ""})
    assert no_reason.status_code == 302
    assert db.session.get(Donation, donation.id).blessing_removed_at is None
    done = staff_client.post(f"/staff/blessings/{donation.id}/remove",
                             data={"reason": "含辱骂内容"})
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(Donation, donation.id).blessing_removed_at is not None
    entry = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "blessing.remove")).one()
    assert (entry.actor_staff_id, entry.target_id, entry.reason) == (
        staff.id, donation.id, "含辱骂内容")
    assert entry.campaign_id == live_campaign.id and entry.label == "删除祝福"
    log = staff_client.get("/staff/audit").get_data(as_text=True)
    assert "祝福：显示中 → 平台已删除" in log and "对象：捐款 #" in log
    page, listing, api = public_texts(client, live_campaign)
    assert "小明挺住，我们都在" not in page and "小明挺住，我们都在" not in listing and api == [""]
    assert "小明挺住，我们都在" not in staff_client.get("/staff/blessings").get_data(as_text=True)


def test_the_organizer_cannot_bring_back_a_removed_blessing(app, patient_client, staff,
                                                            donation):
    app.test_client(user=staff).post(f"/staff/blessings/{donation.id}/remove",
                                     data={"reason": "泄露隐私"})
    assert patient_client.post(f"/donations/{donation.id}/blessing/unhide").status_code == 302
    db.session.expire_all()
    assert db.session.get(Donation, donation.id).blessing_removed_at is not None


def test_only_reviewers_handle_reported_blessings(app, donor_client, donation):
    from app.auth.models import StaffRole

    finance = app.test_client(user=StaffFactory(role=StaffRole.finance))
    assert finance.get("/staff/blessings").status_code == 403
    assert finance.post(f"/staff/blessings/{donation.id}/remove",
                        data={"reason": "x"}).status_code == 403
    assert donor_client.get("/staff/blessings").status_code == 403


def test_a_flood_of_reports_is_rate_limited(app, live_campaign, client):
    reporter = app.test_client(user=UserFactory())
    donations = [blessed(client, live_campaign, f"祝福{i}") for i in range(4)]
    app.config["BLESSING_REPORT_RATE_LIMIT"] = "2/minute"
    try:
        codes = [reporter.post(f"/donations/{d.id}/blessing/report",
                               data={"reason": "刷屏"}).status_code for d in donations[:3]]
        as_json = reporter.post(f"/donations/{donations[3].id}/blessing/report",
                                data={"reason": "刷屏"}, headers={"Accept": "application/json"})
        page = reporter.post(f"/donations/{donations[3].id}/blessing/report",
                             data={"reason": "刷屏"})
    finally:
        app.config.pop("BLESSING_REPORT_RATE_LIMIT")
    assert codes == [302, 302, 429]
    assert as_json.status_code == 429
    assert as_json.json["error"]["message"] == "操作太频繁，请稍后再试"
    assert page.status_code == 429 and "操作太频繁" in page.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(BlessingReport)) == 2


def test_a_flood_of_blessings_is_rate_limited(app, donor_client, live_campaign):
    def donate(blessing: str) -> int:
        return donor_client.post(f"/c/{live_campaign.id}/donate", headers={"User-Agent": DESKTOP_UA},
                                 data={"preset": "10", "blessing": blessing,
                                       "checkout_key": secrets.token_hex(16)}).status_code

    app.config["BLESSING_RATE_LIMIT_USER"] = "2/minute"
    try:
        with_blessing = [donate("加油") for _ in range(2)]
        limited = donor_client.post(f"/c/{live_campaign.id}/donate", data={
            "preset": "10", "blessing": "加油", "checkout_key": secrets.token_hex(16)})
        without = donate("")
    finally:
        app.config.pop("BLESSING_RATE_LIMIT_USER")
    assert with_blessing == [302, 302]
    assert limited.status_code == 429 and "操作太频繁" in limited.get_data(as_text=True)
    assert without == 302   # giving without a blessing is never held back by it
    assert db.session.scalar(select(func.count()).select_from(Donation)) == 3


def test_staff_are_not_offered_the_report_link(app, staff, donor_client, live_campaign, donation):
    link = f"/donations/{donation.id}/blessing/report"
    assert link in donor_client.get(f"/c/{live_campaign.id}").get_data(as_text=True)
    staff_page = app.test_client(user=staff).get(f"/c/{live_campaign.id}")
    assert staff_page.status_code == 200 and link not in staff_page.get_data(as_text=True)
