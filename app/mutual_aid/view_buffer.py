"""Page views waiting in Redis for the funnel (FUNNEL_BUFFER_VIEWS): a view is one RPUSH on the
request path; `funnel.flush_buffered_views` writes them in batches. Off when jobs run in-process
(no Redis) and under TESTING unless a test turns it on; when Redis does not answer, `push` says
so and the caller writes the view itself.
"""
from __future__ import annotations

import json
import logging
from datetime import date, datetime

from flask import current_app

from app.extensions import jobs
from app.core.jobs import REDIS_DOWN_ERRORS

log = logging.getLogger(__name__)

KEY = "xiangzhu:funnel:views"


def enabled() -> bool:
    default = not current_app.testing
    return not jobs.inline and bool(current_app.config.get("FUNNEL_BUFFER_VIEWS", default))


def push(event: dict) -> bool:
    if not enabled():
        return False
    payload = dict(event, day=event["day"].isoformat(),
                   created_at=event["created_at"].isoformat())
    try:
        jobs.redis.rpush(KEY, json.dumps(payload, separators=(",", ":")))
    except REDIS_DOWN_ERRORS as error:
        log.warning("funnel view written directly, Redis is away: %s", error)
        return False
    return True


def take(count: int) -> list[dict]:
    """Up to `count` buffered events, oldest first, removed from the buffer."""
    if jobs.inline:
        return []
    raw = jobs.redis.lpop(KEY, count) or []
    events = []
    for item in raw:
        event = json.loads(item)
        event["day"] = date.fromisoformat(event["day"])
        event["created_at"] = datetime.fromisoformat(event["created_at"])
        events.append(event)
    return events


def pending() -> int:
    return 0 if jobs.inline else int(jobs.redis.llen(KEY))
