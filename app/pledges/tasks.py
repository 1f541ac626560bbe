"""Jobs of pledges. Each takes ids (or nothing) and is idempotent; those that talk to the payout
provider are enqueued with rq's Retry (payouts' enqueue_retried) and raise to be retried. A
reminder's job is `reminders.send`, scheduled by `reminders.schedule`.

Periodic (PERIODIC_JOBS, registered by app/pledges/__init__.py): `pledge_tick` (reminders due,
broken pledges) and `allocate_fund_job` (the pay-it-forward fund's daily grants). Repayments and
shares left unsettled are taken up by payouts' `reconcile_money_out`, through
`reconcile_repayments` (registered as its `repayments` part).
"""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select

from app.core.plugins import PeriodicJob
from app.extensions import db
from app.payouts.errors import RetryLater
from app.payouts.provider import PayoutUnavailable
from app.payouts.tasks import enqueue_retried
from app.pledges import distribution, reminders
from app.pledges.models import Repayment
from app.pledges.services import mark_broken

log = logging.getLogger(__name__)


def enqueue_distribution(repayment_id: int) -> None:
    """After a repayment's payment commits: split it, then transfer each share as its own job."""
    enqueue_retried(distribute_repayment_job, repayment_id)


def distribute_repayment_job(repayment_id: int) -> int:
    share_ids = distribution.distribute(repayment_id)
    for share_id in share_ids:
        enqueue_retried(transfer_share_job, share_id)
    return len(share_ids)


def transfer_share_job(share_id: int) -> str:
    try:
        return distribution.transfer_share(share_id)
    except PayoutUnavailable as error:
        db.session.rollback()
        raise RetryLater(f"pledge share {share_id}: {error}") from error


def reconcile_repayments() -> int:
    """Repayments paid but not yet passed on, and shares still to transfer, enqueued again.
    Returns how many repayments waited."""
    waiting = db.session.scalars(select(Repayment.id).where(
        Repayment.paid_at.is_not(None), Repayment.distributed_at.is_(None))).all()
    db.session.rollback()
    for repayment_id in waiting:
        enqueue_retried(distribute_repayment_job, repayment_id)
    for share_id in distribution.pending_shares():
        enqueue_retried(transfer_share_job, share_id)
    return len(waiting)


def pledge_tick(now: datetime | None = None) -> dict[str, int]:
    """Send reminders now due (whatever the scheduled jobs did) and close broken pledges."""
    sent = 0
    for instalment_id in reminders.due(now):
        try:
            if reminders.send(instalment_id, now=now) == "sent":
                sent += 1
        except RetryLater as error:
            log.warning("%s", error)
    return {"reminded": sent, "broken": mark_broken(now)}


def allocate_fund_job() -> int:
    return len(distribution.allocate_fund())


PLEDGE_TICK_SECONDS = 3600
FUND_SECONDS = 24 * 3600
PERIODIC_JOBS = [PeriodicJob(pledge_tick, PLEDGE_TICK_SECONDS, "notifications"),
                 PeriodicJob(allocate_fund_job, FUND_SECONDS, "payments")]
