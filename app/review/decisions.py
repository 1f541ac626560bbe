"""The staff side of verification: per-document decisions, real-name and payee checks, and the
round's approval or rejection. Each function is one business action in one transaction and
leaves its audit row (app/core/audit.py) in that same transaction.
"""
from __future__ import annotations

from sqlalchemy import select

from app.auth.models import StaffAccount, StaffRole
from app.campaigns import services as campaign_services
from app.campaigns import telling
from app.campaigns.errors import CampaignError
from app.campaigns.models import Campaign, CampaignStatus
from app.extensions import db
from app.models_base import utcnow
from app.core.audit import record_audit
from app.notices.services import Message, forget_told, send_told, tell
from app.review.models import (
    REASON_LABELS,
    CampaignDocument,
    DocumentDecision,
    DocumentKind,
    DocumentStatus,
    IdentityStatus,
    ReviewRound,
    RoundOutcome,
)
from app.review.services import (
    ReviewError,
    current_documents,
    identity_of,
    payee_of,
    required_kinds,
)

REVIEW_ROLES = (StaffRole.reviewer, StaffRole.admin)
PAYEE_ROLES = (StaffRole.finance, StaffRole.admin)
NOTE_MAX = 500
HOSPITAL_KINDS = (DocumentKind.medical_record, DocumentKind.costs)


def open_round(campaign: Campaign) -> ReviewRound | None:
    """The pending round of a submitted campaign, opened now if it was submitted without one
    (campaigns submitted before documents existed, or by scripts)."""
    round_ = latest_round(campaign.id)
    if round_ is not None and round_.outcome == RoundOutcome.pending:
        return round_
    if campaign.status != CampaignStatus.submitted:
        return None
    round_ = ReviewRound(campaign_id=campaign.id, number=(round_.number + 1 if round_ else 1),
                         submitted_at=campaign.submitted_at or utcnow(),
                         outcome=RoundOutcome.pending, verified=[], summary="")
    db.session.add(round_)
    db.session.flush()
    return round_


def latest_round(campaign_id: int) -> ReviewRound | None:
    return db.session.scalar(select(ReviewRound).where(ReviewRound.campaign_id == campaign_id)
                             .order_by(ReviewRound.number.desc()).limit(1))


def decide_document(document_id: int, staff: StaffAccount, approve: bool,
                    reasons: list[str] | None = None, note: str = "") -> CampaignDocument:
    staff = _staff(staff, REVIEW_ROLES)
    document = db.session.get(CampaignDocument, document_id, with_for_update=True)
    if document is None or document.removed_at is not None:
        raise ReviewError("材料不存在", "not_found")
    campaign = db.session.get(Campaign, document.campaign_id)
    note = _note(note)
    reasons = [code for code in dict.fromkeys(reasons or []) if code in REASON_LABELS]
    if approve:
        reasons = []
    elif not reasons:
        raise ReviewError("驳回材料请至少选择一个原因", "reason_required")
    elif "other" in reasons and not note:
        raise ReviewError("选择“其他”时请填写说明", "reason_required")
    status = DocumentStatus.approved if approve else DocumentStatus.rejected
    before = {"status": document.status, "reasons": document.reasons or []}
    round_ = open_round(campaign)
    db.session.add(DocumentDecision(document_id=document.id, round_id=round_.id if round_ else None,
                                    staff_id=staff.id, status=status, reasons=reasons, note=note))
    document.status, document.reasons, document.note = status, reasons, note
    document.decided_at = utcnow()
    record_audit(staff, "document.approve" if approve else "document.reject", "document",
                 document.id, before=before,
                 after={"status": status, "reasons": reasons, "kind": document.kind},
                 reason=_explain(reasons, note), campaign_id=document.campaign_id)
    db.session.commit()
    return document


