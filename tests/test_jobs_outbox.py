"""Jobs when Redis is away: the deferred-jobs outbox, its flush, and jobs whose worker died.

Redis is outside the process, so "down" is a real Redis client pointed at a port nobody
listens on, and "back" is a real Redis: the one the suite runs on (REDIS_URL), or a private
redis-server started for this module.
"""
from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time

import pytest
from redis import Redis
from rq import Queue
from rq.registry import FailedJobRegistry, StartedJobRegistry
from sqlalchemy import func, select

from app.core import outbox
from app.core.outbox import DeferredJob
from app.extensions import db, jobs
from app.core.jobs import QUEUE_NAMES
from app.mutual_aid.models import FunnelEvent
from app.sharing.models import ShareAttribution
from app.campaigns.models import Campaign
from app.ledger.verify import verify
from tests.payments.helpers import acknowledged, notice_for, post_notice, start


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture()
def redis_down(monkeypatch):
    """Jobs configured for a Redis that does not answer."""
    monkeypatch.setattr(jobs, "redis", Redis(host="127.0.0.1", port=_free_port(),
                                             socket_connect_timeout=1))


@pytest.fixture(scope="module")
def live_redis_url(app):
    if app.config["REDIS_URL"]:
        yield app.config["REDIS_URL"]
        return
    if shutil.which("redis-server") is None:
        pytest.skip("no Redis to flush to (REDIS_URL unset and no redis-server)")
    port = _free_port()
    process = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                                "--save", "", "--appendonly", "no"],
                               stdout=subprocess.DEVNULL)
    client = Redis(port=port)
    for _ in range(200):
        try:
            client.ping()
            break
        except OSError:
            time.sleep(0.05)
        except Exception:  # redis-py's ConnectionError while the server starts
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture()
def redis_back(monkeypatch, live_redis_url):
    """Jobs configured for a Redis that answers (emptied before and after)."""
    client = Redis.from_url(live_redis_url)
    client.flushdb()
    monkeypatch.setattr(jobs, "redis", client)
    yield client
    client.flushdb()


def deferred_rows() -> list[DeferredJob]:
    db.session.expire_all()
    return list(db.session.scalars(select(DeferredJob).order_by(DeferredJob.id)))


def example_job(campaign_id: int, note: str = "") -> str:
    """A module-level job for the tests to enqueue."""
    return f"{campaign_id}:{note}"


# --- deferring -------------------------------------------------------------------------------

def test_enqueue_while_redis_is_down_defers_the_job(db, redis_down):
    from rq import Retry

    job = jobs.enqueue(example_job, 7, note="说明", queue="posters", job_id="poster-abc",
                       retry=Retry(max=2, interval=[5, 30]), job_timeout=60)

    assert (job.id, job.get_status()) == ("poster-abc", "deferred")
    [row] = deferred_rows()
    assert row.func_path == "tests.test_jobs_outbox.example_job"
    assert (row.args, row.kwargs, row.queue, row.job_id) == ([7], {"note": "说明"}, "posters",
                                                              "poster-abc")
    assert row.options == {"retry": {"max": 2, "intervals": [5, 30]}, "job_timeout": 60}
    assert jobs.fetch("poster-abc").get_status() == "deferred"   # pages can show it waiting
    assert jobs.fetch("no-such-job") is None


def test_a_job_without_its_own_retry_is_deferred_with_the_default_one(db, redis_down):
    job = jobs.enqueue(example_job, 1)
    [row] = deferred_rows()
    assert row.job_id == job.id and row.queue == "default"
    assert row.options["retry"]["max"] >= 1


def test_a_job_that_cannot_be_stored_fails_as_the_enqueue_would_have(db, redis_down):
    from redis.exceptions import ConnectionError as RedisConnectionError

    with pytest.raises(RedisConnectionError):
        jobs.enqueue(lambda: None)
    with pytest.raises(RedisConnectionError):
        jobs.enqueue(example_job, object())
    assert deferred_rows() == []


def test_a_payment_notice_while_redis_is_down_is_acknowledged_and_its_jobs_wait(
        client, live_campaign, donor, redis_down):
    payment = start(live_campaign, donor, 66_00)

    response = post_notice(client, notice_for(payment))

    assert acknowledged(response)
    campaign = db.session.get(Campaign, live_campaign.id)
    db.session.refresh(campaign)
    assert (campaign.raised_fen, campaign.donation_count) == (66_00, 1)
    assert verify() == []
    waiting = {row.func_path for row in deferred_rows()}
    assert {"app.sharing.tasks.attribute_donation_job",
            "app.mutual_aid.funnel.record_step"} <= waiting


