"""The only place a campaign changes. One business action, one transaction (commit).

Every state transition is checked against TRANSITIONS, done on a row locked for the
transaction, and recorded as a CampaignEvent with who, when and why. Functions take ids or
objects and never read flask.request; invalid actions raise CampaignError (message in Chinese).
"""
from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, or_, select, update

from app.auth.models import StaffAccount, StaffRole, User
from app.campaigns.errors import CampaignError  # re-exported: callers catch services.CampaignError
from app.campaigns.fields import apply_fields
from app.campaigns.models import (
    ACTIVE_STATUSES,
    MAX_PHOTOS,
    Campaign,
    CampaignEvent,
    CampaignPhoto,
    CampaignStatus,
)
from app.campaigns import telling
from app.campaigns.launch_checks import run_launch_checks
from app.campaigns.photos import ProcessedImage, delete_stored, store_image
from app.core.reasons import ReasonRefused, clean_reason
from app.extensions import db
from app.models_base import as_utc, utcnow
from app.notices.services import send_told

S = CampaignStatus
TRANSITIONS: dict[CampaignStatus, frozenset[CampaignStatus]] = {
    S.draft: frozenset({S.submitted}),
    S.submitted: frozenset({S.live, S.rejected}),
    S.rejected: frozenset({S.submitted}),
    S.live: frozenset({S.ended, S.frozen, S.terminated}),
    S.frozen: frozenset({S.live, S.terminated}),
    S.ended: frozenset(),
    S.terminated: frozenset(),
}
REVIEW_ROLES = (StaffRole.reviewer, StaffRole.admin)
REASON_MAX = 500
REASON_DEADLINE = "筹款期限已到"
REASON_TARGET = "已筹满目标金额"
CAMPAIGNS = Campaign.__table__
EVENTS = CampaignEvent.__table__

__all__ = ["CampaignError", "create_campaign", "update_campaign", "add_photos", "remove_photo",
           "set_cover", "submit_campaign", "approve_campaign", "reject_campaign", "end_campaign",
           "end_due_campaigns", "end_if_target_reached", "end_at_target_in_transaction",
           "normalize_patient_name"]


# --- creating and editing (organizer) ---------------------------------------------------------

def create_campaign(organizer: User | int, data: Mapping[str, Any],
                    photos: Iterable[ProcessedImage] = ()) -> Campaign:
    """A new draft with its first photos (the first one becomes the cover)."""
    user = _user(organizer)
    run_launch_checks(user)
    photos = list(photos)
    _check_photo_count(0, len(photos))
    campaign = Campaign(organizer_id=user.id, status=S.draft)
    apply_fields(campaign, data, require_all=True)
    db.session.add(campaign)
    db.session.flush()
    _record(campaign, None, S.draft, user=user, reason="创建草稿")
    return _commit_with_photos(campaign, list(enumerate(photos)))


def update_campaign(campaign: Campaign | int, organizer: User | int, data: Mapping[str, Any],
                    photos: Iterable[ProcessedImage] = (),
                    cover: ProcessedImage | None = None) -> Campaign:
    """Change a draft or rejected campaign; a new cover goes first, new photos go last."""
    campaign = _lock(campaign)
    user = _user(organizer)
    _check_organizer(campaign, user)
    _check_editable(campaign)
    photos = list(photos)
    _check_photo_count(len(campaign.photos), len(photos) + (1 if cover else 0))
    apply_fields(campaign, data, require_all=False)
    placed: list[tuple[int, ProcessedImage]] = []
    if cover is not None:
        for photo in campaign.photos:
            photo.position += 1
        placed.append((0, cover))
    end = len(campaign.photos) + len(placed)
    placed += [(end + offset, image) for offset, image in enumerate(photos)]
    return _commit_with_photos(campaign, placed)


