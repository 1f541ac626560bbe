"""Jobs of the payouts package. Each takes ids (or nothing) and is idempotent; those that talk
to WeChat or the custodian are enqueued with rq's Retry (enqueue_retried) and raise to be retried.

Periodic (PERIODIC_JOBS, registered by app/payouts/__init__.py): `reconcile_money_out`
(withdrawal transfers, WeChat transfers to people and refunds left unsettled, and whatever other features that move money
out registered with register_reconciler: pledges' repayments).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from flask import Flask, current_app

from app.core.plugins import PeriodicJob, registry
from app.extensions import db, jobs
from app.payouts import refunds, transfers, withdrawals
from app.payouts.errors import RetryLater
from app.payouts.provider import PayoutUnavailable

log = logging.getLogger(__name__)
RETRY_INTERVALS = [10, 30, 120, 600, 1800, 3600]


def _retry():
    from rq import Retry

    intervals = current_app.config.get("PAYOUT_RETRY_INTERVALS", RETRY_INTERVALS)
    return Retry(max=len(intervals), interval=list(intervals))


def enqueue_retried(func, *args, queue: str = "payments") -> None:
    """Enqueue a money-out job with rq's Retry (inline without Redis)."""
    if jobs.inline:
        jobs.enqueue(func, *args, queue=queue)
    else:
        jobs.enqueue(func, *args, queue=queue, retry=_retry())


# --- enqueueing (called after the commits that make the work due) --------------------------

def enqueue_refund_plan(campaign_id: int) -> None:
    enqueue_retried(plan_refunds_job, campaign_id)


def enqueue_withdrawal(withdrawal_id: int) -> None:
    enqueue_retried(execute_withdrawal_job, withdrawal_id)


def enqueue_refunds(refund_ids: list[int]) -> None:
    for refund_id in refund_ids:
        enqueue_retried(submit_refund_job, refund_id)


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


def send_transfer_job(transfer_id: int) -> str:
    """Ask WeChat for a person's transfer (商家转账), same out_bill_no on every retry."""
    try:
        return transfers.send(transfer_id)
    except PayoutUnavailable as error:
        db.session.rollback()
        raise RetryLater(f"transfer {transfer_id}: {error}") from error


# --- periodic ------------------------------------------------------------------------------

def register_reconciler(app: Flask, name: str, reconcile: Callable[[], object]) -> None:
    """Another feature's money left in flight: `reconcile()` enqueues it again and returns what
    it found, reported under `name` in reconcile_money_out's summary."""
    registry("money_out_reconcilers", dict, app)[name] = reconcile


def reconcile_money_out(older_than_seconds: int | None = None) -> dict[str, object]:
    """Settle what was left in flight: transfers the custodian may have made, refunds WeChat
    has not answered, terminated campaigns not yet refunded, and the registered reconcilers'
    parts (pledges' repayments not yet passed on). With `older_than_seconds`, withdrawals
    released that long ago or longer (0: all; after a bank result file has been imported)."""
    older_than = (withdrawals.RECONCILE_AFTER if older_than_seconds is None
                  else timedelta(seconds=older_than_seconds))
    summary: dict[str, object] = {"withdrawals": withdrawals.reconcile(older_than),
                                  "person_transfers": transfers.reconcile()}
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
    for name, reconcile in registry("money_out_reconcilers", dict).items():
        summary[name] = reconcile()
    return summary


def enqueue_settle_from_custodian() -> None:
    """The custodian has news (a bank result file was imported): settle what it knows now."""
    jobs.enqueue(reconcile_money_out, 0, queue="payments")


RECONCILE_SECONDS = 300
PERIODIC_JOBS = [PeriodicJob(reconcile_money_out, RECONCILE_SECONDS, "payments")]
