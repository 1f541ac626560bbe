"""China time: UTC+8 all year (no daylight saving). Days that rules count (waiting periods,
due dates, visit days) are China calendar days, not the server's."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from app.models_base import utcnow

CHINA = timezone(timedelta(hours=8))


def china_today(now: datetime | None = None) -> date:
    """The China calendar day of `now` (an aware datetime; default: this moment)."""
    return (now or utcnow()).astimezone(CHINA).date()
