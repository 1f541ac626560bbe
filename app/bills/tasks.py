"""Jobs of the bills package; they take plain values and are idempotent (a day run again
updates its findings in place).

Periodic (PERIODIC_JOBS, registered by app/bills/__init__.py): `reconcile_bills` every hour
reconciles the previous China day once WeChat has made its bills (from 09:00; WeChat advises
fetching after 10:00), and again each hour while they could not be fetched.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.bills import services
from app.bills.models import BillDay, BillDayStatus
from app.core.chinatime import CHINA
from app.core.plugins import PeriodicJob
from app.extensions import db
from app.models_base import utcnow

EVERY_SECONDS = 3600
BILLS_READY_HOUR = 10


def reconcile_bills(bill_date: str | None = None) -> str:
    """Reconcile `bill_date` (YYYY-MM-DD), or the previous China day when it is due; returns
    the day's status, or why nothing was done."""
    if bill_date is not None:
        return services.reconcile_day(date.fromisoformat(bill_date)).status.value
    if utcnow().astimezone(CHINA).hour < BILLS_READY_HOUR:
        return "not_ready"
    day = services.previous_china_day()
    status = db.session.scalar(select(BillDay.status).where(BillDay.bill_date == day))
    db.session.rollback()
    if status is not None and status != BillDayStatus.unavailable:
        return "done"
    return services.reconcile_day(day).status.value


PERIODIC_JOBS = (PeriodicJob(reconcile_bills, EVERY_SECONDS, "payments"),)
