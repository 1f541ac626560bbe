"""追加目标 over HTTP: a higher target with a reason and new bills; above the campaign's cap (公约
2.0: ¥500,000 unless lifted) refused with the range message; an admin lifts the cap for this
campaign with a recorded reason, then the raise is allowed; the bills are reviewed like documents
and the raise is approved only after them; the new target shows on the page and in 修改记录."""
from __future__ import annotations

import io

from sqlalchemy import func, select

from app.auth.models import StaffRole
from app.campaigns.change_models import CampaignChange, ChangeStatus, TargetCapLift
from app.campaigns.models import Campaign
from app.core.audit import AuditEntry
from app.extensions import db
from app.review.models import CampaignDocument, DocumentKind, DocumentStatus
from tests.factories import StaffFactory
from tests.review.files import jpeg_bytes, pdf_bytes


def raise_form(target_yuan: str, reason: str = "复发后需要二次移植，医生预估还需二十万元",
               bills=None) -> dict:
    files = [(io.BytesIO(pdf_bytes(1)), "bill.pdf")] if bills is None else bills
    return {"target_yuan": target_yuan, "reason": reason, "bills": files}


def post_raise(client, campaign, **kwargs):
    return client.post(f"/c/{campaign.id}/target", data=raise_form(**kwargs),
                       content_type="multipart/form-data")


def changes_count() -> int:
    return db.session.scalar(select(func.count()).select_from(CampaignChange))


def test_a_raise_over_the_cap_is_refused_with_the_range_message(patient_client, live_campaign):
    page = patient_client.get(f"/c/{live_campaign.id}/target").get_data(as_text=True)
    assert "新的目标金额需在 300,001 元到 500,000 元之间" in page
    for value in ("600000", "-1", "abc", "300000"):
        response = post_raise(patient_client, live_campaign, target_yuan=value)
        assert response.status_code == 422, value
        assert "新的目标金额需在 300,001 元到 500,000 元之间" in response.get_data(as_text=True)
    assert changes_count() == 0
    assert db.session.scalar(select(func.count()).select_from(CampaignDocument).where(
        CampaignDocument.kind == DocumentKind.raise_bills)) == 0


def test_bills_and_a_reason_are_required(patient_client, live_campaign):
    no_bills = post_raise(patient_client, live_campaign, target_yuan="400000", bills=[])
    assert no_bills.status_code == 422 and "请选择要上传的文件" in no_bills.get_data(as_text=True)
    not_a_bill = post_raise(patient_client, live_campaign, target_yuan="400000",
                            bills=[(io.BytesIO(b"hello"), "bill.txt")])
    assert not_a_bill.status_code == 422
    no_reason = post_raise(patient_client, live_campaign, target_yuan="400000", reason="")
    assert no_reason.status_code == 422 and "请说明为什么需要追加目标" in no_reason.get_data(
        as_text=True)
    assert changes_count() == 0


def test_staff_lift_the_cap_for_this_campaign_with_a_reason_then_the_raise_is_allowed(
        app, client, patient_client, staff_client, live_campaign):
    assert post_raise(patient_client, live_campaign, target_yuan="800000").status_code == 422
    url = f"/staff/campaigns/{live_campaign.id}/target-cap"
    assert "¥500,000" in staff_client.get(url).get_data(as_text=True)
    # a reviewer may look but not lift; an admin must give a reason
    assert staff_client.post(url, data={"cap_yuan": "800000", "reason": "x"}).status_code == 403
    admin_client = app.test_client(user=StaffFactory(role=StaffRole.admin))
    no_reason = admin_client.post(url, data={"cap_yuan": "800000", "reason": ""})
    assert no_reason.status_code == 422 and "请填写调整原因" in no_reason.get_data(as_text=True)
    not_a_number = admin_client.post(url, data={"cap_yuan": "八十万", "reason": "核实属实"})
    assert not_a_number.status_code == 422 and "请填写金额数字" in not_a_number.get_data(
        as_text=True)
    lower = admin_client.post(url, data={"cap_yuan": "400000", "reason": "核实属实"},
                              follow_redirects=True)
    assert "新的上限需高于当前上限 ¥500,000" in lower.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(TargetCapLift)) == 0
    lifted = admin_client.post(url, data={"cap_yuan": "800000",
                                          "reason": "医院出具二次移植费用预估，核实属实"})
    assert lifted.status_code == 302
    audit = db.session.scalar(select(AuditEntry).where(
        AuditEntry.action == "campaign.target_cap_lift"))
    assert audit.reason == "医院出具二次移植费用预估，核实属实" and audit.campaign_id == live_campaign.id
    assert [(c.label, c.before, c.after) for c in audit.readable_changes] == [
        ("目标上限", "¥500,000", "¥800,000")]

    assert post_raise(patient_client, live_campaign, target_yuan="900000").status_code == 422
    assert post_raise(patient_client, live_campaign, target_yuan="800000").status_code == 302
    change = db.session.scalars(select(CampaignChange)).one()
    assert change.after == {"target_fen": 800_000_00}
    # the cap is this campaign's only
    from tests.factories import CampaignFactory

    other = CampaignFactory()
    assert app.config.get("CAMPAIGN_TARGET_CAP_FEN", 500_000_00) == 500_000_00
    from app.campaigns.changes import target_cap_fen

    assert target_cap_fen(other.id) == 500_000_00 and target_cap_fen(live_campaign.id) == 800_000_00


