"""Changing a live campaign: the organizer proposes a change (story, photos, hospital, diagnosis,
title — or, through app/review/target_raise.py, a higher target), staff approve or reject it, and
the live page keeps the approved version until they approve. One pending change per campaign.

One business action, one transaction. New photos are re-encoded and written to the public photo
store when the change is proposed (under fresh random keys nobody else is shown); a rejected
change's photos and an approved change's removed photos are deleted after the commit.

Features that must agree before a change is approved (review: the bills of a 追加目标 are
approved documents) register `register_change_check(app, check)`; `check(change)` returns what
still blocks it, in Chinese."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from flask import Flask, current_app
from sqlalchemy import select

from app.auth.models import StaffAccount, StaffRole, User
from app.campaigns import change_telling
from app.campaigns.change_models import (
    TEXT_FIELDS,
    CampaignChange,
    ChangeKind,
    ChangeStatus,
    TargetCapLift,
)
from app.campaigns.errors import CampaignError
from app.campaigns.fields import apply_fields
from app.campaigns.models import MAX_PHOTOS, PUBLIC_STATUSES, Campaign, CampaignPhoto, CampaignStatus
from app.campaigns.photos import ProcessedImage, delete_stored, store_image
from app.campaigns.services import _check_organizer, _lock, _user
from app.core.audit import record_audit
from app.core.plugins import registry
from app.core.reasons import ReasonRefused, clean_reason
from app.extensions import db
from app.models_base import format_yuan, utcnow
from app.notices.services import send_told

REVIEW_ROLES = (StaffRole.reviewer, StaffRole.admin)
CAP_ROLES = (StaffRole.admin,)
DEFAULT_TARGET_CAP_FEN = 500_000 * 100
REASON_MIN, REASON_MAX = 5, 500
CHANGEABLE = frozenset({CampaignStatus.live})


def register_change_check(app: Flask, check: Callable[[CampaignChange], list[str]]) -> None:
    registry("campaign_change_checks", list, app).append(check)


# --- reading -------------------------------------------------------------------------------------

def pending_change(campaign_id: int) -> CampaignChange | None:
    return db.session.scalar(select(CampaignChange).where(
        CampaignChange.campaign_id == campaign_id,
        CampaignChange.status == ChangeStatus.pending).limit(1))


def changes_of(campaign_id: int) -> list[CampaignChange]:
    """Every change of a campaign, newest first (the organizer's and staff's view)."""
    return list(db.session.scalars(select(CampaignChange).where(
        CampaignChange.campaign_id == campaign_id).order_by(CampaignChange.id.desc())))


def change_log(campaign_id: int) -> list[CampaignChange]:
    """修改记录: the approved changes, newest first (public; on the campaign page read in its
    one statement, page_data)."""
    from app.campaigns import page_data

    fetched = page_data.prefetched(campaign_id, "change_log")
    if fetched is not page_data.MISSING:
        return fetched
    return list(db.session.scalars(select(CampaignChange).where(
        CampaignChange.campaign_id == campaign_id,
        CampaignChange.status == ChangeStatus.approved)
        .order_by(CampaignChange.decided_at.desc(), CampaignChange.id.desc())))


def change_log_page_part():
    from app.campaigns import page_data
    from app.campaigns.page_data import CAMPAIGN_ID, rows_of

    approved = rows_of(select(*CampaignChange.__table__.c).where(
        CampaignChange.campaign_id == CAMPAIGN_ID, CampaignChange.status == ChangeStatus.approved),
        CampaignChange.decided_at.desc(), CampaignChange.id.desc())
    return page_data.Part("change_log", lambda: {"approved": approved}, lambda values: [
        page_data.transient(CampaignChange, row)
        for row in page_data.decode_rows(values["approved"], approved)])


def pending_queue() -> list[CampaignChange]:
    """Changes waiting for staff, longest waiting first."""
    return list(db.session.scalars(select(CampaignChange).where(
        CampaignChange.status == ChangeStatus.pending).order_by(CampaignChange.id)))


def target_cap_fen(campaign_id: int) -> int:
    """The highest target this campaign may ask for: the configured cap (公约 2.0), unless staff
    lifted it for this campaign."""
    lifted = db.session.scalar(select(TargetCapLift.cap_fen).where(
        TargetCapLift.campaign_id == campaign_id).order_by(TargetCapLift.id.desc()).limit(1))
    if lifted is not None:
        return lifted
    return int(current_app.config.get("CAMPAIGN_TARGET_CAP_FEN", DEFAULT_TARGET_CAP_FEN))


# --- the organizer -------------------------------------------------------------------------------

def propose_edit(campaign: Campaign | int, organizer: User | int, data: Mapping[str, str],
                 reason: str, new_photos: Iterable[ProcessedImage] = (),
                 remove_photo_ids: Iterable[int] = ()) -> CampaignChange:
    """A change of title, diagnosis, hospital, story and photos, waiting for review."""
    campaign, user = lock_changeable(campaign, organizer)
    scratch = Campaign()
    apply_fields(scratch, {name: data[name] for name in TEXT_FIELDS if name in data},
                 require_all=False)   # the campaign form's rules, on a copy
    before, after = {}, {}
    for name in TEXT_FIELDS:
        proposed = getattr(scratch, name, None)
        if proposed is not None and proposed != getattr(campaign, name):
            before[name], after[name] = getattr(campaign, name), proposed
    new_photos = list(new_photos)
    removing = _photos_to_remove(campaign, remove_photo_ids)
    kept = len(campaign.photos) - len(removing) + len(new_photos)
    if kept > MAX_PHOTOS:
        raise CampaignError(f"最多 {MAX_PHOTOS} 张照片（已有 {len(campaign.photos)} 张）",
                            "too_many_photos")
    if kept < 1:
        raise CampaignError("至少要保留一张照片作为封面", "photo_required")
    if removing:
        before["photos_removed"] = [_photo_json(photo) for photo in removing]
        after["photos_removed"] = []
    if not before and not new_photos:
        raise CampaignError("没有需要修改的内容：请修改文字或照片后再提交", "nothing_changed")
    text = clean_change_reason(reason)
    keys: list[str] = []
    committed = False
    try:
        if new_photos:
            added = []
            for image in new_photos:
                keys.append(store_image(image))
                added.append({"key": keys[-1], "width": image.width, "height": image.height})
            before["photos_added"], after["photos_added"] = [], added
        change = open_change(campaign, user, ChangeKind.edit, before, after, text)
        db.session.commit()
        committed = True
    finally:
        if not committed:
            db.session.rollback()
            delete_stored(keys)
    return change


def lock_changeable(campaign: Campaign | int, organizer: User | int) -> tuple[Campaign, User]:
    """The organizer's live campaign, locked, with no change pending (else CampaignError)."""
    campaign = _lock(campaign)
    user = _user(organizer)
    _check_organizer(campaign, user)
    if campaign.status not in CHANGEABLE:
        raise CampaignError(f"筹款{campaign.status.label}，不能再申请修改", "not_live")
    if pending_change(campaign.id) is not None:
        raise CampaignError("已有一项修改正在审核，审核完成后才能再次申请", "change_pending")
    return campaign, user


