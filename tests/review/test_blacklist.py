"""失信名单: staff list an organizer or a patient by the blind index of the ID number; a second
WeChat account with the same ID cannot launch; the listed account cannot start a draft; removal
is audited; the review console shows the person's listing and broken 诺言 on a new attempt."""
from sqlalchemy import select

from app.auth.models import StaffRole
from app.blacklist import services as blacklist
from app.blacklist.models import BlacklistEntry
from app.campaigns.errors import CampaignError
from app.campaigns.models import CampaignStatus
from app.core.audit import AuditEntry
from app.extensions import db
from app.pledges.models import Destination, Pledge, PledgeStatus, Schedule
from app.review import services as review
from tests.campaigns.helpers import form_data
from tests.factories import StaffFactory, UserFactory
from tests.review.files import jpeg_bytes, upload
from tests.review.helpers import ORGANIZER_ID, PATIENT_ID, patient_id, ready_campaign

LISTED = "失信名单"


def text(response) -> str:
    return response.get_data(as_text=True)


def audit_rows(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def refused_submit(campaign, organizer) -> str:
    try:
        review.submit_for_review(campaign, organizer)
    except CampaignError as error:
        db.session.refresh(campaign)
        assert campaign.status == CampaignStatus.draft
        return error.message
    raise AssertionError("a listed person's campaign was submitted")


def test_an_organizer_listed_from_a_campaign_is_caught_on_a_new_wechat_account(
        db, staff, staff_client, patient):
    first = ready_campaign(patient)
    response = staff_client.post("/staff/blacklist/", data={
        "role": "organizer", "campaign_id": str(first.id), "reason": "隐瞒房产、伪造费用清单"})
    assert response.status_code == 302
    entry = db.session.scalars(select(BlacklistEntry)).one()
    assert entry.user_id == patient.id and entry.id_index == blacklist.id_index_of(ORGANIZER_ID)
    assert ORGANIZER_ID not in entry.id_masked and entry.id_masked.endswith(ORGANIZER_ID[-4:])
    [row] = audit_rows("blacklist.add")
    assert row.actor_staff_id == staff.id and row.reason == "隐瞒房产、伪造费用清单"

    second_account = UserFactory()   # the same person, a new WeChat account, another patient
    again = ready_campaign(second_account, patient_id=patient_id(7))
    assert LISTED in refused_submit(again, second_account)
    html = text(staff_client.get(f"/staff/campaigns/{again.id}"))
    assert "已于" in html and "隐瞒房产" in html

    # the listed account itself cannot even start a draft
    browser = staff_client.application.test_client(user=patient)
    response = browser.post("/campaigns/new", data=dict(form_data(), cover=upload(jpeg_bytes())),
                            content_type="multipart/form-data")
    assert response.status_code != 302 and LISTED in text(response)


def test_a_listed_patient_is_caught_whoever_organizes(db, staff, staff_client):
    response = staff_client.post("/staff/blacklist/", data={
        "role": "patient", "id_number": PATIENT_ID, "reason": "已在其他平台重复筹款且拒不说明"})
    assert response.status_code == 302
    uncle = UserFactory()
    campaign = ready_campaign(uncle)            # patient PATIENT_ID again
    assert LISTED in refused_submit(campaign, uncle)
    other_patient = ready_campaign(UserFactory(), patient_id=patient_id(3))
    review.submit_for_review(other_patient, other_patient.organizer)   # others are not affected
    assert other_patient.status == CampaignStatus.submitted


def test_removal_needs_a_reason_is_audited_and_lets_them_launch(db, staff, staff_client):
    blacklist.add_entry(staff, role="patient", id_number=PATIENT_ID, reason="材料造假")
    entry = db.session.scalars(select(BlacklistEntry)).one()
    response = staff_client.post(f"/staff/blacklist/{entry.id}/remove", data={"reason": " "},
                                 follow_redirects=True)
    assert "请填写原因" in text(response)
    db.session.refresh(entry)
    assert entry.is_active and audit_rows("blacklist.remove") == []

    staff_client.post(f"/staff/blacklist/{entry.id}/remove", data={"reason": "复核后确认为误报"})
    db.session.refresh(entry)
    assert not entry.is_active and entry.removed_by_id == staff.id
    [row] = audit_rows("blacklist.remove")
    assert row.reason == "复核后确认为误报" and row.target_id == entry.id
    page = text(staff_client.get("/staff/blacklist/"))
    assert "已移出" in page and "复核后确认为误报" in page
    assert "移出失信名单" in text(staff_client.get("/staff/audit"))
    campaign = ready_campaign(UserFactory())
    review.submit_for_review(campaign, campaign.organizer)
    assert campaign.status == CampaignStatus.submitted


def test_bad_input_is_refused_in_chinese_and_changes_nothing(db, staff, staff_client):
    for data, message in [({"role": "patient", "id_number": "110101", "reason": "x"}, "身份证号"),
                          ({"role": "patient", "id_number": PATIENT_ID, "reason": ""}, "请填写原因"),
                          ({"role": "nobody", "id_number": PATIENT_ID, "reason": "x"}, "请选择"),
                          ({"role": "organizer", "campaign_id": "abc", "reason": "x"}, "数字"),
                          ({"role": "organizer", "campaign_id": "99999", "reason": "x"}, "没有编号")]:
        response = staff_client.post("/staff/blacklist/", data=data)
        assert response.status_code == 422 and message in text(response), data
    blacklist.add_entry(staff, role="patient", id_number=PATIENT_ID, reason="材料造假")
    response = staff_client.post("/staff/blacklist/", data={
        "role": "patient", "id_number": PATIENT_ID, "reason": "再次"})
    assert response.status_code == 422 and "已在失信名单中" in text(response)
    assert len(blacklist.entries(active=True)) == 1


def test_only_reviewers_keep_the_list(app, db, client):
    finance = StaffFactory(role=StaffRole.finance)
    assert app.test_client(user=finance).get("/staff/blacklist/").status_code == 403
    assert app.test_client(user=UserFactory()).get("/staff/blacklist/").status_code == 403
    assert client.post("/staff/blacklist/", data={"role": "patient"}).status_code in (302, 400)


def test_a_broken_pledge_is_shown_to_the_reviewer_of_the_next_attempt(db, staff, staff_client,
                                                                      patient):
    first = ready_campaign(patient)
    db.session.add(Pledge(campaign_id=first.id, user_id=patient.id, total_fen=5_000_00,
                          repaid_fen=1_000_00, schedule=Schedule.once,
                          destination=Destination.donors, words="", status=PledgeStatus.broken))
    db.session.commit()
    stranger = UserFactory()   # a new account for the same patient
    again = ready_campaign(stranger)
    html = text(staff_client.get(f"/staff/campaigns/{again.id}"))
    assert f"筹款 <a href=\"/staff/campaigns/{first.id}\">#{first.id}</a> 的诺言" in html
    assert "未兑现（失信）" in html and "同一身份证号" in html
    own = text(staff_client.get(f"/staff/campaigns/{first.id}"))
    assert "此前没有诺言记录" in own


def test_the_patient_of_a_campaign_is_listed_from_the_review_console(db, staff, staff_client,
                                                                     patient):
    campaign = ready_campaign(patient)
    response = staff_client.post("/staff/blacklist/", data={
        "role": "patient", "campaign_id": str(campaign.id), "back": "review",
        "reason": "病情与诊断证明不符"})
    assert response.headers["Location"].endswith(f"/staff/campaigns/{campaign.id}#launch-history")
    entry = db.session.scalars(select(BlacklistEntry)).one()
    assert entry.user_id is None and entry.id_index == blacklist.id_index_of(PATIENT_ID)
    html = text(staff_client.get(f"/staff/campaigns/{campaign.id}"))
    assert "病情与诊断证明不符" in html
    assert LISTED in refused_submit(campaign, patient)
