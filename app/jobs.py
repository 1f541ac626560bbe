"""Background jobs: rq on Redis when REDIS_URL is set, otherwise run in-process.

Jobs take ids, are idempotent, and report progress in `job.meta["progress"]` (0-100) so the
pages can show it. Features declare their jobs in their own `tasks.py` and enqueue through
`jobs.enqueue(...)`; nothing here knows about features.
"""
from __future__ import annotations

import logging
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable

log = logging.getLogger(__name__)

INLINE_JOBS_KEPT = 1000
QUEUE_NAMES = ("default", "payments", "posters", "notifications")
# Options that steer rq itself (retries, time limits, lifetimes); an in-process run has no use for
# them, so they are dropped there rather than passed on to the job function.
RQ_ONLY_KWARGS = frozenset({"retry", "job_timeout", "result_ttl", "ttl", "failure_ttl",
                            "description", "at_front", "depends_on", "on_success",
                            "on_failure", "on_stopped", "meta"})


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

            self.redis = Redis.from_url(url)
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
            return self.queue(queue).enqueue(func, *args, job_id=job_id, **kwargs)
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

    def fetch(self, job_id: str):
        if self.inline:
            return self._inline_jobs.get(job_id)
        from rq.exceptions import NoSuchJobError
        from rq.job import Job

        try:
            return Job.fetch(job_id, connection=self.redis)
        except NoSuchJobError:
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

    def ping(self) -> str:
        if self.inline:
            return "inline"
        self.redis.ping()
        return "ok"
