"""Staff moderation of public campaigns: freeze (donations paused, the page says why), unfreeze,
terminate. Part of the campaign services: transitions are checked against
services.TRANSITIONS, done on the locked row, recorded as a CampaignEvent and in the audit log.

Termination only changes state. Whatever must follow it after the commit (refunding the
remaining custodial balance pro rata) registers a hook in its feature's `register(app)`:

    register_termination_hook(app, enqueue_refunds)

The `_freeze` / `_terminate` helpers do not commit, so the report services can combine them
with their own changes in one transaction; they must call run_termination_hooks afterwards.
Each transition tells the organizer (and a termination the donors) in its transaction
(app/campaigns/telling.py); whoever commits then calls `notices.send_told()`. An unfreeze runs
the unfreeze hooks in its transaction (review's reports: their reporters are told it was lifted).
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask

from app.auth.models import StaffAccount, StaffRole
from app.campaigns import telling
from app.campaigns.errors import CampaignError
from app.campaigns.models import Campaign, CampaignStatus
from app.campaigns.services import _check_transition, _lock, _reason, _record
from app.core.plugins import registry
from app.extensions import db
from app.models_base import utcnow
from app.core.audit import record_audit
from app.notices.services import send_told

S = CampaignStatus
FREEZE_ROLES = (StaffRole.reviewer, StaffRole.admin)
TERMINATE_ROLES = (StaffRole.admin,)
log = logging.getLogger(__name__)


def freeze_campaign(campaign: Campaign | int, by_staff: StaffAccount, reason: str) -> Campaign:
    """Live → frozen: donations stop; the reason is shown on the campaign page."""
    campaign = _freeze(campaign, by_staff, reason)
    db.session.commit()
    send_told()
    return campaign


def unfreeze_campaign(campaign: Campaign | int, by_staff: StaffAccount, reason: str) -> Campaign:
    """Frozen → live again, after the concern is cleared."""
    campaign = _lock(campaign)
    staff = _staff(by_staff, FREEZE_ROLES, "只有审核员可以解除冻结")
    _check_transition(campaign, S.live)
    text = _reason(reason, required=True)
    event = _record(campaign, S.frozen, S.live, staff=staff, reason=text)
    record_audit(staff, "campaign.unfreeze", "campaign", campaign.id,
                 before={"status": S.frozen}, after={"status": S.live}, reason=text)
    campaign.status = S.live
    db.session.flush()
    telling.unfrozen(campaign, event.id, text)
    for hook in registry("unfreeze_hooks", list):
        hook(campaign.id, staff, text)
    db.session.commit()
    send_told()
    return campaign


def terminate_campaign(campaign: Campaign | int, by_staff: StaffAccount,
                       reason: str) -> Campaign:
    """Live or frozen → terminated, for good. Refunds follow through after_termination."""
    campaign = _terminate(campaign, by_staff, reason)
    db.session.commit()
    send_told()
    run_termination_hooks(campaign.id)
    return campaign


def _freeze(campaign: Campaign | int, by_staff: StaffAccount, reason: str,
            action: str = "campaign.freeze") -> Campaign:
    campaign = _lock(campaign)
    staff = _staff(by_staff, FREEZE_ROLES, "只有审核员可以冻结筹款")
    _check_transition(campaign, S.frozen)
    text = _reason(reason, required=True)
    event = _record(campaign, campaign.status, S.frozen, staff=staff, reason=text)
    record_audit(staff, action, "campaign", campaign.id, before={"status": campaign.status},
                 after={"status": S.frozen}, reason=text)
    campaign.status = S.frozen
    db.session.flush()
    telling.frozen(campaign, event.id, text)
    return campaign


def _terminate(campaign: Campaign | int, by_staff: StaffAccount, reason: str,
               action: str = "campaign.terminate") -> Campaign:
    campaign = _lock(campaign)
    staff = _staff(by_staff, TERMINATE_ROLES, "只有管理员可以终止筹款")
    _check_transition(campaign, S.terminated)
    text = _reason(reason, required=True)
    _record(campaign, campaign.status, S.terminated, staff=staff, reason=text)
    record_audit(staff, action, "campaign", campaign.id, before={"status": campaign.status},
                 after={"status": S.terminated}, reason=text)
    campaign.status = S.terminated
    campaign.ended_at = utcnow()
    telling.terminated(campaign, text)
    return campaign


def register_termination_hook(app: Flask, hook: Callable[[int], None]) -> None:
    """`hook(campaign_id)` runs after a termination commits."""
    registry("termination_hooks", list, app).append(hook)


def register_unfreeze_hook(app: Flask, hook: Callable[[int, StaffAccount, str], None]) -> None:
    """`hook(campaign_id, staff, reason)` runs in the unfreeze's transaction (no commit)."""
    registry("unfreeze_hooks", list, app).append(hook)


def run_termination_hooks(campaign_id: int) -> None:
    """After the commit. Hooks should only enqueue idempotent jobs (taking the campaign id), so
    that the refund work can be retried from the terminated state whatever happens here."""
    for hook in registry("termination_hooks", list):
        log.info("termination of campaign %s: running %r", campaign_id, hook)
        hook(campaign_id)


def freeze_reason(campaign: Campaign) -> str:
    """Why a frozen or terminated campaign stopped taking donations, for its public page."""
    for event in reversed(campaign.events):
        if event.to_status == campaign.status.value:
            return event.reason
    return ""


def _staff(staff: StaffAccount, roles: tuple[StaffRole, ...], message: str) -> StaffAccount:
    if not isinstance(staff, StaffAccount) or not staff.active or not staff.has_role(*roles):
        raise CampaignError(message, "forbidden")
    return staff

