"""Verification and trust: medical documents, review rounds, real names, payee, reports,
and the labels of their staff decisions in the platform's audit log (app/core/audit.py).

Plugs in: its blueprint, the campaign page's verification badges, the encrypted columns and blind index that `flask crypto
rotate` covers, its audit labels, the unfreeze hook that tells reporters a freeze was lifted,
and its part of 我的筹款 (documents missing or rejected with the reviewer's reasons, payee);
`flask review hash-documents` (the SHA-256 of documents uploaded before it was kept)."""
from flask import Flask

REVIEW_AUDIT_LABELS = {
    "document.approve": "材料通过",
    "document.reject": "材料驳回",
    "identity.verify": "实名核实通过",
    "identity.reject": "实名核实不通过",
    "payee.verify": "收款人核实通过",
    "payee.reject": "收款人核实不通过",
    "campaign.approve": "筹款审核通过",
    "campaign.reject": "筹款审核驳回",
    "campaign.freeze": "冻结筹款",
    "campaign.unfreeze": "解除冻结",
    "campaign.terminate": "终止筹款",
    "report.dismiss": "举报不成立",
    "report.request_documents": "要求补充材料",
    "report.freeze": "举报处理：冻结",
    "report.terminate": "举报处理：终止",
    "report.unfreeze": "举报处理：解除冻结",
}



def register(app: Flask) -> None:
    from app.core import key_rotation
    from app.campaigns.moderation import register_unfreeze_hook
    from app.campaigns.trust import register_badge_source
    from app.campaigns.dashboard import register_dashboard_source
    from app.review import dashboard as review_dashboard
    from app.core.enums import labels_of
    from app.core.plugins import register_audit_labels, register_audit_words
    from app.review.models import (REASON_LABELS, CampaignIdentity, DocumentKind, DocumentStatus,
                                   IdentityStatus, Payee, PayeeKind)
    from app.review.queries import badges_for
    from app.review.reports import ReportStatus, lift_frozen_reports
    from app.review.commands import review_cli
    from app.review.views import bp

    app.register_blueprint(bp)
    app.cli.add_command(review_cli)   # flask review hash-documents
    key_rotation.register_encrypted_columns(
        app, "review.identities", CampaignIdentity, "patient_name_enc", "patient_id_enc",
        "organizer_name_enc", "organizer_id_enc")
    key_rotation.register_encrypted_columns(app, "review.payees", Payee, "account_name_enc",
                                            "account_number_enc")
    key_rotation.register_blind_index(app, "review.patient_id_index", CampaignIdentity,
                                      index="patient_id_index", source="patient_id_enc",
                                      purpose="patient-id")
    register_badge_source(app, badges_for)
    register_dashboard_source(app, review_dashboard.dashboard_items)  # 我的筹款: documents, payee
    register_audit_labels(app, REVIEW_AUDIT_LABELS)
    register_audit_words(
        app, targets={"document": "材料", "identity": "实名信息", "payee": "收款人", "report": "举报"},
        fields={"status": "状态", "kind": "类型", "round": "审核轮次", "verified": "已核实",
                "reasons": "驳回原因", "account_last4": "账号尾号",
                "rejected_documents": "驳回的材料"},
        values={"document.status": labels_of(DocumentStatus),
                "document.kind": labels_of(DocumentKind), "document.reasons": REASON_LABELS,
                "identity.status": labels_of(IdentityStatus),
                "payee.status": labels_of(IdentityStatus), "payee.kind": labels_of(PayeeKind),
                "report.status": labels_of(ReportStatus)})
    register_unfreeze_hook(app, lift_frozen_reports)
    # 追加目标 (its bills are documents) and the review console's changes of live campaigns
    from app.campaigns.changes import register_change_check
    from app.review import change_staff_views, target_raise, target_views

    app.register_blueprint(target_views.bp)
    app.register_blueprint(change_staff_views.bp, url_prefix="/staff")
    register_change_check(app, target_raise.raise_blockers)
