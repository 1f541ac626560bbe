"""The audit log reads in Chinese: field names, targets and stored values, in the words each
feature registered; an unregistered code still reads as words, never as a raw key."""
from __future__ import annotations

from app.campaigns.models import CampaignStatus
from app.core.audit import AuditEntry, record_audit
from app.payouts.models import WithdrawalStatus
from app.review.models import DocumentKind, DocumentStatus, PayeeKind


def _audit_page(staff_client) -> str:
    response = staff_client.get("/staff/audit")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_fields_targets_and_values_read_in_chinese(db, staff, staff_client, live_campaign):
    record_audit(staff, "campaign.reject", "campaign", live_campaign.id,
                 before={"status": CampaignStatus.submitted, "round": 1},
                 after={"status": CampaignStatus.rejected, "rejected_documents": [9, 12]})
    record_audit(staff, "document.reject", "document", 9, before={"status": "pending"},
                 after={"status": DocumentStatus.rejected, "reasons": ["unclear", "no_stamp"],
                        "kind": DocumentKind.payee}, campaign_id=live_campaign.id)
    record_audit(staff, "payee.verify", "payee", 3, after={"kind": PayeeKind.hospital},
                 campaign_id=live_campaign.id)
    record_audit(staff, "withdrawal.approve", "withdrawal", 5,
                 before={"status": WithdrawalStatus.requested}, after={"amount_fen": 123456},
                 campaign_id=live_campaign.id)
    db.session.commit()

    html = _audit_page(staff_client)
    assert "驳回的材料：— → #9、#12" in html
    assert "类型：— → 收款人信息" in html                     # a document's kind
    assert "类型：— → 医院对公账户（推荐）" in html            # a payee's kind, same field
    assert "驳回原因：— → 图片模糊或不完整，无法辨认、缺少医院公章或医生签字" in html
    assert f"状态：{DocumentStatus.pending.label} → {DocumentStatus.rejected.label}" in html
    assert f"状态：{CampaignStatus.submitted.label} → {CampaignStatus.rejected.label}" in html
    assert "金额：— → ¥1,234.56" in html or "金额：— → ¥1234.56" in html
    assert "对象：提现 #5" in html and "对象：收款人 #3" in html
    for raw in ("rejected_documents：", "类型：— → payee", "类型：— → hospital", "对象：withdrawal"):
        assert raw not in html


def test_an_unregistered_code_reads_as_words(db, staff, staff_client):
    record_audit(staff, "some.new_action", "new_thing", 1, before={"odd_flag": True},
                 after={"odd_flag": False})
    db.session.commit()
    entry = db.session.query(AuditEntry).one()
    [change] = entry.readable_changes
    assert (change.label, change.before, change.after) == ("odd flag", "是", "否")
    assert change.raw == "odd_flag: True → False"        # the raw codes, on hover
    assert entry.target_label == "new thing"
    html = _audit_page(staff_client)
    assert "odd flag：是 → 否" in html and "对象：new thing #1" in html
