"""The audit log: every staff action leaves its row (who, what, before/after, why); rows cannot
be changed; staff search it."""
import pytest

from app.auth.models import StaffRole
from app.core.audit import AuditEntry, record_audit
from app.review.reports import Report
from tests.factories import StaffFactory
from tests.review.helpers import approve_all, patient_id, ready_campaign, submitted_ready

# Every POST endpoint of the staff console and the audit action(s) it must leave. A new staff
# endpoint fails test_every_staff_endpoint_is_covered until it is added here and exercised.
EXPECTED = {
    "staff.decide_document": {"document.approve", "document.reject"},
    "staff.check_identity": {"identity.verify", "identity.reject"},
    "staff.check_payee": {"payee.verify", "payee.reject"},
    "staff.approve": {"campaign.approve"},
    "staff.reject": {"campaign.reject"},
    "staff.freeze": {"campaign.freeze"},
    "staff.unfreeze": {"campaign.unfreeze"},
    "staff.terminate": {"campaign.terminate"},
    "staff.handle_report": {"report.dismiss", "report.request_documents", "report.freeze",
                            "report.terminate"},
    "staff.create_account": {"staff.create"},
    "staff.account_action": {"staff.role", "staff.deactivate", "staff.activate",
                             "staff.password"},
}


def test_every_staff_endpoint_is_covered(app):
    posts = {rule.endpoint for rule in app.url_map.iter_rules()
             if rule.endpoint.startswith("staff.") and "POST" in (rule.methods or ())}
    assert posts == set(EXPECTED)


def actions() -> list[str]:
    from app.extensions import db

    return [e.action for e in db.session.query(AuditEntry).order_by(AuditEntry.id)]


def test_every_staff_action_leaves_its_row(app, db, patient, donor_client, admin):
    client = app.test_client(user=admin)
    seen: list[str] = []

    def expect(response, *wanted: str):
        assert response.status_code in (200, 302), response.status_code
        new = actions()[len(seen):]
        assert new == list(wanted), (new, wanted)
        seen.extend(new)

    # Review: reject a document, reject identity, reject the round; then approve everything.
    campaign = submitted_ready(patient)
    base = f"/staff/campaigns/{campaign.id}"
    from app.review.services import current_documents

    docs = current_documents(campaign.id)
    expect(client.post(f"{base}/documents/{docs[0].id}",
                       data={"decision": "reject", "reasons": ["unclear"]}), "document.reject")
    expect(client.post(f"{base}/identity", data={"decision": "reject", "note": "姓名不一致"}),
           "identity.reject")
    expect(client.post(f"{base}/reject", data={"reject-reason": "请重新上传"}), "campaign.reject")
    from app.review.services import submit_for_review
    from tests.review.helpers import add_documents

    add_documents(campaign, patient, kinds=[docs[0].kind])
    submit_for_review(campaign, patient)
    docs = current_documents(campaign.id)
    for doc in docs:
        expect(client.post(f"{base}/documents/{doc.id}", data={"decision": "approve"}),
               "document.approve")
    expect(client.post(f"{base}/identity", data={"decision": "ok"}), "identity.verify")
    client_patient = app.test_client(user=patient)
    client_patient.post(f"/c/{campaign.id}/payee", data={
        "kind": "patient", "account_name": "王小明", "bank_name": "农业银行",
        "account_number": "6228480000000000"})
    expect(client.post(f"{base}/payee", data={"decision": "reject", "note": "户名不符"}),
           "payee.reject")
    expect(client.post(f"{base}/payee", data={"decision": "ok"}), "payee.verify")
    expect(client.post(f"{base}/approve", data={"approve-reason": "齐全"}), "campaign.approve")
    # Moderation from the review page.
    expect(client.post(f"{base}/freeze", data={"reason": "核实中"}), "campaign.freeze")
    expect(client.post(f"{base}/unfreeze", data={"reason": "核实无误"}), "campaign.unfreeze")
    # Reports: dismiss, request documents, freeze, terminate.
    report_data = {"category": "other", "details": "这个筹款的情况和我了解的不一样。"}
    for _ in range(2):
        donor_client.post(f"/c/{campaign.id}/report", data=report_data)
    first, second = [r.id for r in db.session.query(Report).order_by(Report.id)]
    expect(client.post(f"/staff/reports/{first}/dismiss", data={"text": "属实"}), "report.dismiss")
    expect(client.post(f"/staff/reports/{second}/request-documents", data={"text": "补充发票"}),
           "report.request_documents")
    expect(client.post(f"/staff/reports/{second}/freeze", data={"text": "暂停核实"}),
           "campaign.freeze", "report.freeze")
    donor_client.post(f"/c/{campaign.id}/report", data=report_data)
    third = db.session.query(Report).order_by(Report.id.desc()).first().id
    expect(client.post(f"/staff/reports/{third}/terminate", data={"text": "骗捐"}),
           "campaign.terminate", "report.terminate")
    # Terminate from the review page, on another campaign.
    other = submitted_ready(patient, patient_id=patient_id(9), patient_name="张三")
    approve_all(other, admin)
    seen.extend(["document.approve"] * 5 + ["identity.verify"])
    client.post(f"/staff/campaigns/{other.id}/approve")
    seen.append("campaign.approve")
    expect(client.post(f"/staff/campaigns/{other.id}/terminate", data={"reason": "家属申请"}),
           "campaign.terminate")
    # Staff accounts.
    expect(client.post("/staff/accounts", data={"username": "rev9", "display_name": "新审核员",
                                                "role": "reviewer", "password": "reviewer-pass"}),
           "staff.create")
    new_id = db.session.query(AuditEntry).order_by(AuditEntry.id.desc()).first().target_id
    expect(client.post(f"/staff/accounts/{new_id}/role", data={"role": "finance"}), "staff.role")
    expect(client.post(f"/staff/accounts/{new_id}/deactivate"), "staff.deactivate")
    expect(client.post(f"/staff/accounts/{new_id}/activate"), "staff.activate")
    expect(client.post(f"/staff/accounts/{new_id}/password", data={"password": "another-pass-1"}),
           "staff.password")

    covered = set(seen)
    for endpoint, wanted in EXPECTED.items():
        assert wanted <= covered, (endpoint, wanted - covered)
    entries = db.session.query(AuditEntry).all()
    assert all(e.actor_staff_id == admin.id and e.actor_name == admin.display_name
               for e in entries)
    reject = next(e for e in entries if e.action == "campaign.reject")
    assert reject.before["status"] == "submitted" and reject.after["status"] == "rejected"
    assert "请重新上传" in reject.reason
    password = next(e for e in entries if e.action == "staff.password")
    assert "another-pass-1" not in str(password.after)


