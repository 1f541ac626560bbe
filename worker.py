"""rq worker for the app's named queues, with the app context pushed once.

    python worker.py                 work every queue (default, payments, posters, notifications)
    python worker.py payments        work only the named queues
    python worker.py --cron          run the periodic-job scheduler (run exactly one of these)

A worker that dies mid-job (SIGKILL, OOM, a lost machine) leaves its job in rq's
StartedJobRegistry. Our workers heart-beat the running job every few seconds, so such a job is
known abandoned within JOB_HEARTBEAT_TTL seconds of the death; rq's registry cleanup (each
worker's maintenance, every MAINTENANCE_SECONDS and at start, and the periodic
`requeue_abandoned_jobs`) then retries it — every job is enqueued with a Retry (app/core/jobs.py) and
is idempotent. At start a worker also flushes the deferred-jobs outbox (app/core/outbox.py).
"""
import faulthandler
import logging
import signal
import sys
import threading
import time

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import SimpleWorker

from app import create_app
from app.extensions import db, jobs
from app.core.logging import bind_request_id
from app.core.jobs import QUEUE_NAMES

log = logging.getLogger("worker")

JOB_HEARTBEAT_TTL = 30        # a running job unseen this long is abandoned
JOB_HEARTBEAT_EVERY = 10
MAINTENANCE_SECONDS = 60      # rq's default is 600: abandoned jobs would wait ten minutes
RESTART_SECONDS = 5           # after Redis went away under a worker or the cron scheduler
REDIS_DOWN_ERRORS = (RedisConnectionError, RedisTimeoutError)


def main(argv: list[str]) -> None:
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # `kill -USR1`: where is it stuck?
    app = create_app()
    app.app_context().push()
    if jobs.inline:
        raise SystemExit("REDIS_URL is not set: jobs run in-process, there is nothing to work.")
    if "--cron" in argv:
        run_cron_scheduler()
        return
    names = [name for name in argv if not name.startswith("-")] or list(QUEUE_NAMES)
    # rq's worker survives Redis errors while it waits for a job, but not elsewhere in its
    # loop (it tears down and returns); an outage must not end the worker, so it starts again.
    while True:
        worker = None
        try:
            # SimpleWorker runs jobs in this process, so the pushed app context and the
            # connection pool are used directly; scale out with more processes rather than
            # forked work horses.
            worker = AppWorker([jobs.queue(name) for name in names], connection=jobs.redis,
                               maintenance_interval=MAINTENANCE_SECONDS)
            flush_outbox()
            db.session.remove()
            worker.work(with_scheduler=True)
            return
        except REDIS_DOWN_ERRORS as error:
            if worker is not None and worker._stop_requested:
                return
            log.warning("worker: Redis unreachable (%s); starting again in %s s", error,
                        RESTART_SECONDS)
            time.sleep(RESTART_SECONDS)


def flush_outbox() -> None:
    from app.core import outbox

    try:
        moved = outbox.flush()
    except REDIS_DOWN_ERRORS:
        log.warning("Redis unreachable at start: the outbox waits for the periodic flush")
        return
    if moved:
        log.info("outbox: %d deferred jobs enqueued at worker start", moved)


class AppWorker(SimpleWorker):
    """Each job starts with a fresh database session, whatever the previous one left, and is
    heart-beaten while it runs (rq's forking worker does this from its parent process; a
    SimpleWorker has none, so without this a job is only found abandoned after its whole
    timeout plus a minute, and a long job could be thought abandoned while it still runs)."""

    def get_heartbeat_ttl(self, job) -> int:
        return JOB_HEARTBEAT_TTL

    def perform_job(self, job, queue):
        stop = threading.Event()
        beating = threading.Thread(target=self._beat, args=(job, stop), daemon=True,
                                   name=f"heartbeat:{job.id}")
        beating.start()
        try:
            with bind_request_id(job.meta.get("request_id")):
                return super().perform_job(job, queue)
        finally:
            stop.set()
            beating.join()
            db.session.remove()

    def _beat(self, job, stop: threading.Event) -> None:
        execution = self.execution
        while not stop.wait(JOB_HEARTBEAT_EVERY):
            try:
                with self.connection.pipeline() as pipeline:
                    self.heartbeat(JOB_HEARTBEAT_TTL + MAINTENANCE_SECONDS, pipeline=pipeline)
                    execution.heartbeat(job.started_job_registry, JOB_HEARTBEAT_TTL, pipeline)
                    pipeline.execute()
            except REDIS_DOWN_ERRORS as error:
                log.warning("heartbeat of job %s missed: %s", job.id, error)


def run_cron_scheduler() -> None:
    """rq's CronScheduler stops at the first Redis error; an outage must not end the periodic
    jobs, so it is started again once Redis answers."""
    from rq.exceptions import SchedulerNotFound

    while True:
        try:
            build_cron_scheduler().start()
            return
        except SchedulerNotFound:
            # Raised by its sign-off when Redis came back empty (it still ran the jobs).
            return
        except REDIS_DOWN_ERRORS as error:
            log.warning("cron scheduler: Redis unreachable (%s); starting again in %s s",
                        error, RESTART_SECONDS)
            time.sleep(RESTART_SECONDS)


def build_cron_scheduler():
    from rq.cron import CronScheduler

    from app.core.plugins import periodic_jobs

    scheduler = CronScheduler(connection=jobs.redis, name="xiangzhu-cron")
    for func, interval, queue_name in periodic_jobs():
        scheduler.register(func, queue_name=queue_name, interval=interval)
    return scheduler


if __name__ == "__main__":
    main(sys.argv[1:])
