"""Background jobs: rq on Redis when REDIS_URL is set, otherwise run in-process.

Jobs take ids, are idempotent, and report progress in `job.meta["progress"]` (0-100) so the
pages can show it. Features declare their jobs in their own `tasks.py` and enqueue through
`jobs.enqueue(...)`; nothing here knows about features.

rq runs a job at least once, and we make sure of the "at least": every job is enqueued with a
Retry unless it brings its own, so a job whose worker died mid-run (left in rq's
StartedJobRegistry, see worker.py's heartbeats) is run again by `requeue_abandoned()` rather
than filed as failed. When Redis cannot be reached, `enqueue` stores the job in the deferred-jobs
outbox (app/core/outbox.py) instead of raising, and the outbox is flushed once Redis is back.
"""
from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable

from flask import current_app
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from app.core.logging import current_request_id

log = logging.getLogger(__name__)

INLINE_JOBS_KEPT = 1000
OUTBOX_KEY = "xiangzhu.jobs_outbox"
QUEUE_NAMES = ("default", "payments", "posters", "notifications")
# Options that steer rq itself (retries, time limits, lifetimes); an in-process run has no use for
# them, so they are dropped there rather than passed on to the job function.
RQ_ONLY_KWARGS = frozenset({"retry", "job_timeout", "result_ttl", "ttl", "failure_ttl",
                            "description", "at_front", "depends_on", "on_success",
                            "on_failure", "on_stopped", "meta"})
# What "Redis is unreachable" looks like; any other RedisError is a bug to be raised.
REDIS_DOWN_ERRORS = (RedisConnectionError, RedisTimeoutError)
# Every job without its own Retry: enough to outlive a worker restart, not to hide a bug.
DEFAULT_RETRY_INTERVALS = [10, 60, 300]
REDIS_CONNECT_TIMEOUT = 2
REDIS_SOCKET_TIMEOUT = 5


@dataclass
class InlineJob:
    """What an in-process job leaves behind: enough for a progress page to read."""

    id: str
    meta: dict = field(default_factory=dict)
    status: str = "queued"
    result: Any = None

    def get_status(self, refresh: bool = True) -> str:
        return self.status

    def save_meta(self) -> None:
        return None


