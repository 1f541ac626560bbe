"""Jobs of the payouts package. Each takes ids (or nothing) and is idempotent; those that talk
to WeChat or the custodian are enqueued with rq's Retry and raise to be retried.

Periodic (PERIODIC_JOBS, registered by app/payouts/__init__.py): `reconcile_money_out` (withdrawal transfers, refunds,
pledge shares left unsettled), `pledge_tick` (reminders due, broken pledges) and
`allocate_fund_job` (the pay-it-forward fund's daily grants).
"""
from __future__ import annotations

import logging
from datetime import datetime

from flask import current_app

from app.core.plugins import PeriodicJob
from app.extensions import db, jobs
from app.payouts import distribution, refunds, reminders, withdrawals
from app.payouts.errors import RetryLater
from app.payouts.pledges import mark_broken
from app.payouts.provider import PayoutUnavailable

log = logging.getLogger(__name__)
RETRY_INTERVALS = [10, 30, 120, 600, 1800, 3600]


def _retry():
    from rq import Retry

    intervals = current_app.config.get("PAYOUT_RETRY_INTERVALS", RETRY_INTERVALS)
    return Retry(max=len(intervals), interval=list(intervals))


def _enqueue(func, *args, queue: str = "payments") -> None:
    if jobs.inline:
        jobs.enqueue(func, *args, queue=queue)
    else:
        jobs.enqueue(func, *args, queue=queue, retry=_retry())


# --- enqueueing (called after the commits that make the work due) --------------------------

def enqueue_refund_plan(campaign_id: int) -> None:
    _enqueue(plan_refunds_job, campaign_id)


def enqueue_withdrawal(withdrawal_id: int) -> None:
    _enqueue(execute_withdrawal_job, withdrawal_id)


def enqueue_distribution(repayment_id: int) -> None:
    _enqueue(distribute_repayment_job, repayment_id)


def enqueue_refunds(refund_ids: list[int]) -> None:
    for refund_id in refund_ids:
        _enqueue(submit_refund_job, refund_id)


# --- jobs ----------------------------------------------------------------------------------

def plan_refunds_job(campaign_id: int) -> int:
    """After termination: plan the pro-rata refunds, then submit each as its own job."""
    refund_ids = refunds.plan(campaign_id)  # RetryLater while a transfer is in flight
    enqueue_refunds(refund_ids)
    return len(refund_ids)


def submit_refund_job(refund_id: int) -> str:
    return refunds.submit(refund_id)


def execute_withdrawal_job(withdrawal_id: int) -> str:
    try:
        return withdrawals.execute(withdrawal_id)
    except PayoutUnavailable as error:
        db.session.rollback()
        raise RetryLater(f"withdrawal {withdrawal_id}: {error}") from error


def distribute_repayment_job(repayment_id: int) -> int:
    share_ids = distribution.distribute(repayment_id)
    for share_id in share_ids:
        _enqueue(transfer_share_job, share_id)
    return len(share_ids)


def transfer_share_job(share_id: int) -> str:
    try:
        return distribution.transfer_share(share_id)
    except PayoutUnavailable as error:
        db.session.rollback()
        raise RetryLater(f"pledge share {share_id}: {error}") from error


def send_reminder_job(instalment_id: int) -> str:
    return reminders.send(instalment_id)


# --- periodic ------------------------------------------------------------------------------

def reconcile_money_out() -> dict[str, object]:
    """Settle what was left in flight: transfers the custodian may have made, refunds WeChat
    has not answered, terminated campaigns not yet refunded, repayments not yet passed on."""
    summary: dict[str, object] = {"withdrawals": withdrawals.reconcile()}
    planned = 0
    for campaign_id in refunds.terminated_without_refunds():
        try:
            refund_ids = refunds.plan(campaign_id)
        except RetryLater as waiting:
            log.info("refunds of campaign %s wait: %s", campaign_id, waiting)
            continue
        planned += len(refund_ids)
    summary["refunds_planned"] = planned
    stale = refunds.unsettled()
    enqueue_refunds(stale)
    summary["refunds_resent"] = len(stale)
    from sqlalchemy import select

    from app.payouts.pledge_models import Repayment

    waiting = db.session.scalars(select(Repayment.id).where(
        Repayment.paid_at.is_not(None), Repayment.distributed_at.is_(None))).all()
    db.session.rollback()
    for repayment_id in waiting:
        _enqueue(distribute_repayment_job, repayment_id)
    for share_id in distribution.pending_shares():
        _enqueue(transfer_share_job, share_id)
    summary["repayments"] = len(waiting)
    return summary


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


RECONCILE_SECONDS = 300
PLEDGE_TICK_SECONDS = 3600
FUND_SECONDS = 24 * 3600
PERIODIC_JOBS = [PeriodicJob(reconcile_money_out, RECONCILE_SECONDS, "payments"),
                 PeriodicJob(pledge_tick, PLEDGE_TICK_SECONDS, "notifications"),
                 PeriodicJob(allocate_fund_job, FUND_SECONDS, "payments")]
