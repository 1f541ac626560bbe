"""Mixed-load benchmark: a viral campaign's traffic, for a bounded time, on loopback.

    python bench/load/run.py                 # ~100 s: 3 × 15 s mixed rounds, page-alone rounds
    python bench/load/run.py --mixed 10 --json

Starts everything production runs, each as its own process: gunicorn (wsgi:app, gthread) on
PostgreSQL (its own database `xiangzhu_bench_load`, schema by db.create_all, dropped afterwards
unless --keep), a private Redis, two rq workers (`python worker.py`) and the WeChat stand-in on
a free port (WECHAT_API_BASE points the app at it). Seeds five live campaigns by SQL — the viral
one with 20,000 donations already, 200 sharers' links — and signs 64 donors in through the
stand-in's OAuth pages, as a browser in WeChat would. Then 32 keep-alive connections, each
playing people one after another (every person has their own cookies and X-Forwarded-For
address, which nginx would set), mix for a bounded time:

- share link → campaign page: an anonymous visitor follows /s/<token>/<channel> (the visit is
  recorded) and opens the page it redirects to; a returning visitor opens the page again;
- share card: the page's script asks for the visitor's links and the JS-SDK signature
  (POST /c/<id>/share/link with the page's CSRF token);
- donate: a signed-in donor opens the page, posts its donate form (CSRF token and checkout key
  from the form, as the browser would), is sent to the order page (the stand-in's unified order
  was placed), and WeChat's signed notice arrives for the order — a fifth of them twice, half
  of those back to back, half later;
- poster: an anonymous visitor asks for their share poster (a job for the workers);
- the JSON API: the campaign and its donor list.

Mixed rounds alternate with /healthz rounds, then the campaign page alone (anonymous returning
visitors, the viral case) alternates with /healthz, so whatever else the machine is doing
weighs on both sides of each ratio. At the end it waits for the queues to drain, runs
`flask --app wsgi ledger verify`, and counts double counts.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from cryptography.fernet import Fernet  # noqa: E402

from bench.harness import (PG, ROOT, free_port, ledger_verify, load_average,  # noqa: E402
                           recreate_database, start_gunicorn, start_redis, start_standin,
                           start_workers, stop, summary, wait_for_queues)
from bench.load.traffic import Mix, Person, repeat, sign_in  # noqa: E402

VIRAL_DONATIONS = 20_000
DONORS = 64


# --- setup -------------------------------------------------------------------------------------

def seed(url: str) -> dict:
    from app import create_app
    from app.extensions import db
    from bench import seeding

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": False})
    with app.app_context():
        db.create_all()
        people = seeding.users(2000)
        campaigns = seeding.live_campaigns(people[:5], title="爱心接力")
        tokens = {}
        for i, campaign_id in enumerate(campaigns):
            links = seeding.share_links(campaign_id, people[10 + i * 200:10 + i * 200
                                                           + (200 if i == 0 else 20)])
            tokens[campaign_id] = [token for _, token in links]
            seeding.paid_donations(campaign_id, VIRAL_DONATIONS if i == 0 else 500, people,
                                   [link_id for link_id, _ in links])
        db.session.commit()
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()
        db.engine.dispose()
    return {"campaigns": campaigns, "tokens": tokens}


# --- checks ------------------------------------------------------------------------------------

def double_counts(url: str, orders: list[tuple[str, int]]) -> dict:
    from sqlalchemy import func, select

    from app import create_app
    from app.extensions import db
    from app.ledger.models import LedgerTransaction
    from app.payments.models import Payment, PaymentState

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    numbers = [no for no, _ in orders]
    with app.app_context():
        paid = db.session.scalar(select(func.count()).select_from(Payment).where(
            Payment.state == PaymentState.paid, Payment.out_trade_no.in_(numbers)))
        booked = db.session.scalar(select(func.count()).select_from(LedgerTransaction).where(
            LedgerTransaction.source_type == "payment",
            LedgerTransaction.source_ref.in_(numbers)))
        db.engine.dispose()
    return {"orders": len(orders), "paid": paid, "ledger_transactions": booked,
            "double_counts": booked - paid}


# --- main --------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mixed", type=float, default=15.0, help="seconds per mixed round")
    parser.add_argument("--page", type=float, default=6.0, help="seconds per page-alone round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("-c", "--connections", type=int, default=32)
    parser.add_argument("-w", "--workers", type=int, default=4)
    parser.add_argument("-t", "--threads", type=int, default=4)
    parser.add_argument("--rq-workers", type=int, default=2)
    parser.add_argument("--database", default="xiangzhu_bench_load")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    url = PG + args.database
    recreate_database(args.database)
    port, redis_port, standin_port = free_port(), free_port(), free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in ("REDIS_URL", "XIANGZHU_EMBEDDED") and not k.startswith("WECHAT_")}
    env.update(DATABASE_URL=url, SECRET_KEY="bench-secret", PYTHONPATH=str(ROOT),
               DATA_ENCRYPTION_KEY=Fernet.generate_key().decode(),
               BLIND_INDEX_KEY=Fernet.generate_key().decode(),
               REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
               WECHAT_API_BASE=f"http://127.0.0.1:{standin_port}/",
               PUBLIC_BASE_URL=f"http://127.0.0.1:{port}", UPLOAD_DIR=str(
                   Path("/tmp") / f"xiangzhu_bench_load_uploads_{os.getpid()}"))
    os.environ.pop("REDIS_URL", None)
    os.environ.update(DATABASE_URL=url, UPLOAD_DIR=env["UPLOAD_DIR"])
    processes = []
    load = [load_average()]
    try:
        processes.append(start_redis(redis_port))
        processes.append(start_standin(standin_port))
        setup = seed(url)
        processes += start_workers(env, args.rq_workers)
        server = start_gunicorn(env, port, args.workers, args.threads)
        processes.append(server)

        donors = [Person(i + 1) for i in range(DONORS)]

        async def sign_all() -> None:
            for i, donor in enumerate(donors):
                await sign_in(port, standin_port, donor, i, setup["campaigns"][0])
        asyncio.run(sign_all())
        # the anonymous returning visitors of the page-alone rounds: each has seen the page once
        viewers = [Person(50_000 + i) for i in range(256)]
        for viewer in viewers:
            viewer.campaign = setup["campaigns"][0]
        viral = f"/c/{setup['campaigns'][0]}"
        asyncio.run(repeat(port, viral, viewers, args.connections, 2.0))  # warm-up
        asyncio.run(repeat(port, "/healthz", [], args.connections, 1.0))

        mix = Mix(port, setup, donors, 20261128)
        mixed_seconds = 0.0
        health = {"mixed": [0.0, [], 0], "page": [0.0, [], 0]}
        page = [0.0, [], 0]
        for _ in range(args.rounds):
            mixed_seconds += asyncio.run(mix.run(args.connections, args.mixed))
            elapsed, latencies, bad = asyncio.run(repeat(port, "/healthz", [], args.connections,
                                                         args.mixed / 3))
            health["mixed"][0] += elapsed
            health["mixed"][1] += latencies
            health["mixed"][2] += bad
        load.append(load_average())
        for _ in range(args.rounds):
            for target, path, people in ((page, viral, viewers),
                                         (health["page"], "/healthz", [])):
                elapsed, latencies, bad = asyncio.run(repeat(port, path, people,
                                                             args.connections, args.page))
                target[0] += elapsed
                target[1] += latencies
                target[2] += bad
        load.append(load_average())
        asyncio.run(mix.send_resends())  # the later copies WeChat would still send
        failed_jobs = wait_for_queues(env["REDIS_URL"])
        stop(server)
        processes.remove(server)
        verify_exit, verify_line, verify_seconds = ledger_verify(env)
        counts = double_counts(url, mix.stats.orders)
    finally:
        for process in reversed(processes):
            stop(process)
        if not args.keep:
            recreate_database(args.database, drop_only=True)

    stats = mix.stats
    endpoints = {}
    total_requests = sum(len(v) for v in stats.latencies.values())
    for name, latencies in stats.latencies.items():
        endpoints[name] = summary(mixed_seconds, latencies) | {
            "errors": dict(stats.errors.get(name, {}))}
    errors = sum(sum(v.values()) for v in stats.errors.values())
    healthz_mixed = summary(health["mixed"][0], health["mixed"][1])
    healthz_page = summary(health["page"][0], health["page"][1])
    page_alone = summary(page[0], page[1])
    result = {
        "mixed": {"seconds": round(mixed_seconds, 1), "requests": total_requests,
                  "per_second": round(total_requests / mixed_seconds, 1),
                  "error_rate": round(errors / max(1, total_requests), 5),
                  "ratio_to_healthz": round(total_requests / mixed_seconds
                                            / healthz_mixed["per_second"], 3),
                  "endpoints": endpoints, "healthz": healthz_mixed},
        "page_alone": page_alone | {"errors": page[2], "healthz": healthz_page,
                                    "ratio_to_healthz": round(page_alone["per_second"]
                                                              / healthz_page["per_second"], 3)},
        "orders": len(stats.orders), "notices": stats.notices,
        "duplicates": stats.duplicates, "acknowledged": stats.acknowledged,
        "failed_jobs": failed_jobs, "ledger_verify_exit": verify_exit,
        "ledger_verify": verify_line, "ledger_verify_seconds": round(verify_seconds, 1),
        **counts, "load_average": load,
        "server": f"gunicorn gthread -w {args.workers} --threads {args.threads}, "
                  f"{args.rq_workers} rq workers", "connections": args.connections,
    }
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return
    m = result["mixed"]
    print(f"mixed traffic, {m['seconds']} s over {args.connections} connections: "
          f"{m['requests']} requests, {m['per_second']}/s "
          f"({m['ratio_to_healthz']:.2f} of /healthz), error rate {m['error_rate']:.3%}")
    for name, figures in sorted(endpoints.items(), key=lambda kv: -kv[1]["requests"]):
        errs = f"  errors {figures['errors']}" if figures["errors"] else ""
        print(f"  {name:40s} {figures['per_second']:>7.1f}/s  p50 {figures['p50_ms']:>7.2f} ms"
              f"  p99 {figures['p99_ms']:>7.2f} ms{errs}")
    print(f"  {'/healthz (its own rounds)':40s} {healthz_mixed['per_second']:>7.1f}/s  "
          f"p50 {healthz_mixed['p50_ms']:>7.2f} ms  p99 {healthz_mixed['p99_ms']:>7.2f} ms")
    p = result["page_alone"]
    print(f"campaign page alone (anonymous returning visitors, viral campaign): "
          f"{p['per_second']}/s p50 {p['p50_ms']} ms p99 {p['p99_ms']} ms, errors {p['errors']}; "
          f"/healthz {healthz_page['per_second']}/s p50 {healthz_page['p50_ms']} ms "
          f"p99 {healthz_page['p99_ms']} ms → ratio {p['ratio_to_healthz']:.3f}")
    print(f"orders {result['orders']}, notices {result['notices']} ({result['duplicates']} "
          f"duplicates, {result['acknowledged']} acknowledged), paid {counts['paid']}, "
          f"ledger transactions {counts['ledger_transactions']}, double counts "
          f"{counts['double_counts']}, failed jobs {failed_jobs}")
    print(f"ledger verify exit {verify_exit}: {verify_line}")
    print(f"({result['server']}; load average before / after mixed / after page: "
          f"{' | '.join(load)})")


if __name__ == "__main__":
    main()
