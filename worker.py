"""rq worker for the app's named queues, with the app context pushed once.

    python worker.py                 work every queue (default, payments, posters, notifications)
    python worker.py payments        work only the named queues
    python worker.py --cron          run the periodic-job scheduler (run exactly one of these)
"""
import sys

from rq import SimpleWorker

from app import create_app
from app.extensions import db, jobs
from app.jobs import QUEUE_NAMES


def main(argv: list[str]) -> None:
    app = create_app()
    app.app_context().push()
    if jobs.inline:
        raise SystemExit("REDIS_URL is not set: jobs run in-process, there is nothing to work.")
    if "--cron" in argv:
        run_cron_scheduler()
        return
    names = [name for name in argv if not name.startswith("-")] or list(QUEUE_NAMES)
    # SimpleWorker runs jobs in this process, so the pushed app context and the connection
    # pool are used directly; scale out with more processes rather than forked work horses.
    worker = AppWorker([jobs.queue(name) for name in names], connection=jobs.redis)
    db.session.remove()
    worker.work(with_scheduler=True)


class AppWorker(SimpleWorker):
    """Each job starts with a fresh database session, whatever the previous one left."""

    def perform_job(self, job, queue):
        try:
            return super().perform_job(job, queue)
        finally:
            db.session.remove()


def run_cron_scheduler() -> None:
    from rq.cron import CronScheduler

    from app.scheduling import periodic_jobs

    scheduler = CronScheduler(connection=jobs.redis, name="xiangzhu-cron")
    for func, interval, queue_name in periodic_jobs():
        scheduler.register(func, queue_name=queue_name, interval=interval)
    scheduler.start()


if __name__ == "__main__":
    main(sys.argv[1:])
