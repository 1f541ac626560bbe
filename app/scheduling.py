"""Every periodic job of the platform, in one list: (function, interval in seconds, queue).

worker.py registers these with rq's CronScheduler; the embedded default runs them on a thread.
Each feature declares its jobs in its own tasks.py; this module only gathers them.
"""
from __future__ import annotations

from typing import Callable

JOB_UPKEEP_SECONDS = 30


def periodic_jobs() -> list[tuple[Callable, int, str]]:
    from app.campaigns.tasks import PERIODIC_JOBS as campaign_jobs
    from app.mutual_aid.tasks import FUNNEL_FLUSH_SECONDS, TICK_SECONDS, flush_buffered_views
    from app.mutual_aid.tasks import tick as mutual_aid_tick
    from app.payments.tasks import periodic_jobs as payment_jobs
    from app.sharing.tasks import prune_posters
    from app.wechat.token_cache import refresh_wechat_tokens

    schedule: list[tuple[Callable, int, str]] = list(campaign_jobs)
    schedule += payment_jobs()

    schedule.append((mutual_aid_tick, TICK_SECONDS, "default"))
    schedule.append((flush_buffered_views, FUNNEL_FLUSH_SECONDS, "default"))
    schedule.append((refresh_wechat_tokens, 300, "default"))
    schedule.append((prune_posters, 24 * 3600, "posters"))
    from app.payouts.tasks import PERIODIC_JOBS as payout_jobs

    schedule += payout_jobs

    from app.core.outbox import flush_deferred_jobs
    from app.jobs import requeue_abandoned_jobs

    # Keeping the queues whole: jobs that waited out a Redis outage, jobs whose worker died.
    schedule.append((flush_deferred_jobs, JOB_UPKEEP_SECONDS, "default"))
    schedule.append((requeue_abandoned_jobs, JOB_UPKEEP_SECONDS, "default"))
    return schedule
