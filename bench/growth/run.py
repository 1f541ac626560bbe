"""Growth benchmark: one campaign's pages at 1, 1,000 and 100,000 donations.

    python bench/growth/run.py                    # sizes 1, 1000, 100000
    python bench/growth/run.py --sizes 1 1000 --json

Creates its own database (`xiangzhu_bench_growth`, dropped afterwards unless --keep), builds the
schema with db.create_all, and seeds one live campaign by SQL (bench/seeding.py: donations, paid
payments, ledger transactions and entries, share visits and attributions, the cached totals),
growing it to each size in turn. At each size, against gunicorn on wsgi:app, it fires the same
requests at every read path a donor or the public uses — the campaign page (as an anonymous
visitor, served from the per-process page cache while no money moves, and forced to render
afresh), its JSON, the donor list (HTML, JSON, and a page from the middle by keyset cursor),
the public ledger — and /healthz, in alternating rounds; then times the `ledger verify` checks
in-process. Target: every page at 100,000 donations within 1.2× of its time at 1 (nothing on a
request path scans a campaign's donations), verify growing linearly.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from cryptography.fernet import Fernet  # noqa: E402

from bench.harness import (PG, ROOT, Connection, free_port, load_average,  # noqa: E402
                           recreate_database, start_gunicorn, stop, summary)


def app_for(url: str):
    from app import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": False})


def seed_to(app, size: int, state: dict) -> float:
    """Grow the campaign to `size` paid donations; returns seconds spent."""
    from app.extensions import db
    from bench import seeding

    started = time.perf_counter()
    with app.app_context():
        if "campaign" not in state:
            donors = seeding.users(1000)
            state["donors"] = donors
            state["campaign"] = seeding.live_campaigns(donors[:1])[0]
            state["shares"] = [i for i, _ in seeding.share_links(state["campaign"],
                                                                   donors[1:11])]
            state["size"] = 0
        seeding.paid_donations(state["campaign"], size - state["size"], state["donors"],
                               state["shares"])
        db.session.commit()
        # As a settled database would be: statistics fresh, visibility map set, and no
        # autovacuum woken by the bulk insert running while the next size is measured.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(db.text("VACUUM ANALYZE"))
        state["size"] = size
    return time.perf_counter() - started


def middle_cursor(app, campaign_id: int, size: int) -> str:
    from sqlalchemy import select

    from app.donations.models import Donation
    from app.donations.queries import EPOCH
    from app.extensions import db

    with app.app_context():
        paid_at, ident = db.session.execute(
            select(Donation.paid_at, Donation.id).where(Donation.campaign_id == campaign_id)
            .order_by(Donation.paid_at.desc(), Donation.id.desc()).offset(size // 2).limit(1)
        ).one()
    return f"{(paid_at - EPOCH) // timedelta(microseconds=1)}.{ident}"


def time_verify(app) -> tuple[float, list[str]]:
    from app.extensions import db
    from app.ledger.verify import verify

    with app.app_context():
        started = time.perf_counter()
        problems = verify()
        elapsed = time.perf_counter() - started
        db.session.remove()
    return elapsed, problems


async def fire_paths(port: int, paths: list[str], connections: int) -> tuple[float, list, int]:
    """GET every path (in order, spread over the connections); returns time, latencies and the
    number of answers other than 200."""
    queue = iter(paths)
    latencies: list[float] = []
    bad = [0]

    async def worker() -> None:
        conn = Connection("127.0.0.1", port)
        for path in queue:
            reply = await conn.request("GET", path)
            latencies.append(reply.seconds)
            bad[0] += reply.status != 200
        await conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return time.perf_counter() - started, latencies, bad[0]


def measure(port: int, endpoints: dict[str, list[str]], connections: int,
            rounds: int) -> dict:
    totals = {name: [0.0, [], 0] for name in endpoints}
    for _ in range(rounds):
        for name, paths in endpoints.items():
            elapsed, latencies, bad = asyncio.run(fire_paths(port, paths, connections))
            totals[name][0] += elapsed
            totals[name][1] += latencies
            totals[name][2] += bad
    return {name: summary(elapsed, latencies) | {"errors": bad}
            for name, (elapsed, latencies, bad) in totals.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 1000, 100_000])
    parser.add_argument("-n", "--requests", type=int, default=300, help="per endpoint per round")
    parser.add_argument("-c", "--connections", type=int, default=8)
    parser.add_argument("-w", "--workers", type=int, default=4)
    parser.add_argument("-t", "--threads", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database", default="xiangzhu_bench_growth")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    url = PG + args.database
    recreate_database(args.database)
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "XIANGZHU_EMBEDDED")}
    env.update(DATABASE_URL=url, SECRET_KEY="bench-secret", PYTHONPATH=str(ROOT),
               DATA_ENCRYPTION_KEY=Fernet.generate_key().decode(),
               BLIND_INDEX_KEY=Fernet.generate_key().decode())
    os.environ.pop("REDIS_URL", None)
    os.environ["DATABASE_URL"] = url
    app = app_for(url)
    with app.app_context():
        from app.extensions import db

        db.create_all()
        db.session.remove()
    state: dict = {}
    results = []
    server = None
    load = [load_average()]
    try:
        port = free_port()
        server = start_gunicorn(env, port, args.workers, args.threads)
        for size in sorted(args.sizes):
            seconds = seed_to(app, size, state)
            c = state["campaign"]
            cursor = middle_cursor(app, c, size)
            n = args.requests
            endpoints = {
                "page (anonymous, cache)": [f"/c/{c}"] * n,
                "page (rendered)": [f"/c/{c}?v={size}.{i}" for i in range(n)],
                "api campaign": [f"/api/v1/campaigns/{c}"] * n,
                "donor list html": [f"/c/{c}/donations"] * n,
                "donor list json": [f"/api/v1/campaigns/{c}/donations"] * n,
                "donor list json, middle page": [
                    f"/api/v1/campaigns/{c}/donations?cursor={cursor}"] * n,
                "public ledger": [f"/c/{c}/ledger"] * n,
                "healthz": ["/healthz"] * n,
            }
            asyncio.run(fire_paths(port, [p[0] for p in endpoints.values()] * 20,
                                   args.connections))  # warm every worker
            figures = measure(port, endpoints, args.connections, args.rounds)
            verify_seconds, problems = time_verify(app)
            load.append(load_average())
            results.append({"donations": size, "seed_seconds": round(seconds, 2),
                            "endpoints": figures, "verify_seconds": round(verify_seconds, 3),
                            "verify_problems": problems[:5]})
    finally:
        stop(server)
        if not args.keep:
            recreate_database(args.database, drop_only=True)

    first, last = results[0], results[-1]
    ratios = {name: round(last["endpoints"][name]["p50_ms"] / first["endpoints"][name]["p50_ms"], 2)
              for name in first["endpoints"]}
    # The same ratio with each size's p50 taken relative to /healthz measured beside it, so a
    # machine that got busier between sizes does not read as growth.
    relative = {name: round(ratios[name] / ratios["healthz"], 2) for name in ratios}
    report = {"sizes": results, "p50_ratio_largest_to_smallest": ratios,
              "p50_ratio_relative_to_healthz": relative,
              "load_average": load, "server": f"gunicorn gthread -w {args.workers} "
              f"--threads {args.threads}", "connections": args.connections}
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return
    names = list(first["endpoints"])
    print(f"{'':32s}" + "".join(f"{r['donations']:>22,}" for r in results)
          + "   ratio p50 (÷ healthz's)")
    for name in names:
        cells = "".join(f"{r['endpoints'][name]['p50_ms']:>8.2f} ms {r['endpoints'][name]['per_second']:>7.0f}/s"
                        for r in results)
        errors = sum(r["endpoints"][name]["errors"] for r in results)
        print(f"{name:32s}{cells}   {ratios[name]:.2f} ({relative[name]:.2f})"
              + (f"  ERRORS {errors}" if errors else ""))
    print(f"{'ledger verify (in-process)':32s}" + "".join(
        f"{r['verify_seconds']:>19.3f} s " for r in results))
    print(f"{'seeding':32s}" + "".join(f"{r['seed_seconds']:>19.2f} s " for r in results))
    for r in results:
        if r["verify_problems"]:
            print(f"verify at {r['donations']:,}: {r['verify_problems']}")
    print(f"(p50 and requests/s, {args.connections} connections, {report['server']}; "
          f"load average before/after each size: {' | '.join(load)})")


if __name__ == "__main__":
    main()
