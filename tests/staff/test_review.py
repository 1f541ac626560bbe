"""The staff console: queue by waiting time, review page, decisions through the review
services, role enforcement, staff accounts."""
from datetime import timedelta

import pytest

from app.auth.models import StaffAccount, StaffRole
from app.campaigns.models import CampaignStatus
from app.models_base import utcnow
from tests.campaigns.helpers import events_of
from tests.factories import CampaignFactory, StaffFactory
from tests.factories_plugin import add_cover
from tests.review.helpers import approve_all, patient_id, submitted_ready


def page(response) -> str:
    return response.get_data(as_text=True)


@pytest.mark.parametrize("url", ["/staff/", "/staff/campaigns/1"])
def test_anonymous_is_sent_to_staff_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert "/auth/staff/login" in response.headers["Location"]


def test_patients_and_finance_staff_cannot_decide(app, db, patient_client, submitted_campaign):
    assert patient_client.get("/staff/").status_code == 403
    approve = f"/staff/campaigns/{submitted_campaign.id}/approve"
    assert patient_client.post(approve).status_code == 403
    finance = app.test_client(user=StaffFactory(role=StaffRole.finance))
    assert finance.post(approve).status_code == 403
    assert "审核队列" not in page(finance.get("/staff/"))
    db.session.refresh(submitted_campaign)
    assert submitted_campaign.status == CampaignStatus.submitted


def test_queue_is_ordered_by_waiting_time_and_says_how_long(db, staff_client, patient):
    newer = submitted_ready(patient, title="后提交的筹款", patient_name="甲")
    older = submitted_ready(patient, patient_id=patient_id(7), title="先提交的筹款",
                            patient_name="乙")
    older.submitted_at = utcnow() - timedelta(days=1, hours=5)
    db.session.commit()
    CampaignFactory(organizer=patient, title="还是草稿的筹款", patient_name="丙")
    html = page(staff_client.get("/staff/"))
    assert html.index("先提交的筹款") < html.index("后提交的筹款")
    assert "还是草稿的筹款" not in html
    assert "已等待" in html and "1 天 5 小时" in html
    assert newer.id


def test_review_page_shows_documents_and_real_names(db, staff_client, patient):
    campaign = submitted_ready(patient)
    html = page(staff_client.get(f"/staff/campaigns/{campaign.id}"))
    for text in ("审核决定", "诊断证明", "患者身份证", "关系证明", "实名信息", "王小明", "李红",
                 "data-zoom-src", "application/pdf", "通过此材料", "驳回此材料"):
        assert text in html, text
    assert staff_client.get("/staff/campaigns/99999").status_code == 404


def test_approve_records_who_and_why(db, staff, staff_client, patient, client):
    campaign = submitted_ready(patient)
    approve_all(campaign, staff)
    response = staff_client.post(f"/staff/campaigns/{campaign.id}/approve",
                                 data={"approve-reason": "诊断证明与医院核实一致"})
    assert response.status_code == 302
    db.session.refresh(campaign)
    assert campaign.status == CampaignStatus.live
    event = events_of(campaign.id)[-1]
    assert (event.to_status, event.actor_staff_id, event.reason) == (
        "live", staff.id, "诊断证明与医院核实一致")
    assert client.get(f"/c/{campaign.id}").status_code == 200


def test_reject_reason_reaches_the_organizer_escaped(db, staff_client, patient, patient_client):
    campaign = submitted_ready(patient)
    staff_client.post(f"/staff/campaigns/{campaign.id}/reject",
                      data={"reject-reason": "请上传<b>诊断证明</b>"})
    db.session.refresh(campaign)
    assert campaign.status == CampaignStatus.rejected
    html = page(patient_client.get("/me/campaigns"))
    assert "请上传&lt;b&gt;诊断证明&lt;/b&gt;" in html and "未通过" in html


def test_deciding_twice_is_refused_with_a_message(db, staff, staff_client, patient):
    campaign = submitted_ready(patient)
    approve_all(campaign, staff)
    url = f"/staff/campaigns/{campaign.id}"
    staff_client.post(f"{url}/approve")
    response = staff_client.post(f"{url}/reject", data={"reject-reason": "晚了"},
                                 follow_redirects=True)
    assert "不能驳回" in page(response)
    db.session.refresh(campaign)
    assert campaign.status == CampaignStatus.live