def verify_identity(campaign_id: int, staff: StaffAccount, ok: bool, note: str = "") -> None:
    """The real names and ID numbers match the ID documents (or not, with a note)."""
    staff = _staff(staff, REVIEW_ROLES)
    identity = identity_of(campaign_id)
    if identity is None:
        raise ReviewError("发起人尚未填写实名信息", "not_found")
    note = _note(note)
    if not ok and not note:
        raise ReviewError("请说明实名信息哪里不一致", "reason_required")
    before = {"status": identity.status}
    identity.status = IdentityStatus.verified if ok else IdentityStatus.rejected
    identity.note = note
    identity.verified_at = utcnow() if ok else None
    identity.verified_by_id = staff.id if ok else None
    record_audit(staff, "identity.verify" if ok else "identity.reject", "identity", identity.id,
                 before=before, after={"status": identity.status}, reason=note,
                 campaign_id=campaign_id)
    db.session.commit()


def verify_payee(campaign_id: int, staff: StaffAccount, ok: bool, note: str = "") -> None:
    """Finance confirms the account belongs to the hospital, the patient or (with proof of
    relation) the family."""
    staff = _staff(staff, PAYEE_ROLES, "只有财务人员可以核实收款人")
    payee = payee_of(campaign_id)
    if payee is None:
        raise ReviewError("发起人尚未填写收款人", "not_found")
    note = _note(note)
    if not ok and not note:
        raise ReviewError("请说明收款人核实不通过的原因", "reason_required")
    before = {"status": payee.status}
    payee.status = IdentityStatus.verified if ok else IdentityStatus.rejected
    payee.note = note
    payee.verified_at = utcnow() if ok else None
    payee.verified_by_id = staff.id if ok else None
    entry = record_audit(staff, "payee.verify" if ok else "payee.reject", "payee", payee.id,
                         before=before, after={"status": payee.status, "kind": payee.kind,
                                               "account_last4": payee.account_last4},
                         reason=note, campaign_id=campaign_id)
    if before["status"] != payee.status:
        db.session.flush()
        _tell_payee(campaign_id, entry.id, ok, note)
    db.session.commit()
    send_told()


def _tell_payee(campaign_id: int, decision_id: int, ok: bool, note: str) -> None:
    campaign = db.session.get(Campaign, campaign_id)
    title = "收款人已核实" if ok else "收款人核实未通过"
    body = (f"“{campaign.title}”的收款账户已核实，可以申请提现了。" if ok
            else f"“{campaign.title}”的收款账户未通过核实：{note}。请修改后重新提交。")
    tell(campaign.organizer_id, f"payee_{'verified' if ok else 'rejected'}:{decision_id}",
         Message("review", title, body, f"/c/{campaign_id}/documents", "review_result",
                 {"thing1": "收款账户核实", "phrase2": "已通过" if ok else "未通过",
                  "thing3": "可以申请提现了" if ok else note}))


def approval_blockers(campaign: Campaign) -> list[str]:
    """What still stands between this submitted campaign and approval (empty: approvable)."""
    blockers = []
    if campaign.status != CampaignStatus.submitted:
        blockers.append(f"筹款当前状态为“{campaign.status.label}”")
    docs = current_documents(campaign.id)
    pending = [d for d in docs if d.status == DocumentStatus.pending]
    rejected = [d for d in docs if d.status == DocumentStatus.rejected]
    if pending:
        blockers.append(f"还有 {len(pending)} 份材料未审核")
    if rejected:
        blockers.append(f"有 {len(rejected)} 份材料未通过，请驳回让发起人补充")
    approved = {d.kind for d in docs if d.status == DocumentStatus.approved}
    for kind in required_kinds(campaign):
        if kind not in approved:
            blockers.append(f"缺少已通过的{kind.label}")
    identity = identity_of(campaign.id)
    if identity is None or identity.status != IdentityStatus.verified:
        blockers.append("实名信息尚未核实")
    return blockers