def open_change(campaign: Campaign, user: User, kind: ChangeKind, before: dict, after: dict,
                reason: str, document_ids: list[int] | None = None) -> CampaignChange:
    """Add the pending change to the caller's transaction (no commit)."""
    change = CampaignChange(campaign_id=campaign.id, organizer_id=user.id, kind=kind,
                            status=ChangeStatus.pending, reason=reason, before=before,
                            after=after, document_ids=list(document_ids or []),
                            decision_note="")
    db.session.add(change)
    db.session.flush()
    return change


def clean_change_reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not REASON_MIN <= len(text) <= REASON_MAX:
        raise CampaignError(f"修改原因需要 {REASON_MIN} 到 {REASON_MAX} 个字", "reason_required")
    return text


# --- staff ---------------------------------------------------------------------------------------

def change_blockers(change: CampaignChange) -> list[str]:
    blockers = []
    if change.status != ChangeStatus.pending:
        blockers.append(f"这项修改{change.status.label}")
    for check in registry("campaign_change_checks", list):
        blockers += check(change)
    return blockers


def approve_change(change_id: int, staff: StaffAccount, note: str = "") -> CampaignChange:
    """Apply the change to the campaign; the organizer is told, and the donors when it touches
    the story or the target."""
    staff = _staff(staff, REVIEW_ROLES, "只有审核员可以审核修改")
    change = _locked_change(change_id)
    campaign = change.campaign
    blockers = change_blockers(change)
    if change.kind == ChangeKind.target and campaign.status != CampaignStatus.live:
        blockers.append(f"筹款{campaign.status.label}，不能再追加目标")
    elif campaign.status not in PUBLIC_STATUSES:
        blockers.append(f"筹款{campaign.status.label}")
    if blockers:
        db.session.rollback()
        raise CampaignError("还不能通过：" + "；".join(blockers), "not_ready")
    note = _note(note, required=False)
    removed_keys = _apply(campaign, change)
    _decide(change, staff, ChangeStatus.approved, note)
    change_telling.approved(change)
    db.session.commit()
    delete_stored(removed_keys)
    send_told()
    return change


