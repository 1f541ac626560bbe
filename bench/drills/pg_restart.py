"""Drill 3: PostgreSQL restarted under load — no notice acknowledged before its commit.

    python bench/drills/pg_restart.py            # 400 orders; -n N, --json

A private cluster, a private Redis, gunicorn (2 workers × 4 threads) on wsgi:app. Every order's
signed notice is fired over 16 keep-alive connections; once a third have been answered,
`pg_ctl restart -m fast` restarts the cluster under the load. Then, as WeChat does, every
notice not answered SUCCESS is sent again (rounds 1 s apart, at most 10). It reports:
- acknowledged in the first pass, and whether each of them was paid in the database at that
  moment (an acknowledgement before the commit would show as acknowledged-but-unpaid);
- what the failed replies were, the resend rounds needed, how long the app took to recover;
- paid orders, ledger postings per order, campaign totals, and `flask ledger verify`.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.drills.common import (PrivatePostgres, acknowledged, app_env, drill_app,  # noqa: E402
                                 ledger_verify, payment_counts, seed_orders, signed_notice,
                                 start_redis, stop, use_env)
from bench.drills.common import start_web  # noqa: E402
from bench.harness import fire, free_port  # noqa: E402


def paid_numbers() -> set[str]:
    from sqlalchemy import select

    from app.extensions import db
    from app.payments.models import Payment, PaymentState

    db.session.rollback()
    return set(db.session.scalars(select(Payment.out_trade_no)
                                  .where(Payment.state == PaymentState.paid)))


def reply_kind(reply: bytes) -> str:
    if not reply:
        return "no reply (connection lost)"
    status = reply.split(b"\r\n", 1)[0].decode("latin-1", "replace")
    if acknowledged(reply):
        return "SUCCESS"
    return status


def fire_guarded(port: int, batch: list[tuple[str, str, bytes]], connections: int) -> list[bytes]:
    try:
        return asyncio.run(fire("127.0.0.1", port, batch, connections))[2]
    except (ConnectionError, asyncio.IncompleteReadError, OSError):
        # A connection the server dropped: send one by one so each gets its own answer.
        replies = []
        for item in batch:
            try:
                replies.append(asyncio.run(fire("127.0.0.1", port, [item], 1))[2][0])
            except (ConnectionError, asyncio.IncompleteReadError, OSError):
                replies.append(b"")
        return replies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--orders", type=int, default=400)
    parser.add_argument("-c", "--connections", type=int, default=16)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    started = time.monotonic()
    pg = PrivatePostgres()
    redis = server = None
    uploads = tempfile.mkdtemp(prefix="xz-drill-uploads-")
    try:
        redis_port, port = free_port(), free_port()
        redis = start_redis(redis_port)
        env = app_env(pg.url, f"redis://127.0.0.1:{redis_port}/0", None,
                      f"http://127.0.0.1:{port}", uploads)
        use_env(env)
        app = drill_app()
        with app.app_context():
            _, orders = seed_orders(args.orders)
        server = start_web(env, port)
        bodies = {number: signed_notice(number, fen) for number, fen in orders}
        requests = [("POST", "/wechat/pay/notify", bodies[number]) for number, _ in orders]

        # First pass, in chunks, with the restart fired from a thread once a third are in.
        restart_at = len(requests) // 3
        restart_done = threading.Event()
        restart_timing = {}

        def restart() -> None:
            restart_timing["began"] = time.monotonic()
            pg.restart()
            restart_timing["ended"] = time.monotonic()
            restart_done.set()

        replies: list[bytes] = []
        chunk = max(args.connections, 20)
        restarter = None
        for offset in range(0, len(requests), chunk):
            if restarter is None and offset >= restart_at:
                restarter = threading.Thread(target=restart)
                restarter.start()
            replies += fire_guarded(port, requests[offset:offset + chunk], args.connections)
        if restarter is not None:
            restarter.join()

        with app.app_context():
            paid_after_first = paid_numbers()
        first_kinds = Counter(reply_kind(reply) for reply in replies)
        acked = {number for (number, _), reply in zip(orders, replies) if acknowledged(reply)}
        acked_unpaid = sorted(acked - paid_after_first)

        # WeChat's resends: every notice not answered SUCCESS, until all are.
        pending = [number for (number, _), reply in zip(orders, replies)
                   if not acknowledged(reply)]
        rounds, resent = 0, 0
        recovered_after = None
        while pending and rounds < 10:
            time.sleep(1)
            rounds += 1
            resent += len(pending)
            again = fire_guarded(port, [("POST", "/wechat/pay/notify", bodies[n])
                                        for n in pending], args.connections)
            pending = [n for n, reply in zip(pending, again) if not acknowledged(reply)]
            if recovered_after is None and any(acknowledged(r) for r in again):
                recovered_after = round(time.monotonic() - restart_timing["ended"], 2)

        with app.app_context():
            counts = payment_counts()
        stop(server)
        server = None
        verify_exit, verify_line = ledger_verify(env)
        expected_fen = sum(fen for _, fen in orders)
        result = {
            "date": date.today().isoformat(), "orders": len(orders),
            "first_pass": dict(first_kinds), "acknowledged_first_pass": len(acked),
            "acknowledged_but_unpaid": len(acked_unpaid),
            "restart_seconds": round(restart_timing["ended"] - restart_timing["began"], 2),
            "resend_rounds": rounds, "notices_resent": resent, "never_acknowledged": len(pending),
            "first_success_after_restart_s": recovered_after,
            **counts, "expected_fen": expected_fen,
            "double_counts": (counts["orders_posted"] - counts["paid"])
            + (counts["donation_count"] - counts["paid"]),
            "ledger_verify_exit": verify_exit, "ledger_verify": verify_line,
            "seconds": round(time.monotonic() - started, 1),
        }
        result["passed"] = (result["acknowledged_but_unpaid"] == 0
                            and counts["paid"] == len(orders) and not pending
                            and counts["paid_fen"] == expected_fen == counts["raised_fen"]
                            and result["double_counts"] == 0 and verify_exit == 0)
    finally:
        stop(server)
        stop(redis)
        pg.stop()
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:32} {value}")
    sys.exit(0 if result["passed"] else 1)


if __name__ == "__main__":
    main()
