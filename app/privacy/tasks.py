"""Jobs of the privacy package. Each takes nothing and is idempotent."""
from __future__ import annotations

import logging

from app.core.plugins import PeriodicJob
from app.privacy.retention import erase_expired_documents

log = logging.getLogger(__name__)

RETENTION_INTERVAL_SECONDS = 24 * 3600


def erase_expired_documents_job() -> int:
    erased = erase_expired_documents()
    if erased:
        log.info("erased %d review document(s) past their retention period", erased)
    return erased


PERIODIC_JOBS = [PeriodicJob(erase_expired_documents_job, RETENTION_INTERVAL_SECONDS, "default")]
