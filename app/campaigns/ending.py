"""提前结束: the organizer ends their live campaign before its deadline (the patient recovered,
the costs are covered…). It takes effect at once — donations stop the moment the family says
the need is over — and what is left follows one of the two ends the platform already has:

- withdraw: live → ended, the deadline's own path (services._end: the event, the notices to the
  organizer and donors). The organizer withdraws to the verified payee for costs incurred, with
  receipts in 资金公示, and states what becomes of any rest (payouts' 剩余善款说明).
- refund: live → terminated, the termination's path (the event, the audit row, then the
  termination hooks: payouts plans the pro-rata refunds to every donor). Money only ever goes
  back to the people who gave it, so the organizer needs no staff decision for it.

Either way an EarlyEnd row says it was the organizer's early end, and why, for the page."""
from __future__ import annotations

from sqlalchemy import select

from app.auth.models import User
from app.campaigns import change_telling
from app.campaigns.change_models import EarlyEnd, EndReason, LeftoverRoute
from app.campaigns.errors import CampaignError
from app.campaigns.models import Campaign, CampaignStatus
from app.campaigns.moderation import run_termination_hooks
from app.campaigns.services import _check_organizer, _check_transition, _end, _lock, _record, _user
from app.core.audit import record_audit
from app.extensions import db
from app.models_base import utcnow
from app.notices.services import send_told

NOTE_MAX = 300
S = CampaignStatus


def early_end_of(campaign_id: int) -> EarlyEnd | None:
    return db.session.scalar(select(EarlyEnd).where(EarlyEnd.campaign_id == campaign_id))


def end_early(campaign: Campaign | int, organizer: User | int, reason_kind: EndReason | str,
              note: str, route: LeftoverRoute | str) -> EarlyEnd:
    campaign = _lock(campaign)
    user = _user(organizer)
    _check_organizer(campaign, user)
    if campaign.status != S.live:
        raise CampaignError(f"筹款{campaign.status.label}，不能提前结束", "not_live")
    try:
        reason_kind, route = EndReason(reason_kind), LeftoverRoute(route)
    except ValueError:
        raise CampaignError("请选择结束原因和剩余善款的处理方式", "invalid_choice") from None
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise CampaignError(f"说明不能超过 {NOTE_MAX} 字", "reason_too_long")
    if reason_kind == EndReason.other and len(note) < 5:
        raise CampaignError("选择“其他原因”时，请用至少 5 个字说明", "reason_required")
    early = EarlyEnd(campaign_id=campaign.id, organizer_id=user.id, reason_kind=reason_kind,
                     note=note, route=route)
    db.session.add(early)
    reason = f"发起人申请提前结束：{early.reason_text}"[:500]
    if route == LeftoverRoute.withdraw:
        _end(campaign, reason, staff=None, now=None, user=user)
    else:
        _check_transition(campaign, S.terminated)
        _record(campaign, S.live, S.terminated, user=user, reason=reason)
        campaign.status = S.terminated
        campaign.ended_at = utcnow()
        change_telling.ended_early(campaign, early)
    record_audit(None, "campaign.end_early", "campaign", campaign.id,
                 before={"status": S.live}, after={"status": campaign.status, "route": route},
                 reason=reason, actor_user_id=user.id)
    db.session.commit()
    send_told()
    if route == LeftoverRoute.refund:
        run_termination_hooks(campaign.id)
    return early
