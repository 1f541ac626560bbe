"""Growth benchmark: the public pages of campaigns of 1, 1,000 and 100,000 donations, interleaved.

    python bench/growth/run.py                    # sizes 1, 1000, 100000
    python bench/growth/run.py --sizes 1 1000 --json

Creates its own database (`xiangzhu_bench_growth`, dropped afterwards unless --keep), builds the
schema with db.create_all, and seeds one live campaign per size by SQL (bench/seeding.py:
donations, paid payments, ledger transactions and entries, share visits and attributions, the
cached totals), then `VACUUM ANALYZE`. Against gunicorn (the shipped gunicorn.conf.py, the
bench's app: wsgi:app plus the trivial route) it fires the same requests at every read path a
donor or the public uses — the campaign page (as an anonymous visitor, served from the page
cache while no money moves, and forced to render afresh), its JSON, the donor list (HTML, JSON,
and a page from the middle by keyset cursor), the public ledger — and the trivial route. All
sizes are measured in one run, alternating: each repeat goes through every endpoint, and for
each endpoint through every size in turn, so the sizes are measured seconds apart, not minutes.
Three repeats; the growth ratio (p50 at the largest size ÷ p50 at the smallest) is printed as
min / median / max over the repeats, beside each page's throughput as a ratio of the trivial
route's. Then the `ledger verify` checks are timed in-process. Target: every page at 100,000
donations within 1.2× of its time at 1 (nothing on a request path scans a campaign's
donations), verify growing linearly.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.harness import (Connection, PG, ROOT, TRIVIAL_PATH, free_port, integrate_ledger_log,  # noqa: E402
                          load_average,
                          production_secrets, recreate_database, spread, spread_text,
                          start_gunicorn, stop, summary)


def app_for(url: str):
    from app import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": False, **production_secrets()})


def seed_all(app, sizes: list[int]) -> dict[int, tuple[int, float]]:
    """One live campaign per size → {size: (campaign id, seconds spent seeding it)}."""
    from app.extensions import db
    from bench import seeding

    made = {}
    with app.app_context():
        donors = seeding.users(1000)
        for size in sizes:
            started = time.perf_counter()
            campaign = seeding.live_campaigns(donors[:1], title=f"增长{size}")[0]
            shares = [i for i, _ in seeding.share_links(campaign, donors[1:11])]
            seeding.paid_donations(campaign, size, donors, shares)
            db.session.commit()
            made[size] = (campaign, time.perf_counter() - started)
        integrate_ledger_log()
        db.session.commit()
        # As a settled database would be: statistics fresh, visibility map set, and no
        # autovacuum woken by the bulk insert running while the sizes are measured.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(db.text("VACUUM ANALYZE"))
    return made


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


def endpoints_of(campaign: int, size: int, cursor: str, n: int, repeat: int) -> dict:
    return {
        "page (anonymous, cache)": [f"/c/{campaign}"] * n,
        "page (rendered)": [f"/c/{campaign}?v={size}.{repeat}.{i}" for i in range(n)],
        "api campaign": [f"/api/v1/campaigns/{campaign}"] * n,
        "donor list html": [f"/c/{campaign}/donations"] * n,
        "donor list json": [f"/api/v1/campaigns/{campaign}/donations"] * n,
        "donor list json, middle page": [
            f"/api/v1/campaigns/{campaign}/donations?cursor={cursor}"] * n,
        "public ledger": [f"/c/{campaign}/ledger"] * n,
    }


def measure(port: int, targets: dict[int, tuple[int, str]], n: int, connections: int,
            rounds: int) -> list[dict]:
    """One {endpoint: {size: summary}, "trivial": summary} per repeat; inside a repeat every
    endpoint is fired at each size in turn (smallest first, then largest first in the next
    repeat), the trivial route once per endpoint."""
    repeats = []
    for repeat in range(rounds):
        figures: dict = {"trivial": [0.0, []]}
        names = list(endpoints_of(0, 0, "", 0, 0))
        for name in names:
            figures[name] = {}
            order = list(targets.items())
            for size, (campaign, cursor) in order if repeat % 2 == 0 else order[::-1]:
                paths = endpoints_of(campaign, size, cursor, n, repeat)[name]
                elapsed, latencies, bad = asyncio.run(fire_paths(port, paths, connections))
                figures[name][size] = summary(elapsed, latencies) | {"errors": bad}
            elapsed, latencies, bad = asyncio.run(fire_paths(port, [TRIVIAL_PATH] * n,
                                                             connections))
            figures["trivial"][0] += elapsed
            figures["trivial"][1] += latencies
        figures["trivial"] = summary(*figures["trivial"])
        repeats.append(figures)
    return repeats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 1000, 100_000])
    parser.add_argument("-n", "--requests", type=int, default=300,
                        help="per endpoint, size and repeat")
    parser.add_argument("-c", "--connections", type=int, default=8)
    parser.add_argument("-w", "--workers", type=int, default=4)
    parser.add_argument("-t", "--threads", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database", default="xiangzhu_bench_growth")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    sizes = sorted(args.sizes)
    url = PG + args.database
    recreate_database(args.database)
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "XIANGZHU_EMBEDDED")}
    env.update(DATABASE_URL=url, PYTHONPATH=str(ROOT), **production_secrets())
    os.environ.pop("REDIS_URL", None)
    os.environ["DATABASE_URL"] = url
    app = app_for(url)
    with app.app_context():
        from app.extensions import db

        db.create_all()
        db.session.remove()
    server = None
    load = [load_average()]
    try:
        seeded = seed_all(app, sizes)
        targets = {size: (campaign, middle_cursor(app, campaign, size))
                   for size, (campaign, _) in seeded.items()}
        port = free_port()
        server = start_gunicorn(env, port, args.workers, args.threads)
        warm = [p[0] for size, (c, cursor) in targets.items()
                for p in endpoints_of(c, size, cursor, 1, -1).values()] + [TRIVIAL_PATH]
        asyncio.run(fire_paths(port, warm * 20, args.connections))  # warm every worker
        load.append(load_average())
        repeats = measure(port, targets, args.requests, args.connections, args.rounds)
        load.append(load_average())
        verify_seconds, problems = time_verify(app)
    finally:
        stop(server)
        if not args.keep:
            recreate_database(args.database, drop_only=True)

    smallest, largest = sizes[0], sizes[-1]
    names = [name for name in repeats[0] if name != "trivial"]
    rows = {}
    for name in names:
        growth = spread([r[name][largest]["p50_ms"] / r[name][smallest]["p50_ms"]
                         for r in repeats], 2)
        of_trivial = {size: spread([r[name][size]["per_second"] / r["trivial"]["per_second"]
                                    for r in repeats]) for size in sizes}
        p50 = {size: round(statistics.median(r[name][size]["p50_ms"] for r in repeats), 2)
               for size in sizes}
        rate = {size: round(statistics.median(r[name][size]["per_second"] for r in repeats), 1)
                for size in sizes}
        errors = sum(r[name][size]["errors"] for r in repeats for size in sizes)
        rows[name] = {"p50_ms_median": p50, "per_second_median": rate,
                      "p50_growth_largest_to_smallest": growth,
                      "ratio_to_trivial": of_trivial, "errors": errors}
    trivial = {"p50_ms": spread([r["trivial"]["p50_ms"] for r in repeats], 2),
               "per_second": spread([r["trivial"]["per_second"] for r in repeats], 1)}
    report = {"sizes": sizes, "seed_seconds": {s: round(v[1], 2) for s, v in seeded.items()},
              "endpoints": rows, "trivial": trivial, "repeats": repeats,
              "verify_seconds_all_campaigns": round(verify_seconds, 3),
              "verify_problems": problems[:5], "load_average": load,
              "server": f"gunicorn gthread -w {args.workers} --threads {args.threads}",
              "connections": args.connections}
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2, default=str))
        return
    print(f"{'':30s}" + "".join(f"{size:>17,}" for size in sizes)
          + "   p50 growth min/med/max   ÷ trivial at the largest size")
    for name, row in rows.items():
        cells = "".join(f"{row['p50_ms_median'][size]:>7.2f} ms {row['per_second_median'][size]:>5.0f}/s"
                        for size in sizes)
        print(f"{name:30s}{cells}   {spread_text(row['p50_growth_largest_to_smallest'], '.2f')}"
              f"       {spread_text(row['ratio_to_trivial'][largest])}"
              + (f"  ERRORS {row['errors']}" if row["errors"] else ""))
    print(f"{'trivial route':30s} p50 {spread_text(trivial['p50_ms'], '.2f')} ms, "
          f"{spread_text(trivial['per_second'], '.0f')}/s (min / median / max)")
    print(f"seeding: " + ", ".join(f"{s:,}: {v:.1f} s" for s, v in report["seed_seconds"].items())
          + f"; ledger verify (in-process, all campaigns): {verify_seconds:.3f} s"
          + (f", problems {problems[:3]}" if problems else ""))
    print(f"(p50 and requests/s are medians over {args.rounds} interleaved repeats; "
          f"{args.connections} connections, {report['server']}; load average before seeding / "
          f"before measuring / after: {' | '.join(load)})")


if __name__ == "__main__":
    main()
