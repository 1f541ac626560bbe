"""Drill 2: Redis stopped — pages and payment notices still work, /healthz says degraded,
and the work queued meanwhile runs once Redis is back.

    python bench/drills/redis_down.py            # 3 × 20 orders; -n N per phase, --json

A private cluster, a private Redis, the WeChat stand-in (thread), gunicorn (2 × 4 threads), one
`python worker.py` and one `python worker.py --cron`, all running throughout. Phase A (Redis
up): notices, pages, /healthz, a share link (rate-limited, JS-SDK signed). Then redis-server is
stopped (SIGTERM; no persistence, as the drill's Redis has none). Phase B: the same requests.
Then a new redis-server on the same port, and phase C. It reports what each answered, how
many jobs waited in the outbox, how long after Redis came back the outbox was empty and every
paid donation's after-payment work (the mutual-aid funnel's `donation_paid` step) was done.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.drills.common import (PrivatePostgres, acknowledged, app_env, drill_app,  # noqa: E402
                                 http, ledger_verify, payment_counts, seed_orders,
                                 signed_notice, start_redis, start_standin, start_worker, stop,
                                 use_env, wait_until)
from bench.drills.common import start_web  # noqa: E402
from bench.harness import fire, free_port  # noqa: E402


def funnel_paid_steps() -> int:
    from sqlalchemy import func, select

    from app.extensions import db
    from app.mutual_aid.models import FunnelEvent

    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(FunnelEvent)
                             .where(FunnelEvent.step == "donation_paid"))


def outbox_rows() -> int:
    from app.core import outbox

    return outbox.waiting()


def probe(base: str, campaign_id: int, notices: list[bytes], port: int) -> dict:
    """Pages, /healthz, a share link and a batch of notices; what each answered."""
    seen: dict = {}
    replies = asyncio.run(fire("127.0.0.1", port, [("POST", "/wechat/pay/notify", body)
                                                    for body in notices], 8))[2]
    seen["notices_acknowledged"] = f"{sum(map(acknowledged, replies))}/{len(notices)}"
    health, _ = http("GET", f"{base}/healthz")
    body = health.json()
    seen["healthz"] = f"{health.status_code} {body['status']} queue={body['queue']}" + (
        f" deferred_jobs={body['deferred_jobs']}" if "deferred_jobs" in body else "")
    home, cookie = http("GET", f"{base}/")
    explore = home.headers.get("Location", "/")
    pages = {}
    for path in (explore, f"/c/{campaign_id}"):
        response, cookie = http("GET", f"{base}{path}", cookie)
        pages[path] = response.status_code
    seen["pages"] = pages
    page, cookie = http("GET", f"{base}/c/{campaign_id}", cookie)
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    share, cookie = http("POST", f"{base}/c/{campaign_id}/share/link", cookie,
                         json={"url": f"{base}/c/{campaign_id}"},
                         headers={"X-CSRFToken": token})
    signed = share.ok and share.json().get("wx")
    seen["share_link"] = (f"{share.status_code} wx={'signed' if signed else None} "
                          f"ratelimit-remaining={share.headers.get('X-RateLimit-Remaining')}")
    return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--orders", type=int, default=20, help="orders per phase")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    started = time.monotonic()
    pg = PrivatePostgres()
    standin = start_standin()
    redis = server = None
    workers = []
    logs = Path(tempfile.mkdtemp(prefix="xz-drill-logs-"))
    try:
        redis_port, port = free_port(), free_port()
        redis_url = f"redis://127.0.0.1:{redis_port}/0"
        base = f"http://127.0.0.1:{port}"
        redis = start_redis(redis_port)
        env = app_env(pg.url, redis_url, standin.base_url, base,
                      tempfile.mkdtemp(prefix="xz-drill-uploads-"))
        use_env(env)
        app = drill_app()
        with app.app_context():
            campaign_ids, orders = seed_orders(3 * args.orders)
        notices = [signed_notice(number, fen) for number, fen in orders]
        server = start_web(env, port)
        workers = [start_worker(env, log=logs / "worker.log"),
                   start_worker(env, "--cron", log=logs / "cron.log")]
        result: dict = {"date": date.today().isoformat()}

        with app.app_context():
            result["A_redis_up"] = probe(base, campaign_ids[0], notices[:args.orders], port)
            wait_until(lambda: funnel_paid_steps() >= args.orders, 30)

            stop(redis)
            redis = None
            stopped_at = time.monotonic()
            result["B_redis_down"] = probe(base, campaign_ids[1],
                                           notices[args.orders:2 * args.orders], port)
            result["B_redis_down"]["outbox_rows"] = outbox_rows()
            result["B_redis_down"]["funnel_steps_done"] = funnel_paid_steps()
            time.sleep(max(0.0, 10 - (time.monotonic() - stopped_at)))  # a 10 s outage

            redis = start_redis(redis_port)
            back_at = time.monotonic()
            result["redis_down_seconds"] = round(back_at - stopped_at, 1)
            result["C_redis_back"] = probe(base, campaign_ids[2], notices[2 * args.orders:], port)
            emptied = wait_until(lambda: outbox_rows() == 0 and time.monotonic(), 90, 0.5)
            result["outbox_empty_after_s"] = round(emptied - back_at, 1) if emptied else None
            done = wait_until(lambda: funnel_paid_steps() >= 3 * args.orders
                              and time.monotonic(), 90, 0.5)
            result["all_work_done_after_s"] = round(done - back_at, 1) if done else None
            result["funnel_steps"] = funnel_paid_steps()
            result["outbox_rows_left"] = outbox_rows()
            counts = payment_counts()
            from rq.registry import FailedJobRegistry

            from app.extensions import jobs
            result["failed_jobs"] = sum(FailedJobRegistry(name, connection=jobs.redis).count
                                        for name in ("default", "payments", "posters",
                                                     "notifications"))
        result.update(counts)
        stop(server)
        server = None
        result["ledger_verify_exit"], result["ledger_verify"] = ledger_verify(env)
        b = result["B_redis_down"]
        result["passed"] = (
            b["healthz"].startswith("200 degraded") and set(b["pages"].values()) == {200}
            and b["notices_acknowledged"] == f"{args.orders}/{args.orders}"
            and b["share_link"].startswith("200") and b["outbox_rows"] > 0
            and counts["paid"] == 3 * args.orders
            and result["funnel_steps"] == 3 * args.orders and result["outbox_rows_left"] == 0
            and result["ledger_verify_exit"] == 0)
        result["seconds"] = round(time.monotonic() - started, 1)
        result["logs"] = str(logs)
    finally:
        for worker in workers:
            stop(worker)
        stop(server)
        stop(redis)
        standin.stop()
        pg.stop()
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:24} {value}")
    sys.exit(0 if result["passed"] else 1)


if __name__ == "__main__":
    main()