def test_freeze_unfreeze_terminate_from_the_review_page(app, db, staff_client, client,
                                                        live_campaign):
    url = f"/staff/campaigns/{live_campaign.id}"
    staff_client.post(f"{url}/freeze", data={"reason": "核实医疗费用中"})
    db.session.refresh(live_campaign)
    assert live_campaign.status == CampaignStatus.frozen
    assert "核实医疗费用中" in page(client.get(f"/c/{live_campaign.id}"))
    staff_client.post(f"{url}/unfreeze", data={"reason": "已核实无误"})
    db.session.refresh(live_campaign)
    assert live_campaign.status == CampaignStatus.live
    assert staff_client.post(f"{url}/terminate", data={"reason": "x"}).status_code == 403
    admin = app.test_client(user=StaffFactory(role=StaffRole.admin))
    admin.post(f"{url}/terminate", data={"reason": "患者家属申请终止"})
    db.session.refresh(live_campaign)
    assert live_campaign.status == CampaignStatus.terminated
    assert "本筹款已终止" in page(client.get(f"/c/{live_campaign.id}"))


def test_admin_manages_staff_accounts(app, db, admin):
    client = app.test_client(user=admin)
    response = client.post("/staff/accounts", follow_redirects=True, data={
        "username": "Finance1", "display_name": "财务小王", "role": "finance",
        "password": "finance-pass-1"})
    assert "已创建员工账号" in page(response)
    created = db.session.query(StaffAccount).filter_by(username="finance1").one()
    client.post(f"/staff/accounts/{created.id}/role", data={"role": "reviewer"})
    client.post(f"/staff/accounts/{created.id}/deactivate", data={"reason": "离职"})
    db.session.refresh(created)
    assert created.role == StaffRole.reviewer and not created.active
    client.post(f"/staff/accounts/{created.id}/activate")
    client.post(f"/staff/accounts/{created.id}/password", data={"password": "new-password-22"})
    db.session.refresh(created)
    assert created.active and created.check_password("new-password-22")
    short = client.post("/staff/accounts", follow_redirects=True, data={
        "username": "x2", "display_name": "短密码", "role": "reviewer", "password": "short"})
    assert "密码至少" in page(short)
    self_demote = client.post(f"/staff/accounts/{admin.id}/role", data={"role": "reviewer"},
                              follow_redirects=True)
    assert "不能取消自己的管理员角色" in page(self_demote)


def test_staff_cannot_use_organizer_pages(db, staff_client):
    assert staff_client.get("/campaigns/new").status_code == 403
    assert staff_client.get("/me/campaigns").status_code == 403


def test_finance_sees_payees_waiting(app, db, patient, patient_client):
    campaign = add_cover(CampaignFactory(organizer=patient), patient)
    patient_client.post(f"/c/{campaign.id}/payee", data={
        "kind": "hospital", "account_name": "北京儿童医院", "bank_name": "工商银行",
        "account_number": "62220202000012345"})
    finance = app.test_client(user=StaffFactory(role=StaffRole.finance))
    assert "待核实的收款人" in page(finance.get("/staff/"))


def test_a_verified_payee_shows_who_verified_it_instead_of_the_buttons(app, db, patient,
                                                                       patient_client):
    campaign = add_cover(CampaignFactory(organizer=patient), patient)
    patient_client.post(f"/c/{campaign.id}/payee", data={
        "kind": "hospital", "account_name": "北京儿童医院", "bank_name": "工商银行",
        "account_number": "62220202000012345"})
    finance = app.test_client(user=StaffFactory(role=StaffRole.finance, display_name="财务小周"))
    assert "收款人核实通过" in page(finance.get(f"/staff/campaigns/{campaign.id}"))
    finance.post(f"/staff/campaigns/{campaign.id}/payee", data={"decision": "ok"})
    review_page = page(finance.get(f"/staff/campaigns/{campaign.id}"))
    payee_card = review_page.split('id="payee"')[1].split("</section>")[0]
    assert "收款人核实通过" not in payee_card and 'name="decision"' not in payee_card
    assert "已核实" in payee_card and "财务小周" in payee_card