def approve_review(campaign_id: int, staff: StaffAccount, note: str = "") -> Campaign:
    """Close the round as approved and take the campaign live, in one transaction."""
    staff = _staff(staff, REVIEW_ROLES, "只有审核员可以审核筹款")
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise ReviewError("筹款不存在", "not_found")
    blockers = approval_blockers(campaign)
    if blockers:
        raise ReviewError("还不能通过：" + "；".join(blockers), "not_ready")
    note = _note(note)
    round_ = open_round(campaign)
    approved = {d.kind for d in current_documents(campaign.id)
                if d.status == DocumentStatus.approved}
    verified = ["diagnosis", "identity"]
    if approved & set(HOSPITAL_KINDS):
        verified.insert(1, "hospital")
    round_.outcome, round_.verified, round_.summary = RoundOutcome.approved, verified, note
    round_.decided_at, round_.decided_by_id = utcnow(), staff.id
    record_audit(staff, "campaign.approve", "campaign", campaign.id,
                 before={"status": campaign.status, "round": round_.number},
                 after={"status": CampaignStatus.live, "verified": verified}, reason=note)
    telling.approved(campaign, round_.number)
    return _transition(lambda: campaign_services.approve_campaign(
        campaign.id, by_staff=staff, reason=note or "材料审核通过"))


def reject_review(campaign_id: int, staff: StaffAccount, note: str = "") -> Campaign:
    """Close the round as rejected; the organizer reads each document's reasons and the note."""
    staff = _staff(staff, REVIEW_ROLES, "只有审核员可以审核筹款")
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise ReviewError("筹款不存在", "not_found")
    note = _note(note)
    rejected = [d for d in current_documents(campaign.id) if d.status == DocumentStatus.rejected]
    identity = identity_of(campaign.id)
    parts = [f"{d.kind.label}：{_explain(d.reasons, d.note)}" for d in rejected]
    if identity is not None and identity.status == IdentityStatus.rejected:
        parts.append(f"实名信息：{identity.note}")
    if note:
        parts.append(note)
    if not parts:
        raise ReviewError("请驳回至少一份材料，或填写驳回说明", "reason_required")
    summary = "；".join(parts)[:NOTE_MAX]
    round_ = open_round(campaign)
    if round_ is None:
        raise ReviewError(f"筹款当前状态为“{campaign.status.label}”，不能驳回", "invalid_transition")
    round_.outcome, round_.summary = RoundOutcome.rejected, summary
    round_.decided_at, round_.decided_by_id = utcnow(), staff.id
    record_audit(staff, "campaign.reject", "campaign", campaign.id,
                 before={"status": campaign.status, "round": round_.number},
                 after={"status": CampaignStatus.rejected,
                        "rejected_documents": [d.id for d in rejected]}, reason=summary)
    telling.rejected(campaign, round_.number, summary)
    return _transition(lambda: campaign_services.reject_campaign(
        campaign.id, by_staff=staff, reason=summary))


def _transition(action) -> Campaign:
    """Run the campaign service (which commits our pending rows with its own); on refusal,
    nothing of ours is kept either."""
    try:
        campaign = action()
    except CampaignError:
        db.session.rollback()
        forget_told()
        raise
    send_told()
    return campaign


def _staff(staff: StaffAccount, roles, message: str = "没有权限执行此操作") -> StaffAccount:
    if not isinstance(staff, StaffAccount) or not staff.active or not staff.has_role(*roles):
        raise ReviewError(message, "forbidden")
    return staff


def _note(note: str | None) -> str:
    text = (note or "").strip()
    if len(text) > NOTE_MAX:
        raise ReviewError(f"说明不能超过 {NOTE_MAX} 字", "reason_too_long")
    return text


def _explain(reasons: list[str], note: str) -> str:
    labels = [REASON_LABELS.get(code, code) for code in reasons or [] if code != "other"]
    return "；".join(labels + ([note] if note else []))
