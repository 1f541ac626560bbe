"""The donor funnel into the plan: record a step (one INSERT), and count it for staff.

Steps, in order: campaign_view → donate_started → donation_paid → invitation_shown →
invitation_clicked → join_started → joined. Each event carries the campaign (for the last three:
the campaign whose thank-you page the person came from), the share channel, the signed-in user
or the anonymous visitor id, and the (China) day.

Writing is one statement: when the caller does not know the channel, the INSERT itself reads it
from the person's latest share visit to that campaign (a sub-select on an indexed table), so a
page view costs one round trip and never a read-modify-write. Counting is by distinct person:
an anonymous visitor who later signs in counts as that user (any event carrying both ids
links them).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from flask import Flask
from sqlalchemy import String, bindparam, case, cast, func, insert, literal, or_, select, text
from sqlalchemy.exc import SQLAlchemyError

from app.core.chinatime import china_today
from app.donations.signals import donation_paid
from app.extensions import db, jobs
from app.models_base import utcnow
from app.mutual_aid import view_buffer
from app.mutual_aid.models import FunnelEvent
from app.sharing.models import ShareVisit

log = logging.getLogger(__name__)

STEPS = ("campaign_view", "donate_started", "donation_paid", "invitation_shown",
         "invitation_clicked", "join_started", "joined")
STEP_LABELS = {"campaign_view": "浏览筹款页", "donate_started": "发起捐款",
               "donation_paid": "捐款成功", "invitation_shown": "看到互助邀请",
               "invitation_clicked": "点击邀请", "join_started": "开始加入", "joined": "加入成功"}
CHANNEL_LABELS = {"chat": "微信好友", "moments": "朋友圈", "poster": "海报",
                  "desktop_qr": "电脑扫码", "direct": "直接访问"}
DIMENSIONS = ("day", "campaign", "channel")
BUFFERED_STEPS = frozenset({"campaign_view"})


def _insert_step_statement():
    """One INSERT for every step, built once: when the caller does not know the channel, the
    person's latest share visit to the campaign up to the event's time gives it, else 'direct'.
    (A NULL id compares as unknown, so a visitor without an account matches on the cookie only.)"""
    latest_channel = (
        select(cast(ShareVisit.__table__.c.channel, String))
        .where(ShareVisit.campaign_id == bindparam("campaign_id"),
               or_(ShareVisit.user_id == bindparam("user_id"),
                   ShareVisit.visitor_id == bindparam("visitor_id")),
               ShareVisit.created_at <= bindparam("created_at"))
        .order_by(ShareVisit.created_at.desc(), ShareVisit.id.desc()).limit(1)
        .scalar_subquery())
    table = FunnelEvent.__table__
    return insert(table).values(
        step=bindparam("step"), campaign_id=bindparam("campaign_id"),
        user_id=bindparam("user_id"), visitor_id=bindparam("visitor_id"),
        channel=func.coalesce(bindparam("channel", type_=String), latest_channel,
                              literal("direct")),
        day=bindparam("day"), created_at=bindparam("created_at"))


_INSERT_STEP = None


def _insert_step():
    global _INSERT_STEP
    if _INSERT_STEP is None:  # built on first use: the sharing models must be mapped by then
        _INSERT_STEP = _insert_step_statement()
    return _INSERT_STEP


def _event(step: str, campaign_id: int | None, channel: str | None, user_id: int | None,
           visitor_id: str | None) -> dict:
    if step not in STEPS:
        raise ValueError(f"unknown funnel step {step!r}")
    return {"step": step, "campaign_id": campaign_id, "channel": channel or None,
            "user_id": user_id,
            "visitor_id": visitor_id if visitor_id and len(visitor_id) <= 32 else None,
            "day": china_today(), "created_at": utcnow()}


def add_step(step: str, campaign_id: int | None, channel: str | None = None,
             user_id: int | None = None, visitor_id: str | None = None) -> None:
    """Add the event to the current transaction (the caller commits)."""
    db.session.execute(_insert_step(), _event(step, campaign_id, channel, user_id, visitor_id))


def record_step(step: str, campaign_id: int | None, channel: str | None = None,
                user_id: int | None = None, visitor_id: str | None = None) -> None:
    """Record one step. Page views, by far the most, wait in a Redis list when buffering is on
    (FUNNEL_BUFFER_VIEWS; flushed by `flush_buffered_views`), so a view costs one RPUSH rather
    than a transaction; everything else, and views while Redis is away, commit here. A failure is
    logged and never breaks the page or payment that called it."""
    event = _event(step, campaign_id, channel, user_id, visitor_id)
    if step in BUFFERED_STEPS and view_buffer.push(event):
        return
    try:
        if db.session.get_bind().dialect.name == "postgresql":
            # An analytics row: losing the last few in a server crash is acceptable, waiting for
            # the WAL flush on every page view is not (this transaction only; money never does).
            db.session.execute(text("SET LOCAL synchronous_commit TO OFF"))
        db.session.execute(_insert_step(), event)
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("funnel step %s for campaign %s not recorded", step, campaign_id)


def flush_buffered_views(batch_size: int = 5000) -> int:
    """Write the buffered page views, a batch per transaction; returns how many. A periodic job
    (mutual_aid.tasks.PERIODIC_JOBS). A batch taken from Redis is gone from it: a crash before the commit
    loses that batch (at most once, as for an analytics row)."""
    written = 0
    while events := view_buffer.take(batch_size):
        db.session.execute(_insert_step(), events)
        db.session.commit()
        written += len(events)
    return written


def on_donation_paid(sender, campaign_id: int, user_id: int | None = None, **extra) -> None:
    """Receiver of app.donations.signals.donation_paid (sent after the payment committed).
    Enqueued, so the notify request that paid does not wait for a second commit."""
    jobs.enqueue(record_step, "donation_paid", campaign_id, None, user_id, None)


def connect_donation_signal(app: Flask) -> None:
    """Listen to `app`'s paid donations (the plan depends on donations, never the reverse)."""
    donation_paid.connect(on_donation_paid, sender=app)