def add_photos(campaign: Campaign | int, organizer: User | int,
               photos: Iterable[ProcessedImage]) -> list[CampaignPhoto]:
    campaign = _lock(campaign)
    _check_organizer(campaign, _user(organizer))
    _check_editable(campaign)
    photos = list(photos)
    if not photos:
        raise CampaignError("请选择要上传的照片")
    _check_photo_count(len(campaign.photos), len(photos))
    before = {photo.id for photo in campaign.photos}
    start = len(campaign.photos)
    _commit_with_photos(campaign, [(start + i, image) for i, image in enumerate(photos)])
    return [photo for photo in campaign.photos if photo.id not in before]


def remove_photo(campaign: Campaign | int, organizer: User | int, photo_id: int) -> None:
    campaign = _lock(campaign)
    _check_organizer(campaign, _user(organizer))
    _check_editable(campaign)
    photo = _photo_of(campaign, photo_id)
    key = photo.storage_key
    campaign.photos.remove(photo)
    _renumber(campaign)
    db.session.commit()
    delete_stored([key])  # after the commit: a failed commit leaves the file in place


def set_cover(campaign: Campaign | int, organizer: User | int, photo_id: int) -> None:
    campaign = _lock(campaign)
    _check_organizer(campaign, _user(organizer))
    _check_editable(campaign)
    photo = _photo_of(campaign, photo_id)
    ordered = [photo] + [p for p in campaign.photos if p.id != photo.id]
    for position, item in enumerate(ordered):
        item.position = position
    db.session.commit()


# --- transitions --------------------------------------------------------------------------------

def submit_campaign(campaign: Campaign | int, by_user: User | int) -> Campaign:
    """Draft or rejected → submitted (waiting for review). Needs a cover photo."""
    campaign = _lock(campaign)
    user = _user(by_user)
    _check_organizer(campaign, user)
    _check_transition(campaign, S.submitted)
    if not campaign.photos:
        raise CampaignError("请至少上传一张照片作为封面，再提交审核", "photo_required")
    run_launch_checks(user, campaign)
    _lock_patient(campaign)
    _check_one_per_patient(campaign, blocking=ACTIVE_STATUSES | {S.submitted})
    previous = campaign.status
    campaign.status = S.submitted
    campaign.submitted_at = utcnow()
    _record(campaign, previous, S.submitted, user=user, reason="提交审核")
    db.session.commit()
    return campaign


def approve_campaign(campaign: Campaign | int, by_staff: StaffAccount | int, reason: str = "",
                     now: datetime | None = None) -> Campaign:
    """Submitted → live: the deadline is live_at + duration_days."""
    campaign = _lock(campaign)
    staff = _reviewer(by_staff)
    _check_transition(campaign, S.live)
    _lock_patient(campaign)
    _check_one_per_patient(campaign, blocking=ACTIVE_STATUSES)
    campaign.status = S.live
    campaign.live_at = now or utcnow()
    campaign.ends_at = campaign.live_at + timedelta(days=campaign.duration_days)
    _record(campaign, S.submitted, S.live, staff=staff, reason=_reason(reason, required=False))
    db.session.commit()
    return campaign


def reject_campaign(campaign: Campaign | int, by_staff: StaffAccount | int,
                    reason: str) -> Campaign:
    """Submitted → rejected, with a reason the organizer reads; they may edit and resubmit."""
    campaign = _lock(campaign)
    staff = _reviewer(by_staff)
    _check_transition(campaign, S.rejected)
    text = _reason(reason, required=True)
    campaign.status = S.rejected
    _record(campaign, S.submitted, S.rejected, staff=staff, reason=text)
    db.session.commit()
    return campaign


def end_campaign(campaign: Campaign | int, reason: str, by_staff: StaffAccount | int | None = None,
                 now: datetime | None = None) -> Campaign:
    """Live → ended (deadline, target reached, or a staff decision)."""
    campaign = _lock(campaign)
    staff = _reviewer(by_staff) if by_staff is not None else None
    _check_transition(campaign, S.ended)
    _end(campaign, _reason(reason, required=True), staff=staff, now=now)
    db.session.commit()
    send_told()
    return campaign


