"""Jobs of the plan. They take ids and are idempotent (a job run twice changes nothing more).

- apportion_round_job(round_id): the round's charges, in batches, with progress; then members
  with a wallet balance pay their share from it.
- tick(): the plan's calendar, every few minutes (PERIODIC_JOBS): waiting periods end,
  公示 windows close, rounds are announced on announcement days, closed after their grace
  period (a round staff closed early has its unpaid members suspended then), and late payments
  distributed; members suspended too long are removed.
- flush_buffered_views(): page views waiting in Redis go to the funnel table (every 30 s).
"""
from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import select

from app.core.chinatime import china_today
from app.extensions import db, jobs
from app.mutual_aid import claims, paybacks, rounds, services
from app.core.plugins import PeriodicJob
from app.mutual_aid.funnel import flush_buffered_views
from app.mutual_aid.models import Plan
from app.mutual_aid.money_models import Round, RoundStatus
from app.mutual_aid.reminders import remind_shares_due

log = logging.getLogger(__name__)
TICK_SECONDS = 600
FUNNEL_FLUSH_SECONDS = 30


def apportion_round_job(round_id: int) -> dict:
    batch_size = int(current_app.config.get("MUTUAL_AID_BATCH_SIZE", rounds.BATCH_SIZE))
    round_ = rounds.apportion(round_id, batch_size=batch_size, progress=jobs.set_progress)
    told = remind_shares_due(round_id)
    return {"round_id": round_id, "members": round_.members, "total_fen": round_.total_fen,
            "told": told}


def tick() -> dict:
    summary = {"active": services.end_waiting_periods(),
               "confirmed": claims.confirm_noticed_claims(), "announced": 0, "closed": 0,
               "distributed": 0}
    today = china_today()
    for plan in db.session.scalars(select(Plan).order_by(Plan.id)).all():
        if today.day in plan.announce_days and rounds.announce_round(plan.id, today):
            summary["announced"] += 1
    due = db.session.scalars(select(Round.id).where(Round.status == RoundStatus.announced,
                                                    Round.close_on <= today)).all()
    for round_id in due:
        try:
            rounds.close_round(round_id, today)
            summary["closed"] += 1
        except services.MutualAidError as error:
            db.session.rollback()
            log.warning("round %s not closed: %s", round_id, error.message)
    summary["grace_ended"] = 0
    for round_id in rounds.rounds_past_grace_with_due(today):   # rounds closed early
        rounds.end_grace_period(round_id, today)
        summary["grace_ended"] += 1
    for round_id in rounds.rounds_with_money_waiting():
        if rounds.distribute(round_id) is not None:
            summary["distributed"] += 1
    summary["removed"] = services.remove_unpaid()
    summary["paid_back"] = paybacks.pay_back_all()
    return summary


PERIODIC_JOBS = [PeriodicJob(tick, TICK_SECONDS, "default"),
                 PeriodicJob(flush_buffered_views, FUNNEL_FLUSH_SECONDS, "default")]
