"""Screenshots at 375 px of the audit log (every code in Chinese) and the funnel page (tables
that add up, chart labels not cut off), in tests/screenshots/staff-*.png."""
from __future__ import annotations

from app.auth.models import StaffRole
from app.campaigns.models import CampaignStatus
from app.core.audit import record_audit
from app.extensions import db
from app.mutual_aid import funnel
from app.review.models import DocumentKind, DocumentStatus
from tests.browser.conftest import phone_context
from tests.factories import StaffFactory, UserFactory


def test_audit_log_and_funnel_on_a_phone(browser, live_server, db, live_campaign, screenshot):
    admin = StaffFactory(username="admin3", display_name="管理员小林", role=StaffRole.admin,
                         password="admin-pass-789")
    record_audit(admin, "campaign.reject", "campaign", live_campaign.id,
                 before={"status": CampaignStatus.submitted, "round": 1},
                 after={"status": CampaignStatus.rejected, "rejected_documents": [9]},
                 reason="诊断证明缺少医院公章")
    record_audit(admin, "document.reject", "document", 9, before={"status": "pending"},
                 after={"status": DocumentStatus.rejected, "reasons": ["no_stamp"],
                        "kind": DocumentKind.payee}, campaign_id=live_campaign.id)
    db.session.commit()
    donor, joiner = UserFactory(), UserFactory()
    for step in funnel.STEPS[:3]:
        funnel.record_step(step, live_campaign.id, "chat", donor.id)
    for step in funnel.STEPS:
        funnel.record_step(step, live_campaign.id if step in funnel.STEPS[:3] else None,
                           "moments" if step in funnel.STEPS[:3] else None, joiner.id)

    phone = phone_context(browser)
    page = phone.new_page()
    page.goto(f"{live_server}/auth/staff/login")
    page.fill("input[name=username]", "admin3")
    page.fill("input[name=password]", "admin-pass-789")
    page.locator("form button[type=submit]").click()
    page.wait_for_load_state()
    page.goto(f"{live_server}/staff/audit")
    text = page.inner_text("main")
    assert "驳回的材料：— → #9" in text and "类型：— → 收款人信息" in text
    assert "rejected_documents" not in text and "payee" not in text
    screenshot(page, "staff-audit-375")
    page.goto(f"{live_server}/staff/mutual-aid/funnel")
    assert page.locator("svg").count() >= 1
    screenshot(page, "staff-funnel-375")
    phone.close()