def reject_change(change_id: int, staff: StaffAccount, note: str) -> CampaignChange:
    """The page stays as it was; the organizer reads the reason and may ask again."""
    staff = _staff(staff, REVIEW_ROLES, "只有审核员可以审核修改")
    change = _locked_change(change_id)
    if change.status != ChangeStatus.pending:
        db.session.rollback()
        raise CampaignError(f"这项修改{change.status.label}", "not_pending")
    note = _note(note, required=True)
    _decide(change, staff, ChangeStatus.rejected, note)
    change_telling.rejected(change)
    unused = [photo["key"] for photo in change.after.get("photos_added", [])]
    db.session.commit()
    delete_stored(unused)
    send_told()
    return change


def lift_target_cap(campaign_id: int, staff: StaffAccount, cap_fen: int,
                    reason: str) -> TargetCapLift:
    """For this campaign only, and never without a reason (kept here and in the audit log)."""
    staff = _staff(staff, CAP_ROLES, "只有管理员可以调整目标上限")
    campaign = _lock(campaign_id)
    current = target_cap_fen(campaign.id)
    if not isinstance(cap_fen, int) or isinstance(cap_fen, bool) or cap_fen <= current:
        raise CampaignError(f"新的上限需高于当前上限 ¥{format_yuan(current)}", "invalid_cap")
    if cap_fen > 100 * DEFAULT_TARGET_CAP_FEN:
        raise CampaignError("上限过高，请核对金额", "invalid_cap")
    text = _note(reason, required=True)
    lift = TargetCapLift(campaign_id=campaign.id, cap_fen=cap_fen, reason=text, staff_id=staff.id)
    db.session.add(lift)
    record_audit(staff, "campaign.target_cap_lift", "campaign", campaign.id,
                 before={"target_cap_fen": current}, after={"target_cap_fen": cap_fen},
                 reason=text)
    db.session.commit()
    return lift


# --- helpers -------------------------------------------------------------------------------------

def _apply(campaign: Campaign, change: CampaignChange) -> list[str]:
    """Copy the change onto the campaign; returns the keys of photos to delete after commit."""
    for name in TEXT_FIELDS:
        if name in change.after:
            setattr(campaign, name, change.after[name])
    if "target_fen" in change.after:
        campaign.target_fen = int(change.after["target_fen"])
    removed_ids = {photo["id"] for photo in change.before.get("photos_removed", [])}
    removed = [photo for photo in campaign.photos if photo.id in removed_ids]
    for photo in removed:
        campaign.photos.remove(photo)
    for item in change.after.get("photos_added", []):
        campaign.photos.append(CampaignPhoto(position=len(campaign.photos), storage_key=item["key"],
                                             width=item["width"], height=item["height"]))
    for position, photo in enumerate(campaign.photos):
        photo.position = position
    campaign.updated_at = utcnow()   # the anonymous page cache keys on it
    return [photo.storage_key for photo in removed]


def _decide(change: CampaignChange, staff: StaffAccount, status: ChangeStatus, note: str) -> None:
    change.status, change.decision_note = status, note
    change.decided_by_id, change.decided_at = staff.id, utcnow()
    record_audit(staff, f"campaign_change.{'approve' if status == ChangeStatus.approved else 'reject'}",
                 "campaign_change", change.id, before={"status": ChangeStatus.pending},
                 after={"status": status, "kind": change.kind, "fields": change.fields},
                 reason=note, campaign_id=change.campaign_id)


def _locked_change(change_id: int) -> CampaignChange:
    campaign_id = db.session.scalar(select(CampaignChange.campaign_id)
                                    .where(CampaignChange.id == change_id))
    if campaign_id is None:
        raise CampaignError("修改申请不存在", "not_found")
    _lock(campaign_id)   # decisions on one campaign's changes run one at a time
    return db.session.scalars(select(CampaignChange).where(CampaignChange.id == change_id)
                              .execution_options(populate_existing=True)).one()


def _photos_to_remove(campaign: Campaign, photo_ids: Iterable[int]) -> list[CampaignPhoto]:
    wanted = set(photo_ids)
    found = [photo for photo in campaign.photos if photo.id in wanted]
    if len(found) != len(wanted):
        raise CampaignError("照片不存在", "not_found")
    return found


def _photo_json(photo: CampaignPhoto) -> dict:
    return {"id": photo.id, "key": photo.storage_key, "width": photo.width,
            "height": photo.height}


def _staff(staff: StaffAccount, roles, message: str) -> StaffAccount:
    if not isinstance(staff, StaffAccount) or not staff.active or not staff.has_role(*roles):
        raise CampaignError(message, "forbidden")
    return staff


def _note(note: str | None, required: bool) -> str:
    try:
        return clean_reason(note, required, REASON_MAX)
    except ReasonRefused as refused:
        raise CampaignError(refused.message, refused.code) from refused
