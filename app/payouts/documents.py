"""Invoices and receipts of withdrawals, and the organizer's statement on leftover money.

Files are checked by app/core/uploads (content, not name) and kept in the private document
store, encrypted; a receipt becomes public only once finance approves it for disclosure.
"""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from app.auth.models import StaffAccount, StaffRole, User
from app.campaigns.models import Campaign, CampaignStatus
from app.extensions import db
from app.models_base import utcnow
from app.payouts.errors import PayoutError
from app.payouts.models import (DocKind, DocStatus, LeftoverStatement, PayoutDocument,
                                Withdrawal, WithdrawalStatus)
from app.core.audit import record_audit
from app.review.models import DocumentStatus
from app.core.storage import delete_all, get_storage, put_all
from app.core.uploads import CheckedFile

MAX_PER_WITHDRAWAL = 9
STATEMENT_MIN, STATEMENT_MAX = 10, 500


def store(files: Sequence[CheckedFile]) -> list[str]:
    if len(files) > MAX_PER_WITHDRAWAL:
        raise PayoutError(f"每次最多上传 {MAX_PER_WITHDRAWAL} 个文件", "too_many_files")
    return put_all([f.data for f in files]) if files else []


def discard(keys: list[str]) -> None:
    if keys:
        delete_all(keys)


def attach(withdrawal: Withdrawal, kind: DocKind, files: Sequence[CheckedFile],
           keys: list[str], uploader_id: int) -> list[PayoutDocument]:
    added = [PayoutDocument(
        withdrawal_id=withdrawal.id, campaign_id=withdrawal.campaign_id, kind=kind,
        storage_key=key, content_type=f.content_type, size_bytes=len(f.data), width=f.width,
        height=f.height, pages=f.pages, uploaded_by_id=uploader_id, status=DocStatus.pending)
        for key, f in zip(keys, files)]
    db.session.add_all(added)
    return added


def read(document: PayoutDocument) -> bytes:
    return get_storage().get(document.storage_key)


def unverified_kinds(campaign: Campaign) -> list[str]:
    """The required medical and identity documents not (yet) approved by a reviewer."""
    from app.review.services import current_documents, required_kinds

    approved = {d.kind for d in current_documents(campaign.id)
                if d.status == DocumentStatus.approved}
    return [kind.label for kind in required_kinds(campaign) if kind not in approved]


def upload_receipts(withdrawal_id: int, organizer: User,
                    files: Sequence[CheckedFile]) -> list[PayoutDocument]:
    """Receipts for a paid withdrawal, for finance to approve and publish. Images only: they
    are shown on the campaign page."""
    withdrawal = db.session.get(Withdrawal, withdrawal_id)
    if withdrawal is None or withdrawal.organizer_id != organizer.id:
        raise PayoutError("提现记录不存在", "not_found")
    if withdrawal.status != WithdrawalStatus.paid:
        raise PayoutError("提现到账后才能上传收据", "not_paid")
    if not files:
        raise PayoutError("请选择收据照片", "no_files")
    if any(f.content_type == "application/pdf" for f in files):
        raise PayoutError("收据会公开展示，请上传照片（JPG 或 PNG），不要上传 PDF", "pdf")
    existing = db.session.scalar(select(func.count()).select_from(PayoutDocument).where(
        PayoutDocument.withdrawal_id == withdrawal.id, PayoutDocument.kind == DocKind.receipt))
    if existing + len(files) > MAX_PER_WITHDRAWAL:
        raise PayoutError(f"每笔提现最多 {MAX_PER_WITHDRAWAL} 张收据", "too_many_files")
    keys = store(files)
    committed = False
    try:
        added = attach(withdrawal, DocKind.receipt, files, keys, organizer.id)
        db.session.commit()
        committed = True
    finally:
        if not committed:
            db.session.rollback()
            discard(keys)
    return added


def decide_document(document_id: int, staff: StaffAccount, approve: bool,
                    note: str = "") -> PayoutDocument:
    """Finance approves a receipt for public disclosure, or rejects it with a reason."""
    if not isinstance(staff, StaffAccount) or not staff.has_role(StaffRole.finance):
        raise PayoutError("只有财务人员可以审核票据", "forbidden")
    document = db.session.get(PayoutDocument, document_id, with_for_update=True)
    if document is None:
        raise PayoutError("文件不存在", "not_found")
    note = (note or "").strip()[:300]
    if not approve and not note:
        raise PayoutError("请说明不通过的原因", "reason_required")
    before = document.status
    document.status = DocStatus.approved if approve else DocStatus.rejected
    document.note = note
    document.decided_by_id, document.decided_at = staff.id, utcnow()
    record_audit(staff, "payout_document.approve" if approve else "payout_document.reject",
                 "payout_document", document.id, before={"status": before},
                 after={"status": document.status, "kind": document.kind}, reason=note,
                 campaign_id=document.campaign_id)
    db.session.commit()
    return document


def save_statement(campaign_id: int, organizer: User, body: str) -> LeftoverStatement:
    """After the campaign has ended: what the organizer will do with money left over."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or campaign.organizer_id != organizer.id:
        raise PayoutError("筹款不存在", "not_found")
    if campaign.status != CampaignStatus.ended:
        raise PayoutError("筹款结束后才能填写剩余善款说明", "not_ended")
    body = (body or "").strip()
    if not STATEMENT_MIN <= len(body) <= STATEMENT_MAX:
        raise PayoutError(f"说明需要 {STATEMENT_MIN} 到 {STATEMENT_MAX} 个字", "length")
    statement = db.session.scalar(select(LeftoverStatement).where(
        LeftoverStatement.campaign_id == campaign_id)) or LeftoverStatement(
            campaign_id=campaign_id, user_id=organizer.id)
    statement.body = body
    db.session.add(statement)
    db.session.commit()
    return statement