class JobQueue:
    def __init__(self) -> None:
        self.redis = None
        # Bounded: the embedded server keeps the latest in-process jobs for progress pages only.
        self._inline_jobs: OrderedDict[str, InlineJob] = OrderedDict()
        # Per thread: the threaded embedded server runs several requests' jobs at once.
        self._local = threading.local()

    def init_app(self, app) -> None:
        url = app.config.get("REDIS_URL")
        if url:
            from redis import Redis

            # Bounded waits: a request that enqueues must not hang on an unreachable Redis.
            self.redis = Redis.from_url(url, socket_connect_timeout=REDIS_CONNECT_TIMEOUT,
                                        socket_timeout=REDIS_SOCKET_TIMEOUT)
        else:
            self.redis = None
        app.extensions["jobs"] = self

    @property
    def inline(self) -> bool:
        return self.redis is None

    def queue(self, name: str = "default"):
        from rq import Queue

        if name not in QUEUE_NAMES:
            raise ValueError(f"unknown queue {name}")
        return Queue(name, connection=self.redis)

    def enqueue(self, func: Callable, *args, queue: str = "default", job_id: str | None = None,
                **kwargs):
        if not self.inline:
            return self._enqueue_rq(func, args, kwargs, queue, job_id)
        for name in RQ_ONLY_KWARGS & kwargs.keys():
            kwargs.pop(name)
        job = InlineJob(id=job_id or uuid.uuid4().hex)
        self._inline_jobs[job.id] = job
        while len(self._inline_jobs) > INLINE_JOBS_KEPT:
            self._inline_jobs.popitem(last=False)
        previous = getattr(self._local, "current", None)
        self._local.current = job
        job.status = "started"
        try:
            job.result = func(*args, **kwargs)
            job.status = "finished"
        except Exception:  # an inline job must fail like an rq job: recorded, not raised
            log.exception("inline job %s failed", job.id)
            job.status = "failed"
        finally:
            self._local.current = previous
        return job

    def _enqueue_rq(self, func, args: tuple, kwargs: dict, queue: str, job_id: str | None):
        from rq import Retry

        if kwargs.get("retry") is None:
            kwargs["retry"] = Retry(max=len(DEFAULT_RETRY_INTERVALS),
                                    interval=list(DEFAULT_RETRY_INTERVALS))
        request_id = current_request_id()
        if request_id:  # the worker logs the job under the request that asked for it
            kwargs["meta"] = {"request_id": request_id, **(kwargs.get("meta") or {})}
        rq_queue = self.queue(queue)
        job_id = job_id or uuid.uuid4().hex  # known before trying, so a deferred job keeps it
        try:
            return rq_queue.enqueue(func, *args, job_id=job_id, **kwargs)
        except REDIS_DOWN_ERRORS as error:
            return self._defer(func, args, kwargs, queue, job_id, error)

    def _defer(self, func, args: tuple, kwargs: dict, queue: str, job_id: str,
               error: Exception) -> InlineJob:
        outbox = _outbox()
        options = {name: kwargs.pop(name) for name in RQ_ONLY_KWARGS & kwargs.keys()}
        try:
            outbox.defer(func, args, kwargs, queue, job_id, options)
        except outbox.NotDeferrable:
            log.exception("job %s cannot wait for Redis", job_id)
            raise error from None
        return InlineJob(id=job_id, status="deferred")

    def fetch(self, job_id: str):
        """The job (rq's, or an in-process one's record); a stand-in with status "deferred"
        while the job waits in the outbox; None when unknown or Redis cannot say."""
        if self.inline:
            return self._inline_jobs.get(job_id)
        from rq.exceptions import NoSuchJobError
        from rq.job import Job

        try:
            return Job.fetch(job_id, connection=self.redis)
        except NoSuchJobError:
            pass
        except REDIS_DOWN_ERRORS:
            log.warning("Redis unreachable: job %s looked up in the outbox only", job_id)
        if _outbox().find(job_id) is not None:
            return InlineJob(id=job_id, status="deferred")
        return None

    def set_progress(self, percent: int, message: str = "") -> None:
        """Called from inside a job to publish progress."""
        if self.inline:
            job = getattr(self._local, "current", None)
        else:
            from rq import get_current_job

            job = get_current_job()
        if job is None:
            return
        job.meta["progress"] = percent
        job.meta["message"] = message
        job.save_meta()

    def requeue_abandoned(self, now: float | None = None) -> int:
        """Jobs whose worker stopped heart-beating (killed, machine lost) are put straight
        back on their queue while they have retries left (every job we enqueue has some), the
        others filed as failed by rq. Straight back, not after the Retry's interval: the job did
        not fail, and a retry scheduled for later waits on rq's scheduler, whose lock the dead
        worker may still hold for a minute. Returns how many were put back. `now` (seconds
        since the epoch) judges the heartbeats as of another moment."""
        if self.inline:
            return 0
        from rq.exceptions import NoSuchJobError
        from rq.job import Job
        from rq.registry import StartedJobRegistry

        cutoff = now if now is not None else time.time()
        requeued = 0
        for name in QUEUE_NAMES:
            queue = self.queue(name)
            # rq's own lock, shared with the workers' maintenance: one cleaner at a time, or a
            # job could be put back twice.
            if not queue.acquire_maintenance_lock():
                continue
            try:
                registry = StartedJobRegistry(name, connection=self.redis)
                for entry in self.redis.zrangebyscore(registry.key, 0, cutoff):
                    try:
                        job = Job.fetch(registry.parse_job_id(entry), connection=self.redis)
                    except NoSuchJobError:
                        self.redis.zrem(registry.key, entry)
                        continue
                    if not job.retries_left:
                        continue   # rq's cleanup below files it as failed
                    job.retries_left -= 1
                    with self.redis.pipeline() as pipeline:
                        pipeline.zrem(registry.key, entry)
                        job.save(pipeline=pipeline)
                        pipeline.execute()
                    queue.enqueue_job(job)
                    log.warning("queue %s: job %s was abandoned by its worker; run again "
                                "(%s retries left)", name, job.id, job.retries_left)
                    requeued += 1
                registry.cleanup(now)
            finally:
                queue.release_maintenance_lock()
        return requeued

    def ping(self) -> str:
        if self.inline:
            return "inline"
        self.redis.ping()
        return "ok"


def requeue_abandoned_jobs() -> int:
    """Periodic job (registered by app/core): retry jobs whose worker died mid-run."""
    return current_app.extensions["jobs"].requeue_abandoned()


def _outbox():
    """Where jobs wait while Redis is down: app/core/outbox.py, handed over by app/core's
    register(app) (the outbox's table lives on `db`, which this module must not import)."""
    return current_app.extensions[OUTBOX_KEY]
