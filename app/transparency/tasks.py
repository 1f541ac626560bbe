"""The integrator as a periodic job (never on the payment-notice path): every
TRANSPARENCY_INTEGRATE_SECONDS (default 10) on the default queue; a run appends at most
integrator.BATCH_SIZE leaves, so a backlog drains over a few runs. Maximum merge delay: 60 s
(docs/transparency.md)."""
from __future__ import annotations

from app.core.plugins import PeriodicJob
from app.transparency import integrator

DEFAULT_INTEGRATE_SECONDS = 10


def integrate_transparency_log() -> int:
    """One integration; returns the number of leaves appended."""
    return integrator.integrate().added


def periodic_jobs(every_seconds: int) -> tuple[PeriodicJob, ...]:
    return (PeriodicJob(integrate_transparency_log, every_seconds, "default"),)
