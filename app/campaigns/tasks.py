"""Jobs of the campaigns package. Each takes ids or nothing and is idempotent."""
from __future__ import annotations

import logging

from app.campaigns.services import end_due_campaigns
from app.core.plugins import PeriodicJob

log = logging.getLogger(__name__)

END_DUE_INTERVAL_SECONDS = 300


def end_due_campaigns_job() -> int:
    """End live campaigns past their deadline or at their target. Safe to run concurrently."""
    ended = end_due_campaigns()
    if ended:
        log.info("ended %d campaign(s) at deadline or target", ended)
    return ended


PERIODIC_JOBS = [PeriodicJob(end_due_campaigns_job, END_DUE_INTERVAL_SECONDS, "default")]