def test_refused_actions_leave_no_row(app, db, patient, staff_client):
    campaign = ready_campaign(patient)
    staff_client.post(f"/staff/campaigns/{campaign.id}/approve")  # still a draft
    staff_client.post(f"/staff/campaigns/{campaign.id}/freeze", data={"reason": "x"})
    assert actions() == []


def test_audit_rows_are_append_only(db, staff):
    entry = record_audit(staff, "campaign.freeze", "campaign", 1, {"status": "live"},
                         {"status": "frozen"}, "测试")
    db.session.commit()
    entry.reason = "改掉"
    with pytest.raises(RuntimeError):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.get(AuditEntry, entry.id))
    with pytest.raises(RuntimeError):
        db.session.commit()
    db.session.rollback()


def test_audit_log_is_searchable_and_shown_per_campaign(app, db, staff, staff_client, patient,
                                                       live_campaign):
    staff_client.post(f"/staff/campaigns/{live_campaign.id}/freeze",
                      data={"reason": "收到举报：费用夸大"})
    finance = app.test_client(user=StaffFactory(role=StaffRole.finance))
    html = finance.get("/staff/audit?q=费用夸大").get_data(as_text=True)
    assert "冻结筹款" in html and staff.display_name in html
    assert "收到举报：费用夸大" not in finance.get("/staff/audit?q=没有这回事").get_data(
        as_text=True)
    by_campaign = staff_client.get(f"/staff/audit?campaign_id={live_campaign.id}&action="
                                   "campaign.freeze").get_data(as_text=True)
    assert "收到举报：费用夸大" in by_campaign
    review = staff_client.get(f"/staff/campaigns/{live_campaign.id}").get_data(as_text=True)
    assert "审计日志" in review and "收到举报：费用夸大" in review
    assert staff_client.get("/staff/audit?since=2000-01-01&until=bad").status_code == 200
