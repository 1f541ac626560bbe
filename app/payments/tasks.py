"""Jobs of the payments package. Each takes ids or nothing and is idempotent."""
from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from app.core.plugins import PeriodicJob
from app.extensions import db
from app.models_base import utcnow
from app.payments.models import Payment, PaymentState
from app.payments.provider import ProviderError

log = logging.getLogger(__name__)

DEFAULT_RECONCILE_AFTER_SECONDS = 120
RECONCILE_INTERVAL_SECONDS = 300
BATCH = 200


def reconcile_pending_payments(older_than_seconds: int | None = None) -> dict[str, int]:
    """Settle orders whose notice never came: ask WeChat about every order still open past the
    threshold, record the paid ones through the same confirm path as notices, close the
    expired ones. Running it twice, or in two workers at once, changes nothing more."""
    from app.payments.services import settle_by_query

    if older_than_seconds is None:
        older_than_seconds = current_app.config.get("PAYMENT_RECONCILE_AFTER_SECONDS",
                                                    DEFAULT_RECONCILE_AFTER_SECONDS)
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    counts: dict[str, int] = {}
    last_id = 0
    while True:
        ids = db.session.scalars(
            select(Payment.id).where(
                Payment.state.in_((PaymentState.created, PaymentState.pending)),
                Payment.created_at <= cutoff, Payment.id > last_id)
            .order_by(Payment.id).limit(BATCH)).all()
        db.session.rollback()
        if not ids:
            break
        for payment_id in ids:
            try:
                outcome = settle_by_query(payment_id)
            except ProviderError as error:  # WeChat unreachable or refusing: try next run
                log.warning("reconcile: payment %s: %s", payment_id, error.message)
                db.session.rollback()
                outcome = "error"
            counts[outcome] = counts.get(outcome, 0) + 1
        last_id = ids[-1]
    if counts:
        log.info("reconcile_pending_payments: %s", counts)
    return counts


PERIODIC_JOBS = [PeriodicJob(reconcile_pending_payments, RECONCILE_INTERVAL_SECONDS, "payments")]
