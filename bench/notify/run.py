"""Payment-notice benchmark: gunicorn + PostgreSQL, signed WeChat Pay notices, 20% duplicates.

    python bench/notify/run.py                  # 5,000 orders, 6,250 notices, 32 connections
    python bench/notify/run.py -n 2000 --json   # smaller, machine-readable
    python bench/notify/run.py --api v3         # APIv3 notices (RSA-signed, AES-GCM) instead of v2's

Creates its own database (`xiangzhu_bench` on 127.0.0.1:5432 as postgres; dropped afterwards
unless --keep), builds the schema with db.create_all, seeds live campaigns and one pending
payment (with its donation) per order, starts gunicorn on wsgi:app, and then:

1. fires every order's signed notice at POST /wechat/pay/notify over 32 keep-alive connections,
   20% of them twice (half of those back to back, so the copies race each other, the rest
   later, as WeChat's resends do) — notices/s, p50, p99;
2. fires as many GET /bench/trivial (bench/wsgi.py: `{"ok": true}`, touching nothing) at the
   same server the same way, in interleaved rounds (three repeats) — requests/s, p50, p99 — and
   prints the notice throughput as a ratio of that ceiling, min / median / max over the repeats,
   with the load average;
3. runs `flask --app wsgi ledger verify` against the database and counts double counts: ledger
   transactions beyond one per paid order, and campaigns whose raised total is not the exact
   sum of their orders.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import func, select  # noqa: E402

from bench.harness import (BENCH_APP, PG, ROOT, TRIVIAL_PATH, V3NoticeSigner, fire,  # noqa: E402
                          free_port, load_average, production_secrets, ratios_per_repeat,
                          recreate_database, signed_notice, spread_text, start_gunicorn,
                          start_redis, stop, summary)

CAMPAIGNS = 20


# --- database ---------------------------------------------------------------------------------

def seed(url: str, orders: int, provider: str) -> list[tuple[str, int]]:
    """Schema, campaigns, one pending payment + donation per order → [(out_trade_no, fen)]."""
    from app import create_app
    from app.extensions import db
    from bench import seeding

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": False})
    rng = random.Random(20261128)
    with app.app_context():
        db.create_all()
        amounts = [rng.choice([10_00, 20_00, 50_00, 100_00, 200_00, rng.randint(100, 500_00)])
                   for _ in range(orders)]
        _, made = seeding.pending_orders(amounts, CAMPAIGNS, donor_count=200, provider=provider)
        db.session.commit()
        db.engine.dispose()
    return made


def notices(orders: list[tuple[str, int]], rng: random.Random,
            v3: V3NoticeSigner | None = None) -> tuple[list, int]:
    """Signed notices in firing order: 20% of all notices are duplicates of another. A v3
    notice is (body, headers); its timestamp is now, well inside the 5 minutes a notice lives."""
    bodies = [v3.notice(out_trade_no, fen) if v3 else signed_notice(out_trade_no, fen)
              for out_trade_no, fen in orders]
    duplicates = len(bodies) // 4  # 25% of the orders twice → 20% of all notices
    sequence = list(bodies)
    for i, index in enumerate(rng.sample(range(len(bodies)), duplicates)):
        position = sequence.index(bodies[index])
        if i % 2 == 0:   # back to back: the copies race each other
            sequence.insert(position + 1, bodies[index])
        else:            # later, like a resend
            sequence.insert(rng.randint(position + 1, len(sequence)), bodies[index])
    return sequence, duplicates


# --- load --------------------------------------------------------------------------------------

CLIENT_CPU = {"seconds": 0.0}


# --- server ------------------------------------------------------------------------------------

def double_counts(url: str, orders: list[tuple[str, int]]) -> dict:
    from app import create_app
    from app.campaigns.models import Campaign
    from app.extensions import db
    from app.ledger.models import LedgerTransaction
    from app.payments.models import Payment, PaymentState

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        paid = db.session.scalar(select(func.count()).select_from(Payment)
                                 .where(Payment.state == PaymentState.paid))
        transactions = db.session.scalar(select(func.count()).select_from(LedgerTransaction)
                                         .where(LedgerTransaction.source_type == "payment"))
        raised = db.session.scalar(select(func.sum(Campaign.raised_fen)))
        count = db.session.scalar(select(func.sum(Campaign.donation_count)))
        db.engine.dispose()
    expected = sum(fen for _, fen in orders)
    return {"orders": len(orders), "paid": paid, "ledger_transactions": transactions,
            "double_counts": int((transactions - paid) + (count - len(orders)))
            + (1 if raised != expected else 0),
            "raised_fen": int(raised or 0), "expected_fen": expected}


def notice_request(notice, api: str) -> tuple:
    if api == "v3":
        body, headers = notice
        return ("POST", "/wechat/pay/v3/notify", body, headers)
    return ("POST", "/wechat/pay/notify", notice)


def acknowledged(reply: bytes, api: str) -> bool:
    if api == "v3":  # success is 200 or 204 with no body; a failure is 4xx/5xx with FAIL
        return reply.split(b"\r\n", 1)[0].split(b" ")[1:2] in ([b"200"], [b"204"])
    return b"<![CDATA[SUCCESS]]>" in reply


def measure(port: int, sequence: list, connections: int, rounds: int, api: str) -> dict:
    """Notices and the trivial route in alternating rounds, so whatever else the machine is
    doing weighs on both sides of each round's ratio alike."""
    chunks = [sequence[i::rounds] for i in range(rounds)]
    totals = {"notify": [0.0, [], []], "trivial": [0.0, [], []]}
    per_round: list[dict] = []
    for chunk in chunks:
        this_round = {}
        for name, batch in (("notify", [notice_request(n, api) for n in chunk]),
                            ("trivial", [("GET", TRIVIAL_PATH, b"")] * len(chunk))):
            cpu = time.process_time()
            elapsed, latencies, replies = asyncio.run(fire("127.0.0.1", port, batch,
                                                           connections))
            CLIENT_CPU["seconds"] += time.process_time() - cpu
            totals[name][0] += elapsed
            totals[name][1] += latencies
            totals[name][2] += replies
            this_round[name] = summary(elapsed, latencies)
        per_round.append(this_round)
    totals["rounds"] = per_round
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--orders", type=int, default=5000)
    parser.add_argument("-c", "--connections", type=int, default=32)
    parser.add_argument("-w", "--workers", type=int, default=4)
    parser.add_argument("-t", "--threads", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-redis", action="store_true",
                        help="run jobs in-process instead of queueing them on a private Redis")
    parser.add_argument("--bare", action="store_true",
                        help="without other features' donation_paid listeners")
    parser.add_argument("--database", default="xiangzhu_bench")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--api", choices=("v2", "v3"), default="v2",
                        help="WeChat Pay API of the notices (the server is configured to match)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    url = PG + args.database
    recreate_database(args.database)
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "XIANGZHU_EMBEDDED")}
    env.update(DATABASE_URL=url, PYTHONPATH=str(ROOT), **production_secrets())
    os.environ.pop("REDIS_URL", None)
    os.environ["DATABASE_URL"] = url
    server = redis = None
    try:
        if not args.no_redis:
            redis_port = free_port()
            redis = start_redis(redis_port)
            env["REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"
        signer = None
        if args.api == "v3":
            signer = V3NoticeSigner(Path(tempfile.mkdtemp(prefix="bench-notify-")))
            env.update(signer.server_env())
            os.environ.update(signer.server_env())
        orders = seed(url, args.orders, "wechat_v3" if signer else "wechat")
        port = free_port()
        server = start_gunicorn(env, port, args.workers, args.threads,
                                "bench.notify.bare_wsgi:app" if args.bare else BENCH_APP)
        asyncio.run(fire("127.0.0.1", port, [("GET", TRIVIAL_PATH, b"")] * 500,
                         args.connections))
        load = [load_average()]
        sequence, duplicates = notices(orders, random.Random(7), signer)
        totals = measure(port, sequence, args.connections, args.rounds, args.api)
        load.append(load_average())
        stop(server)
        server = None
        verify = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", "ledger", "verify"], cwd=ROOT,
            env=env, capture_output=True, text=True)
    finally:
        stop(server)
        stop(redis)
    counts = double_counts(url, orders)
    if not args.keep:
        recreate_database(args.database, drop_only=True)

    notify = summary(totals["notify"][0], totals["notify"][1])
    trivial = summary(totals["trivial"][0], totals["trivial"][1])
    acked = sum(acknowledged(reply, args.api) for reply in totals["notify"][2])
    trivial_ok = sum(b'"ok":true' in reply.replace(b" ", b"")
                     for reply in totals["trivial"][2])
    if trivial_ok != trivial["requests"]:
        raise SystemExit(f"the trivial route answered {trivial_ok} of {trivial['requests']}")
    ratio = ratios_per_repeat(totals["rounds"], "notify")
    result = {"notify": notify | {"notices": len(sequence), "duplicates": duplicates,
                                  "acknowledged": acked},
              "trivial": trivial | {"ok": trivial_ok},
              "ratio": ratio, "rounds": totals["rounds"], "load_average": load,
              "ledger_verify_exit": verify.returncode,
              "ledger_verify": (verify.stdout + verify.stderr).strip().splitlines()[-1:],
              **counts,
              "api": args.api,
              "server": f"gunicorn gthread -w {args.workers} --threads {args.threads}"
                        + (", jobs in-process" if args.no_redis else ", jobs on Redis")
                        + (", no donation_paid listeners" if args.bare else ""),
              "connections": args.connections, "cpus": os.cpu_count(),
              "client_cpu_share": round(CLIENT_CPU["seconds"] / (totals["notify"][0]
                                                                 + totals["trivial"][0]), 2)}
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return
    print(f"notices   {notify['per_second']:>8.1f}/s  p50 {notify['p50_ms']:.2f} ms  "
          f"p99 {notify['p99_ms']:.2f} ms  ({len(sequence)} notices, {duplicates} duplicates, "
          f"{acked} acknowledged)")
    print(f"trivial   {trivial['per_second']:>8.1f}/s  p50 {trivial['p50_ms']:.2f} ms  "
          f"p99 {trivial['p99_ms']:.2f} ms  ({trivial_ok} ok)")
    print(f"ratio     {spread_text(ratio)} (min / median / max over {args.rounds} interleaved "
          f"rounds) of the trivial endpoint's throughput")
    print(f"ledger verify exit {verify.returncode}: {' '.join(result['ledger_verify'])}")
    print(f"paid {counts['paid']}/{counts['orders']} orders, {counts['ledger_transactions']} "
          f"ledger transactions, double counts: {counts['double_counts']}")
    print(f"(WeChat Pay {args.api} notices, {result['server']}, {args.connections} connections, {os.cpu_count()} CPUs; "
          f"the load generator itself used {result['client_cpu_share']:.0%} of one CPU; "
          f"load average before / after: {' | '.join(load)})")


if __name__ == "__main__":
    main()
