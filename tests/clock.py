"""Times relative to the moment a test runs, never literal dates: the suite must pass on any day
(CI runs it again with `--shift-days 400`). China time (UTC+8) is the app's calendar."""
from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta, timezone

import time_machine

CHINA = timezone(timedelta(hours=8))


def now() -> datetime:
    return datetime.now(timezone.utc)


def china_today() -> date:
    return now().astimezone(CHINA).date()


def days_ahead(days: int) -> date:
    """The China date `days` from today (negative: in the past)."""
    return china_today() + timedelta(days=days)


def years_ago(years: int) -> date:
    """Today's month and day, `years` years back (29 February becomes the 28th)."""
    today = china_today()
    year = today.year - years
    return date(year, today.month, min(today.day, calendar.monthrange(year, today.month)[1]))


def next_date(month: int, day: int) -> date:
    """The next `month`/`day` strictly after today (China time)."""
    today = china_today()
    this_year = date(today.year, month, day)
    return this_year if this_year > today else date(today.year + 1, month, day)


def next_day_of_month(day: int) -> date:
    """The next date, today included, that falls on `day` of its month (day <= 28)."""
    today = china_today()
    if today.day <= day:
        return today.replace(day=day)
    year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
    return date(year, month, day)


def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def china_time(day: date, hour: int, minute: int = 0) -> datetime:
    """`hour`:`minute` in China on `day`, as an aware UTC datetime."""
    return datetime.combine(day, time(hour, minute), CHINA).astimezone(timezone.utc)


def travel_to(moment: datetime | date) -> time_machine.travel:
    """Stop the clock at `moment` (a date: 10:00 China time that day), on top of any session
    shift; use as a context manager."""
    if not isinstance(moment, datetime):
        moment = china_time(moment, 10)
    return time_machine.travel(moment, tick=False)
