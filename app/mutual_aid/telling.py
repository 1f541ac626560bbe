"""What the plan tells members (app/notices), in the caller's transaction: the claimant hears
the decision on their claim, every other member of the plan a new case in 公示 (the case they
will share after the fact). The share due of a round is told by reminders.py."""
from __future__ import annotations

from sqlalchemy import select

from app.core.templating import local_time
from app.extensions import db
from app.mutual_aid.models import LIVE_STATUSES, Claim, Membership
from app.notices.services import Message, tell, tell_many

MY_URL = "/mutual-aid/me"


def claim_decided(claim: Claim, approved: bool, body: str, reason: str) -> None:
    plan = claim.membership.plan
    tell(claim.user_id, f"claim_{'approved' if approved else 'rejected'}:{claim.id}", Message(
        "mutual_aid", "互助申请已通过审核" if approved else "互助申请未通过", body, MY_URL,
        "claim_result", {"thing1": f"{claim.membership.name_masked}的互助申请",
                         "phrase2": "已通过" if approved else "未通过",
                         "thing3": reason or f"进入{plan.objection_days}天公示期"}))


def case_publicized(claim: Claim) -> None:
    membership, plan = claim.membership, claim.membership.plan
    members = set(db.session.scalars(select(Membership.user_id).where(
        Membership.plan_id == plan.id, Membership.status.in_(LIVE_STATUSES))))
    members.discard(claim.user_id)
    until = local_time(claim.notice_until)
    tell_many(members, f"case_notice:{claim.id}", Message(
        "mutual_aid", "新的互助病例公示",
        f"「{plan.name}」有一例新的互助申请进入公示：{membership.name_masked}，{claim.condition}，"
        f"公示至 {until}。有异议可在病例公示页提出；审核通过后按后付费规则分摊。",
        f"/mutual-aid/plans/{plan.slug}/notices", "case_notice",
        {"thing1": plan.name, "thing2": f"{membership.name_masked} {claim.condition}",
         "time3": until}))