# --- counting ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Filters:
    since: date | None = None
    until: date | None = None
    campaign_id: int | None = None
    channel: str | None = None


def _person():
    linked = (select(FunnelEvent.visitor_id, func.min(FunnelEvent.user_id).label("uid"))
              .where(FunnelEvent.visitor_id.is_not(None), FunnelEvent.user_id.is_not(None))
              .group_by(FunnelEvent.visitor_id).subquery("linked"))
    person = func.coalesce(literal("u") + cast(FunnelEvent.user_id, String),
                           literal("u") + cast(linked.c.uid, String),
                           literal("v") + FunnelEvent.visitor_id)
    return person, linked


def counts(filters: Filters = Filters(), by: str | None = None) -> dict:
    """{group: {step: people}} — group is None without `by`, else a day, a campaign id (None:
    straight to the plan, no campaign) or a channel.

    A person counts at a step when they got at least that far (whoever joined was shown the
    invitation, even if that page view was lost), so no step has more people than the one before.
    By campaign and by channel, each person is counted once, where they first came from (their
    earliest event with a campaign): the join steps carry no share channel and often no
    campaign, and a donor who joins must still count in their campaign's row. So those tables'
    rows add up to the totals. By day, a person counts on each day they were active.
    """
    if by is not None and by not in DIMENSIONS:
        raise ValueError(f"unknown dimension {by!r}")
    result: dict = {}
    for key, furthest in _furthest_step_by_group(filters, by).items():
        row = result.setdefault(key, dict.fromkeys(STEPS, 0))
        for index in furthest:
            for step in STEPS[:index + 1]:
                row[step] += 1
    if by is None and None not in result:
        result[None] = dict.fromkeys(STEPS, 0)
    return result


def _furthest_step_by_group(filters: Filters, by: str | None) -> dict:
    """{group: [the furthest step index of each person (each person-day by day) in it]}."""
    person, linked = _person()
    step_index = case({step: index for index, step in enumerate(STEPS)}, value=FunnelEvent.step)
    query = (select(person, FunnelEvent.day, FunnelEvent.campaign_id, FunnelEvent.channel,
                    func.max(step_index), func.min(FunnelEvent.created_at))
             .select_from(FunnelEvent)
             .outerjoin(linked, linked.c.visitor_id == FunnelEvent.visitor_id)
             .where(person.is_not(None))
             .group_by(person, FunnelEvent.day, FunnelEvent.campaign_id, FunnelEvent.channel))
    if filters.since:
        query = query.where(FunnelEvent.day >= filters.since)
    if filters.until:
        query = query.where(FunnelEvent.day <= filters.until)
    first_touch: dict = {}   # person → ((no campaign, first seen), campaign id, channel)
    furthest: dict = {}      # (person, day) → furthest step index
    for who, day, campaign_id, channel, index, first_at in db.session.execute(query):
        touch = ((campaign_id is None, first_at), campaign_id, channel)
        if who not in first_touch or touch[0] < first_touch[who][0]:
            first_touch[who] = touch
        furthest[who, day] = max(furthest.get((who, day), 0), index)
    groups: dict = {}
    per_person: dict = {}
    for (who, day), index in furthest.items():
        _, campaign_id, channel = first_touch[who]
        if filters.campaign_id is not None and campaign_id != filters.campaign_id:
            continue
        if filters.channel and channel != filters.channel:
            continue
        if by == "day":
            groups.setdefault(day, []).append(index)
        else:
            group = {"campaign": campaign_id, "channel": channel, None: None}[by]
            per_person[who] = (group, max(index, per_person.get(who, (None, 0))[1]))
    for group, index in per_person.values():
        groups.setdefault(group, []).append(index)
    return groups


@dataclass(frozen=True)
class StepFigure:
    step: str
    label: str
    people: int
    from_previous: float | None   # share of the previous step's people, 0-1
    from_first: float | None


def figures(step_counts: dict[str, int]) -> list[StepFigure]:
    out, previous = [], None
    first = step_counts.get(STEPS[0], 0)
    for step in STEPS:
        people = step_counts.get(step, 0)
        out.append(StepFigure(step, STEP_LABELS[step], people,
                              people / previous if previous else None,
                              people / first if first else None))
        previous = people
    return out


def csv_rows(filters: Filters, by: str) -> list[list]:
    """Header and one row per group, steps as columns, for the CSV export."""
    header = [by] + list(STEPS) + ["joined_per_paid_donor"]
    rows = [header]
    groups = counts(filters, by)
    for key in sorted(groups, key=lambda k: (k is None, str(k))):
        row = groups[key]
        paid = row["donation_paid"]
        rows.append([key if key is not None else ""] + [row[s] for s in STEPS]
                    + [f"{row['joined'] / paid:.4f}" if paid else ""])
    return rows