def test_healthz_is_degraded_but_serving_and_counts_the_waiting_jobs(app, db, redis_down):
    jobs.enqueue(example_job, 1)
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert (body["status"], body["queue"], body["db"]) == ("degraded", "down", "ok")
    assert body["deferred_jobs"] == 1


def test_the_share_card_falls_back_when_the_token_cache_is_unreachable(app, db, redis_down):
    from app.wechat import jssdk

    assert jssdk.config_for("http://127.0.0.1/c/1") is None


# --- flushing --------------------------------------------------------------------------------

def test_a_flush_enqueues_each_deferred_job_once_and_the_work_gets_done(
        client, live_campaign, donor, monkeypatch, live_redis_url):
    monkeypatch.setattr(jobs, "redis", Redis(host="127.0.0.1", port=_free_port()))
    payment = start(live_campaign, donor, 30_00)
    assert acknowledged(post_notice(client, notice_for(payment)))
    waiting = [row.job_id for row in deferred_rows()]
    assert waiting

    back = Redis.from_url(live_redis_url)
    back.flushdb()
    monkeypatch.setattr(jobs, "redis", back)
    try:
        assert outbox.flush() == len(waiting)
        assert deferred_rows() == []
        assert outbox.flush() == 0
        queued = {name: Queue(name, connection=back).job_ids for name in QUEUE_NAMES}
        assert sorted(i for ids in queued.values() for i in ids) == sorted(waiting)
        first = jobs.fetch(waiting[0])
        assert first.retries_left >= 1                       # the Retry came through

        from rq import SimpleWorker
        SimpleWorker([jobs.queue(n) for n in QUEUE_NAMES], connection=back).work(burst=True)

        donation_id = payment.payable_id
        assert db.session.scalar(select(func.count()).select_from(FunnelEvent).where(
            FunnelEvent.step == "donation_paid")) == 1
        assert db.session.scalar(select(func.count()).select_from(ShareAttribution).where(
            ShareAttribution.donation_id == donation_id)) >= 0  # credited if a link brought it
        assert FailedJobRegistry("default", connection=back).count == 0
    finally:
        back.flushdb()


def test_a_flush_that_finds_redis_down_keeps_every_job(db, redis_down):
    for campaign_id in range(3):
        jobs.enqueue(example_job, campaign_id)
    assert outbox.flush() == 0
    assert [row.args for row in deferred_rows()] == [[0], [1], [2]]


def test_concurrent_flushes_enqueue_each_job_once(app, db, redis_down, monkeypatch,
                                                 live_redis_url):
    for campaign_id in range(120):
        jobs.enqueue(example_job, campaign_id, job_id=f"job-{campaign_id}")
    back = Redis.from_url(live_redis_url)
    back.flushdb()
    monkeypatch.setattr(jobs, "redis", back)
    moved: list[int] = []

    def flusher() -> None:
        with app.app_context():
            moved.append(outbox.flush(batch=7))

    try:
        threads = [threading.Thread(target=flusher) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sum(moved) == 120
        queued = Queue("default", connection=back).job_ids
        assert len(queued) == 120 and len(set(queued)) == 120
        assert deferred_rows() == []
    finally:
        back.flushdb()


# --- workers that die mid-job ----------------------------------------------------------------

def test_a_job_whose_worker_died_is_retried_not_failed(db, redis_back):
    from worker import JOB_HEARTBEAT_TTL, AppWorker

    job = jobs.enqueue(example_job, 5, queue="payments")
    queue = jobs.queue("payments")
    worker = AppWorker([queue], connection=redis_back)
    # What a worker does before it runs a job; then it is SIGKILLed and says nothing more.
    dequeued, _ = Queue.dequeue_any([queue], None, connection=redis_back)
    worker.prepare_execution(dequeued)
    worker.prepare_job_execution(dequeued)
    assert job.id in StartedJobRegistry("payments", connection=redis_back).get_job_ids()

    assert jobs.requeue_abandoned(now=time.time() + JOB_HEARTBEAT_TTL / 2) == 0  # still fresh
    assert jobs.requeue_abandoned(now=time.time() + JOB_HEARTBEAT_TTL + 1) == 1

    again = jobs.fetch(job.id)
    assert again.retries_left == dequeued.retries_left - 1
    assert again.get_status() == "queued" and job.id in queue.job_ids   # back at once
    assert FailedJobRegistry("payments", connection=redis_back).count == 0
    assert job.id not in StartedJobRegistry("payments", connection=redis_back).get_job_ids()
    assert jobs.requeue_abandoned(now=time.time() + JOB_HEARTBEAT_TTL + 1) == 0  # once only