def test_the_raise_waits_for_its_bills_then_shows_on_the_page(client, patient_client,
                                                              staff_client, live_campaign,
                                                              patient):
    response = post_raise(patient_client, live_campaign, target_yuan="450000",
                          bills=[(io.BytesIO(pdf_bytes(2)), "a.pdf"),
                                 (io.BytesIO(jpeg_bytes((400, 300))), "b.jpg")])
    assert response.status_code == 302
    change = db.session.scalars(select(CampaignChange)).one()
    bills = db.session.scalars(select(CampaignDocument).where(
        CampaignDocument.id.in_(change.document_ids))).all()
    assert {b.kind for b in bills} == {DocumentKind.raise_bills} and len(bills) == 2
    assert "目标 ¥300,000" in client.get(f"/c/{live_campaign.id}").get_data(as_text=True)

    review = staff_client.get(f"/staff/changes/{change.id}").get_data(as_text=True)
    assert "<del>¥300,000</del> → <ins>¥450,000</ins>" in review
    assert "还有 2 份医疗票据未审核" in review
    blocked = staff_client.post(f"/staff/changes/{change.id}/approve", data={},
                                follow_redirects=True)
    assert "还不能通过" in blocked.get_data(as_text=True)
    assert db.session.get(Campaign, live_campaign.id).target_fen == 300_000_00

    for bill in bills:
        assert staff_client.post(f"/staff/changes/{change.id}/bills/{bill.id}",
                                 data={"decision": "approve"}).status_code == 302
    db.session.expire_all()
    assert {b.status for b in bills} == {DocumentStatus.approved}
    # the bills are the organizer's private documents: others get 404
    assert client.get(f"/documents/{bills[0].id}").status_code == 404
    assert patient_client.get(f"/documents/{bills[0].id}").status_code == 200

    assert staff_client.post(f"/staff/changes/{change.id}/approve", data={}).status_code == 302
    db.session.expire_all()
    assert db.session.get(CampaignChange, change.id).status == ChangeStatus.approved
    page = client.get(f"/c/{live_campaign.id}").get_data(as_text=True)
    assert "目标 ¥450,000" in page and "目标金额：¥300,000 → ¥450,000" in page
    log = client.get(f"/api/v1/campaigns/{live_campaign.id}/changes").json["changes"]
    assert log[0]["kind"] == "target" and log[0]["items"] == [
        {"field": "target_fen", "label": "目标金额", "before": 300_000_00, "after": 450_000_00}]
    assert client.get(f"/api/v1/campaigns/{live_campaign.id}").json["target_fen"] == 450_000_00


def test_a_rejected_bill_blocks_the_raise_until_it_is_rejected(patient_client, staff_client,
                                                               live_campaign):
    post_raise(patient_client, live_campaign, target_yuan="400000")
    change = db.session.scalars(select(CampaignChange)).one()
    bill_id = change.document_ids[0]
    staff_client.post(f"/staff/changes/{change.id}/bills/{bill_id}",
                      data={"decision": "reject", "reasons": ["unclear"]})
    blocked = staff_client.post(f"/staff/changes/{change.id}/approve", data={},
                                follow_redirects=True)
    assert "有 1 份医疗票据未通过" in blocked.get_data(as_text=True)
    assert staff_client.post(f"/staff/changes/{change.id}/reject",
                             data={"reject-note": "票据模糊，无法核实新增费用"}).status_code == 302
    assert db.session.get(Campaign, live_campaign.id).target_fen == 300_000_00
    # a bill of another change or campaign is not decided through this change
    assert staff_client.post(f"/staff/changes/{change.id}/bills/999999",
                             data={"decision": "approve"}).status_code == 404
