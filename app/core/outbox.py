"""The deferred-jobs outbox: jobs that could not reach Redis wait in PostgreSQL until it is back.

`app/core/jobs.py` calls `defer(...)` when an enqueue finds Redis unreachable: the job's dotted
function path, arguments, queue, id and rq options become one `deferred_jobs` row, written on
a connection of its own (so it stands or falls like the enqueue it replaces, whatever the
caller's transaction does next). `flush()` moves the rows back onto rq — from the periodic
scheduler and when a worker starts — each exactly once: a flusher claims rows with
`DELETE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING`, enqueues them and
commits, so two flushers never take the same row; a row whose enqueue failed is put back in
the same transaction for the next flush. (A flusher that dies between enqueue and commit
leaves its rows to be enqueued again, under the same job id: at least once, as rq itself.)

Only what a job needs to run again is kept: arguments must be JSON (jobs take ids), and of
rq's options the ones with plain values (retry as max and intervals). Anything else — callbacks,
dependencies — cannot wait here, and the enqueue fails as it would have without the outbox.
"""
from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any, Callable

from flask import current_app
from sqlalchemy import JSON, BigInteger, DateTime, Integer, String, delete, func, select
from sqlalchemy.orm import Mapped, mapped_column

from app.core.jobs import REDIS_DOWN_ERRORS
from app.extensions import db
from app.models_base import utcnow

log = logging.getLogger(__name__)

BigId = BigInteger().with_variant(Integer(), "sqlite")
FLUSH_BATCH = 200
# rq options whose values are plain data and can be stored as they are.
PLAIN_OPTIONS = ("job_timeout", "result_ttl", "ttl", "failure_ttl", "description", "at_front",
                 "meta")


class DeferredJob(db.Model):
    """One job waiting for Redis."""

    __tablename__ = "deferred_jobs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    func_path: Mapped[str] = mapped_column(String(200))
    args: Mapped[list] = mapped_column(JSON, default=list)
    kwargs: Mapped[dict] = mapped_column(JSON, default=dict)
    queue: Mapped[str] = mapped_column(String(40))
    job_id: Mapped[str] = mapped_column(String(120), index=True)
    # rq options: job_timeout, result_ttl, …; retry as {"max": n, "intervals": [...]}.
    options: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class NotDeferrable(Exception):
    """The job carries something that cannot be stored (a callback, an object argument)."""


def func_path(func: Callable | str) -> str:
    if isinstance(func, str):
        return func
    module, name = getattr(func, "__module__", None), getattr(func, "__qualname__", "")
    if not module or not name or "<" in name or "." in name:
        raise NotDeferrable(f"{func!r} is not a module-level function")
    return f"{module}.{name}"


def _stored_options(options: dict[str, Any]) -> dict[str, Any]:
    stored: dict[str, Any] = {}
    for name, value in options.items():
        if value is None:
            continue
        if name == "retry":
            intervals = value.intervals if isinstance(value.intervals, list) else [value.intervals]
            stored["retry"] = {"max": value.max, "intervals": list(intervals)}
        elif name in PLAIN_OPTIONS:
            stored[name] = value
        else:
            raise NotDeferrable(f"rq option {name} cannot wait in the outbox")
    return stored


def _live_options(stored: dict[str, Any]) -> dict[str, Any]:
    from rq import Retry

    options = dict(stored)
    retry = options.pop("retry", None)
    if retry is not None:
        options["retry"] = Retry(max=retry["max"], interval=retry["intervals"])
    return options


def defer(func: Callable | str, args: tuple, kwargs: dict, queue: str, job_id: str,
          options: dict[str, Any]) -> DeferredJob:
    """Store one job for a later flush. Raises NotDeferrable for what cannot be stored, and the
    database's errors when PostgreSQL is unreachable too."""
    row = {"func_path": func_path(func), "args": list(args), "kwargs": dict(kwargs),
           "queue": queue, "job_id": job_id, "options": _stored_options(options),
           "created_at": utcnow()}
    try:
        json.dumps([row["args"], row["kwargs"], row["options"]])
    except (TypeError, ValueError) as error:
        raise NotDeferrable(f"arguments of {row['func_path']} are not JSON: {error}") from error
    with db.engine.begin() as conn:  # its own transaction: the caller's is none of its business
        new_id = conn.execute(DeferredJob.__table__.insert().returning(DeferredJob.id),
                              row).scalar_one()
    log.warning("Redis unreachable: job %s (%s) deferred to the outbox as row %s", job_id,
                row["func_path"], new_id)
    return DeferredJob(id=new_id, **row)


def find(job_id: str) -> DeferredJob | None:
    with db.engine.connect() as conn:
        row = conn.execute(select(DeferredJob.__table__).where(DeferredJob.job_id == job_id)
                           .limit(1)).mappings().one_or_none()
    return DeferredJob(**row) if row is not None else None


def waiting() -> int:
    with db.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(DeferredJob)).scalar_one()


def flush(batch: int = FLUSH_BATCH) -> int:
    """Enqueue every deferred job on rq, each once; returns how many were enqueued. Stops at
    the first enqueue Redis refuses (the rest wait for the next flush)."""
    jobs = current_app.extensions["jobs"]
    if jobs.inline:
        return 0
    table = DeferredJob.__table__
    # Claimed by deleting: a concurrent flusher skips the rows this one holds (PostgreSQL) or
    # waits for its commit and finds them gone (SQLite's single writer).
    claim = (delete(table).where(table.c.id.in_(
        select(table.c.id).order_by(table.c.id).limit(batch)
        .with_for_update(skip_locked=True).scalar_subquery()))
        .returning(*table.c))
    moved = 0
    while True:
        with db.engine.begin() as conn:
            rows = sorted(conn.execute(claim).mappings().all(), key=lambda row: row["id"])
            for index, row in enumerate(rows):
                try:
                    jobs.queue(row["queue"]).enqueue(
                        row["func_path"], *row["args"], job_id=row["job_id"],
                        **_live_options(row["options"] or {}), **(row["kwargs"] or {}))
                except REDIS_DOWN_ERRORS as error:
                    # Put back what did not reach Redis; what did is gone from the outbox.
                    conn.execute(table.insert(), [dict(left) for left in rows[index:]])
                    log.warning("outbox flush stopped after %d jobs, Redis unreachable: %s",
                                moved + index, error)
                    return moved + index
            moved += len(rows)
        if rows:
            log.info("outbox: %d deferred jobs enqueued", len(rows))
        if len(rows) < batch:
            return moved


def flush_deferred_jobs() -> int:
    """Periodic job (registered by app/core) and worker start: move the outbox onto the queues."""
    return flush()