def end_due_campaigns(now: datetime | None = None) -> int:
    """End every live campaign past its deadline or at its target; one commit each.

    Meant for a scheduled job; safe to run concurrently (each row is re-checked under its lock).
    """
    now = now or utcnow()
    due_ids = db.session.scalars(
        select(Campaign.id).where(
            Campaign.status == S.live,
            or_(Campaign.ends_at <= now, Campaign.raised_fen >= Campaign.target_fen))
        .order_by(Campaign.id)).all()
    ended = 0
    for campaign_id in due_ids:
        campaign = _lock(campaign_id)
        reason = _due_reason(campaign, now)
        if reason is None:
            db.session.rollback()
            continue
        _end(campaign, reason, staff=None, now=now)
        db.session.commit()
        send_told()
        ended += 1
    return ended


def end_at_target_in_transaction(campaign_id: int, now: datetime) -> bool:
    """End a live campaign whose total has reached its target, inside the caller's transaction
    (no commit): the donation that fills it and the end are one commit, so no page ever shows
    a full campaign still taking donations. Core statements on the confirming connection.
    The organizer and donors are told in it too; the caller sends them after its commit."""
    conn = db.session.connection()
    ended = conn.execute(
        update(CAMPAIGNS)
        .where(CAMPAIGNS.c.id == campaign_id, CAMPAIGNS.c.status == S.live,
               CAMPAIGNS.c.raised_fen >= CAMPAIGNS.c.target_fen)
        .values(status=S.ended, ended_at=now)
        .returning(CAMPAIGNS.c.title, CAMPAIGNS.c.organizer_id)).one_or_none()
    if ended is None:
        return False
    conn.execute(insert(EVENTS).values(
        campaign_id=campaign_id, from_status=S.live.value, to_status=S.ended.value,
        reason=REASON_TARGET, created_at=now))
    telling.ended(campaign_id, ended.title, ended.organizer_id, REASON_TARGET)
    return True


def end_if_target_reached(campaign_id: int) -> bool:
    """Called after a donation commits: end the campaign if it is live and now fully funded."""
    campaign = _lock(campaign_id)
    if campaign.status != S.live or campaign.raised_fen < campaign.target_fen:
        db.session.rollback()
        return False
    _end(campaign, REASON_TARGET, staff=None, now=None)
    db.session.commit()
    send_told()
    return True


# --- one live campaign per patient ------------------------------------------------------------

def normalize_patient_name(name: str) -> str:
    """'王 小明', '王小明 ', full-width letters… → one key. Case and spacing don't matter."""
    text = unicodedata.normalize("NFKC", name or "")
    return "".join(ch for ch in text if not ch.isspace() and ch not in "·•・.").casefold()


def _check_one_per_patient(campaign: Campaign, blocking: Iterable[CampaignStatus]) -> None:
    # There are no patient ID numbers yet, so a patient is identified by the organizer plus the
    # normalized patient name. Two different organizers raising for the same person are not
    # caught until the verification issue adds patient identity documents.
    key = normalize_patient_name(campaign.patient_name)
    others = db.session.scalars(
        select(Campaign).where(Campaign.organizer_id == campaign.organizer_id,
                               Campaign.id != campaign.id,
                               Campaign.status.in_(list(blocking)))).all()
    for other in others:
        if normalize_patient_name(other.patient_name) == key:
            if other.status == S.submitted:
                raise CampaignError("该患者已有一个筹款在审核中，请等待审核结果", "patient_busy")
            raise CampaignError("该患者已有一个正在进行的筹款，同一患者同时只能有一个筹款",
                                "patient_busy")


def _lock_patient(campaign: Campaign) -> None:
    """Serialize submits/approvals for one organizer (PostgreSQL row lock; SQLite is serial)."""
    db.session.execute(select(User.id).where(User.id == campaign.organizer_id).with_for_update())


# --- helpers ------------------------------------------------------------------------------------

def _lock(campaign: Campaign | int) -> Campaign:
    campaign_id = campaign if isinstance(campaign, int) else campaign.id
    found = db.session.scalars(
        select(Campaign).where(Campaign.id == campaign_id).with_for_update(of=Campaign)
        .execution_options(populate_existing=True)).unique().one_or_none()
    if found is None:
        raise CampaignError("筹款不存在", "not_found")
    return found


