"""A job enqueued during a request logs under that request's id when a worker runs it."""
from __future__ import annotations

import pytest

from app.core.logging import current_request_id
from app.extensions import jobs

SEEN: list[str | None] = []


def remember_request_id() -> None:
    SEEN.append(current_request_id())


def test_the_worker_runs_a_job_under_the_id_of_the_request_that_enqueued_it(app):
    if jobs.inline:
        pytest.skip("needs Redis: in-process jobs run inside the request itself")
    from worker import AppWorker

    SEEN.clear()
    with app.test_request_context("/", headers={"X-Request-ID": "edge-job0001"}):
        job = jobs.enqueue(remember_request_id)
    assert job.meta["request_id"] == "edge-job0001"
    AppWorker([jobs.queue("default")], connection=jobs.redis).work(burst=True)
    assert SEEN == ["edge-job0001"]
    assert current_request_id() is None


def test_an_inline_job_logs_under_the_request_it_runs_in(app):
    if not jobs.inline:
        pytest.skip("in-process jobs only")
    SEEN.clear()
    with app.test_request_context("/", headers={"X-Request-ID": "edge-job0002"}):
        jobs.enqueue(remember_request_id)
    assert SEEN == ["edge-job0002"]
