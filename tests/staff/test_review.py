"""The minimal review page: staff only, queue by waiting time, decisions recorded."""
from datetime import timedelta

import pytest

from app.auth.models import StaffRole
from app.campaigns.models import CampaignStatus
from app.campaigns.services import submit_campaign
from app.models_base import utcnow
from tests.campaigns.helpers import events_of
from tests.factories import CampaignFactory, StaffFactory
from tests.factories_plugin import add_cover


def page(response) -> str:
    return response.get_data(as_text=True)


@pytest.mark.parametrize("url", ["/staff/", "/staff/campaigns/1"])
def test_anonymous_is_sent_to_staff_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert "/auth/staff/login" in response.headers["Location"]


def test_patients_and_finance_staff_are_refused(app, db, patient_client, submitted_campaign):
    assert patient_client.get("/staff/").status_code == 403
    approve = f"/staff/campaigns/{submitted_campaign.id}/approve"
    assert patient_client.post(approve).status_code == 403
    finance = app.test_client(user=StaffFactory(role=StaffRole.finance))
    assert finance.get("/staff/").status_code == 403
    assert finance.post(approve).status_code == 403
    db.session.refresh(submitted_campaign)
    assert submitted_campaign.status == CampaignStatus.submitted


def test_queue_is_ordered_by_waiting_time(db, staff_client, patient):
    newer = add_cover(CampaignFactory(organizer=patient, title="后提交的筹款", patient_name="甲"),
                      patient)
    older = add_cover(CampaignFactory(organizer=patient, title="先提交的筹款", patient_name="乙"),
                      patient)
    submit_campaign(newer, by_user=patient)
    submit_campaign(older, by_user=patient)
    older.submitted_at = utcnow() - timedelta(hours=5)
    db.session.commit()
    CampaignFactory(organizer=patient, title="还是草稿的筹款", patient_name="丙")
    html = page(staff_client.get("/staff/"))
    assert html.index("先提交的筹款") < html.index("后提交的筹款")
    assert "还是草稿的筹款" not in html


def test_review_page_shows_full_details(db, staff_client, submitted_campaign):
    html = page(staff_client.get(f"/staff/campaigns/{submitted_campaign.id}"))
    assert "王小明" in html and "审核决定" in html and "提交审核" in html
    assert staff_client.get("/staff/campaigns/99999").status_code == 404


def test_approve_records_who_and_why(db, staff, staff_client, submitted_campaign, client):
    response = staff_client.post(f"/staff/campaigns/{submitted_campaign.id}/approve",
                                 data={"approve-reason": "诊断证明与医院核实一致"})
    assert response.status_code == 302
    db.session.refresh(submitted_campaign)
    assert submitted_campaign.status == CampaignStatus.live
    event = events_of(submitted_campaign.id)[-1]
    assert (event.to_status, event.actor_staff_id, event.reason) == (
        "live", staff.id, "诊断证明与医院核实一致")
    assert client.get(f"/c/{submitted_campaign.id}").status_code == 200


def test_reject_needs_a_reason_and_the_organizer_sees_it(db, staff, staff_client, patient_client,
                                                         submitted_campaign):
    url = f"/staff/campaigns/{submitted_campaign.id}/reject"
    response = staff_client.post(url, data={"reject-reason": "  "})
    assert response.status_code == 422 and "请填写驳回原因" in page(response)
    db.session.refresh(submitted_campaign)
    assert submitted_campaign.status == CampaignStatus.submitted

    staff_client.post(url, data={"reject-reason": "请上传<b>诊断证明</b>"})
    db.session.refresh(submitted_campaign)
    assert submitted_campaign.status == CampaignStatus.rejected
    assert events_of(submitted_campaign.id)[-1].actor_staff_id == staff.id
    html = page(patient_client.get("/me/campaigns"))
    assert "请上传&lt;b&gt;诊断证明&lt;/b&gt;" in html and "未通过" in html


def test_deciding_twice_is_refused_with_a_message(db, staff_client, submitted_campaign):
    url = f"/staff/campaigns/{submitted_campaign.id}"
    staff_client.post(f"{url}/approve")
    response = staff_client.post(f"{url}/reject", data={"reject-reason": "晚了"},
                                 follow_redirects=True)
    assert "不能变为" in page(response)
    db.session.refresh(submitted_campaign)
    assert submitted_campaign.status == CampaignStatus.live


def test_one_live_per_patient_is_enforced_at_approval(db, staff_client, patient, live_campaign):
    second = add_cover(CampaignFactory(organizer=patient), patient)
    second.status = CampaignStatus.submitted
    db.session.commit()
    response = staff_client.post(f"/staff/campaigns/{second.id}/approve", follow_redirects=True)
    assert "同一患者" in page(response)
    db.session.refresh(second)
    assert second.status == CampaignStatus.submitted


def test_staff_cannot_use_organizer_pages(db, staff_client):
    assert staff_client.get("/campaigns/new").status_code == 403
    assert staff_client.get("/me/campaigns").status_code == 403