def _user(user: User | int) -> User:
    found = db.session.get(User, user) if isinstance(user, int) else user
    if found is None or getattr(found, "is_staff", False):
        raise CampaignError("只有发起人可以这样做", "forbidden")
    return found


def _reviewer(staff: StaffAccount | int) -> StaffAccount:
    found = db.session.get(StaffAccount, staff) if isinstance(staff, int) else staff
    if not isinstance(found, StaffAccount) or not found.active or not found.has_role(*REVIEW_ROLES):
        raise CampaignError("只有审核员可以审核筹款", "forbidden")
    return found


def _check_organizer(campaign: Campaign, user: User) -> None:
    if campaign.organizer_id != user.id:
        raise CampaignError("只有发起人可以修改这个筹款", "forbidden")


def _check_editable(campaign: Campaign) -> None:
    if not campaign.is_editable:
        raise CampaignError(f"筹款{campaign.status.label}，不能再修改", "not_editable")


def _check_transition(campaign: Campaign, target: CampaignStatus) -> None:
    if target not in TRANSITIONS[campaign.status]:
        raise CampaignError(f"筹款当前状态为“{campaign.status.label}”，不能变为“{target.label}”",
                            "invalid_transition")


def _check_photo_count(existing: int, adding: int) -> None:
    if existing + adding > MAX_PHOTOS:
        raise CampaignError(f"最多上传 {MAX_PHOTOS} 张照片（已有 {existing} 张）",
                            "too_many_photos")


def _photo_of(campaign: Campaign, photo_id: int) -> CampaignPhoto:
    for photo in campaign.photos:
        if photo.id == photo_id:
            return photo
    raise CampaignError("照片不存在", "not_found")


def _renumber(campaign: Campaign) -> None:
    for position, photo in enumerate(campaign.photos):
        photo.position = position


def _reason(reason: str | None, required: bool) -> str:
    try:
        return clean_reason(reason, required, REASON_MAX)
    except ReasonRefused as refused:
        raise CampaignError(refused.message, refused.code) from refused


def _due_reason(campaign: Campaign, now: datetime) -> str | None:
    if campaign.status != S.live:
        return None
    if campaign.raised_fen >= campaign.target_fen:
        return REASON_TARGET
    if campaign.ends_at is not None and as_utc(campaign.ends_at) <= as_utc(now):
        return REASON_DEADLINE
    return None


def _end(campaign: Campaign, reason: str, staff: StaffAccount | None,
         now: datetime | None, user: User | None = None) -> None:
    """Live → ended, in the caller's transaction; `user`: the organizer ending it early."""
    previous = campaign.status
    campaign.status = S.ended
    campaign.ended_at = now or utcnow()
    _record(campaign, previous, S.ended, user=user, staff=staff, reason=reason)
    telling.ended(campaign.id, campaign.title, campaign.organizer_id, reason)


def _record(campaign: Campaign, from_status: CampaignStatus | None, to_status: CampaignStatus,
            user: User | None = None, staff: StaffAccount | None = None,
            reason: str = "") -> CampaignEvent:
    event = CampaignEvent(
        campaign_id=campaign.id, from_status=from_status.value if from_status else None,
        to_status=to_status.value, actor_user_id=user.id if user else None,
        actor_staff_id=staff.id if staff else None, reason=reason[:REASON_MAX])
    db.session.add(event)
    return event


def _commit_with_photos(campaign: Campaign,
                        placed: list[tuple[int, ProcessedImage]]) -> Campaign:
    """Write the files, add their rows, commit; if anything fails, no file is left behind."""
    keys: list[str] = []
    committed = False
    try:
        for position, image in placed:
            key = store_image(image)
            keys.append(key)
            campaign.photos.append(CampaignPhoto(
                position=position, storage_key=key, width=image.width, height=image.height))
        db.session.commit()
        committed = True
    finally:
        if not committed:
            db.session.rollback()
            delete_stored(keys)
    return campaign
