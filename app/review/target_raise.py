"""追加目标: a live campaign asks for a higher target with a reason and new medical bills. The
bills are review documents (kind raise_bills) decided one by one like any document; the raise is
a campaign change (app/campaigns/changes.py) that staff approve only once every bill of it is
approved. The new target may not pass the campaign's cap (公约 2.0: CAMPAIGN_TARGET_CAP_FEN,
¥500,000 unless staff lifted it for this campaign, with a reason)."""
from __future__ import annotations

import hashlib

from sqlalchemy import select

from app.auth.models import User
from app.campaigns.change_models import CampaignChange, ChangeKind
from app.campaigns.changes import clean_change_reason, lock_changeable, open_change, target_cap_fen
from app.campaigns.errors import CampaignError
from app.campaigns.models import Campaign
from app.core.storage import delete_all, put_all
from app.core.uploads import CheckedFile
from app.extensions import db
from app.models_base import format_yuan
from app.review.models import CampaignDocument, DocumentKind, DocumentStatus
from app.review.services import MAX_PER_KIND

STEP_FEN = 100   # a raise asks for at least one yuan more


def target_range(campaign: Campaign) -> tuple[int, int]:
    """(lowest, highest) new target in fen this campaign may ask for now."""
    return campaign.target_fen + STEP_FEN, target_cap_fen(campaign.id)


def range_message(campaign: Campaign) -> str:
    low, high = target_range(campaign)
    if low > high:
        return (f"本筹款的目标已达上限 {format_yuan(high)} 元，不能再追加；"
                "如确有需要，请联系平台客服说明情况")
    return f"新的目标金额需在 {format_yuan(low)} 元到 {format_yuan(high)} 元之间"


def propose_target_raise(campaign: Campaign | int, organizer: User, target_fen: int,
                         reason: str, bills: list[CheckedFile]) -> CampaignChange:
    """The change and its bills in one transaction; the bills' files are removed again if it
    fails."""
    campaign, user = lock_changeable(campaign, organizer)
    low, high = target_range(campaign)
    if not isinstance(target_fen, int) or isinstance(target_fen, bool) or not (
            low <= target_fen <= high):
        raise CampaignError(range_message(campaign), "target_out_of_range")
    text = clean_change_reason(reason)
    if not bills:
        raise CampaignError("请上传新的医疗费用票据（费用清单、缴费发票或医生的费用预估）",
                            "bills_required")
    if len(bills) > MAX_PER_KIND:
        raise CampaignError(f"一次最多上传 {MAX_PER_KIND} 个文件", "too_many_files")
    keys = put_all([bill.data for bill in bills])
    committed = False
    try:
        documents = [CampaignDocument(
            campaign_id=campaign.id, kind=DocumentKind.raise_bills, storage_key=key,
            content_type=bill.content_type, size_bytes=len(bill.data), width=bill.width,
            height=bill.height, pages=bill.pages, sha256=hashlib.sha256(bill.data).hexdigest(),
            uploaded_by_id=user.id, status=DocumentStatus.pending, reasons=[], note="")
            for key, bill in zip(keys, bills)]
        db.session.add_all(documents)
        db.session.flush()
        change = open_change(campaign, user, ChangeKind.target,
                             {"target_fen": campaign.target_fen}, {"target_fen": target_fen},
                             text, [document.id for document in documents])
        db.session.commit()
        committed = True
    finally:
        if not committed:
            db.session.rollback()
            delete_all(keys)
    return change


def bills_of(change: CampaignChange) -> list[CampaignDocument]:
    if not change.document_ids:
        return []
    return list(db.session.scalars(select(CampaignDocument).where(
        CampaignDocument.id.in_(change.document_ids), CampaignDocument.removed_at.is_(None))
        .order_by(CampaignDocument.id)))


def raise_blockers(change: CampaignChange) -> list[str]:
    """Registered with campaigns' change checks: a raise waits for its bills' review."""
    if change.kind != ChangeKind.target:
        return []
    bills = bills_of(change)
    pending = sum(1 for bill in bills if bill.status == DocumentStatus.pending)
    rejected = sum(1 for bill in bills if bill.status == DocumentStatus.rejected)
    blockers = []
    if not bills:
        blockers.append("没有可审核的医疗票据")
    if pending:
        blockers.append(f"还有 {pending} 份医疗票据未审核")
    if rejected:
        blockers.append(f"有 {rejected} 份医疗票据未通过，请驳回这次追加")
    return blockers
