"""Apportionment benchmark: one round for N members (default 1,000,000) on PostgreSQL, computed
by the real background job (`app.mutual_aid.tasks.apportion_round_job`) in an rq worker process,
in batches, with progress read from the job's meta as a staff page would.

    python bench/apportion/run.py                      # 1,000,000 members, batches of 50,000
    python bench/apportion/run.py -n 200000 --batch 20000 --json

It uses its own database (xiangzhu_bench_apportion on 127.0.0.1:5432, user postgres, made
afresh each run) and Redis db 14. Members are written straight into the tables by SQL
(generate_series) so that seeding is quick; the round itself goes through the application code.
Reported: seconds from announcement to charges committed, the worker's peak resident memory
(VmHWM), the progress the job published, and the round's own checks (charges sum to the total,
one per member; `ledger verify`'s round check).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DATABASE = "xiangzhu_bench_apportion"
REDIS = "redis://127.0.0.1:6379/14"


def config() -> dict:
    return {"TESTING": True, "EMBEDDED": False, "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": SERVER.rsplit("/", 1)[0] + f"/{DATABASE}",
            "REDIS_URL": REDIS, "RATELIMIT_STORAGE_URI": "memory://",
            "MUTUAL_AID_BATCH_SIZE": int(os.environ.get("BENCH_BATCH", "50000"))}


def make_app():
    from app import create_app

    return create_app(config())


def fresh_database() -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{DATABASE}"'))
    admin.dispose()


def seed(n: int) -> int:
    """N payers and N members (a tenth of them still in their waiting period), one case owed."""
    from sqlalchemy import text

    from app.extensions import db
    from app.mutual_aid.money_models import ItemKind, RoundItem
    from app.mutual_aid.services import seed_demo_plan

    db.create_all()
    plan = seed_demo_plan()
    db.session.execute(text(
        "INSERT INTO users (openid, nickname, created_at) "
        "SELECT 'bench_' || i, '会员' || i, now() FROM generate_series(1, :n) AS i"), {"n": n})
    db.session.execute(text("""
        INSERT INTO mutual_aid_memberships
          (plan_id, user_id, relation, name_enc, name_masked, id_enc, id_index, id_masked,
           birth_date, male, status, declaration, accepted_rules_at, joined_at, waiting_until,
           end_reason)
        SELECT :plan, i, 'self', 'x', '张*', 'x', md5(i::text), '1101**********0000',
               date '1990-01-01' + (i % 9000), i % 2 = 0,
               CASE WHEN i % 10 = 0 THEN 'waiting' ELSE 'active' END, '{}',
               now() - interval '200 days', now() - interval '200 days',
               now() - interval '20 days', ''
        FROM generate_series(1, :n) AS i"""), {"plan": plan.id, "n": n})
    db.session.add(RoundItem(plan_id=plan.id, kind=ItemKind.claim, membership_id=1,
                             beneficiary_user_id=1, requested_fen=300_000_00))
    db.session.commit()
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    return plan.id


def worker_main() -> None:
    """The worker process: the app once, then an rq worker in burst mode (as worker.py does)."""
    from rq import SimpleWorker

    from app.extensions import db, jobs

    app = make_app()
    with app.app_context():
        SimpleWorker([jobs.queue("default")], connection=jobs.redis).work(burst=True)
        db.session.remove()
    with open("/proc/self/status", encoding="ascii") as status:
        peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    print(json.dumps({"worker_peak_rss_kib": peak}), flush=True)


def _peak_rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=50_000)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--until-charged", action="store_true",
                        help="stop the worker once the charges are committed (progress 100 %%), "
                             "before the job tells every member their share")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker_main()
        return
    os.environ.pop("DATABASE_URL", None)
    fresh_database()
    app = make_app()
    with app.app_context():
        from sqlalchemy import func, select

        from app.extensions import db, jobs
        from app.mutual_aid import rounds
        from app.mutual_aid.money_models import Round, ShareCharge
        from app.mutual_aid.verify import round_problems

        jobs.redis.flushdb()
        started = time.perf_counter()
        plan_id = seed(args.n)
        seeded = time.perf_counter() - started
        started = time.perf_counter()
        round_ = rounds.announce_round(plan_id)
        job_id = round_.job_id
        worker = subprocess.Popen([sys.executable, __file__, "--worker"], stdout=subprocess.PIPE,
                                  text=True, env=os.environ | {"BENCH_BATCH": str(args.batch)})
        progress = []
        finished = None   # the whole job done: the charges, then every member told (reminders)
        while worker.poll() is None:
            job = jobs.fetch(job_id)
            if job is not None:
                point = job.get_meta(refresh=True).get("progress")
                if point is not None and (not progress or progress[-1][1] != point):
                    progress.append((round(time.perf_counter() - started, 2), point))
                if finished is None and job.is_finished:
                    finished = time.perf_counter() - started
                if args.until_charged and point is not None and point >= 100:
                    stopped_rss = _peak_rss_kib(worker.pid)
                    worker.kill()   # rq finishes its job on SIGTERM
                    worker.wait()
                    break
            time.sleep(0.2)
        elapsed = time.perf_counter() - started
        finished = elapsed if finished is None else finished
        # progress 100 %: the last batch of charges committed (the round's own work)
        charged = next((t for t, point in progress if point >= 100), finished)
        if args.until_charged and progress and progress[-1][1] >= 100:
            out = {"worker_peak_rss_kib": stopped_rss}
        else:
            out = json.loads(worker.stdout.read().strip().splitlines()[-1])
        db.session.expire_all()
        round_ = db.session.get(Round, round_.id)
        count, total = db.session.execute(
            select(func.count(), func.sum(ShareCharge.amount_fen))
            .where(ShareCharge.round_id == round_.id)).one()
        result = {
            "members": args.n, "batch": args.batch, "seed_seconds": round(seeded, 1),
            "round_seconds": round(charged, 1),
            # the job then tells each member their share due (remind_shares_due), in the job
            "job_seconds_with_reminders": (None if args.until_charged
                                           else round(finished, 1)),
            "worker_seconds": round(elapsed, 1),
            "status": round_.status.value,
            "charges": count, "charges_sum_fen": int(total or 0), "total_fen": round_.total_fen,
            "base_share_fen": round_.base_share_fen, "remainder": round_.remainder,
            "capped": round_.capped,
            "worker_peak_rss_mib": round(out["worker_peak_rss_kib"] / 1024),
            "progress_seen": len(progress), "checks": round_problems() or "ok"}
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        for key, value in result.items():
            print(f"{key:>20}: {value}")
        print(f"{'progress':>20}: " + ", ".join(f"{t}s→{p}%" for t, p in progress))


if __name__ == "__main__":
    main()
