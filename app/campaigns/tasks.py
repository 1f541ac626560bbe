"""Jobs of the campaigns package. Each takes ids or nothing and is idempotent."""
from __future__ import annotations

import logging

from app.campaigns.pending_photos import prune_pending_photos
from app.campaigns.services import end_due_campaigns
from app.core.plugins import PeriodicJob

log = logging.getLogger(__name__)

END_DUE_INTERVAL_SECONDS = 300
PRUNE_PENDING_INTERVAL_SECONDS = 3600


def end_due_campaigns_job() -> int:
    """End live campaigns past their deadline or at their target. Safe to run concurrently."""
    ended = end_due_campaigns()
    if ended:
        log.info("ended %d campaign(s) at deadline or target", ended)
    return ended


def prune_pending_photos_job() -> int:
    """Remove the campaign form's pending photos nobody used (older than a day)."""
    removed = prune_pending_photos()
    if removed:
        log.info("removed %d unused pending photo(s)", removed)
    return removed


PERIODIC_JOBS = [PeriodicJob(end_due_campaigns_job, END_DUE_INTERVAL_SECONDS, "default"),
                 PeriodicJob(prune_pending_photos_job, PRUNE_PENDING_INTERVAL_SECONDS, "default")]
