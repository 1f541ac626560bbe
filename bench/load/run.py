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

Mixed rounds alternate with rounds of the trivial route (`GET /bench/trivial` → `{"ok": true}`,
bench/wsgi.py: registered only in the bench's app) on the same server with the shipped
gunicorn.conf.py; then the viral campaign's page alone, as each kind of visitor, alternates with
the trivial route: anonymous returning visitors (cached), anonymous new visitors (no cookies),
signed-in donors, and anonymous returning visitors while 10 payment notices a second arrive
(each a paid donation that changes the page). Whatever else the machine is doing weighs on
both sides of each round's ratio; three repeats, min / median / max, with the load average. At
the end it waits for the queues to drain, runs `flask --app wsgi ledger verify`, and counts
double counts.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.harness import (PG, ROOT, TRIVIAL_PATH, free_port, integrate_ledger_log,  # noqa: E402
                          ledger_verify, load_average,
                          production_secrets, recreate_database, signed_notice, spread,
                          spread_text, start_gunicorn, start_redis, start_standin,
                          start_workers, stop, summary, wait_for_queues)
from bench.load.traffic import (Mix, Person, repeat, repeat_while_notices,  # noqa: E402
                                sign_in)

VIRAL_DONATIONS = 20_000
DONORS = 64
NOTICES_PER_SECOND = 10.0
PAGE_KINDS = ("anonymous returning (cached)", "anonymous new visitor", "signed-in donor",
              "anonymous returning, 10 notices/s")


# --- setup -------------------------------------------------------------------------------------

def seed(url: str) -> dict:
    from app import create_app
    from app.extensions import db
    from bench import seeding

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": False, **production_secrets()})
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
        # orders on the viral campaign waiting for their notice: the page-alone rounds with
        # notices arriving pay them
        _, orders = seeding.pending_orders([20_00] * 2000, 1, 50, prefix="o_bench_pending",
                                           campaign_ids=campaigns[:1])
        db.session.commit()
        integrate_ledger_log()
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()
        db.engine.dispose()
    return {"campaigns": campaigns, "tokens": tokens, "pending": orders}


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
    env.update(DATABASE_URL=url, PYTHONPATH=str(ROOT), **production_secrets(),
               REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
               WECHAT_API_BASE=f"http://127.0.0.1:{standin_port}/",
               # the stand-in process here speaks v2 (MD5-signed notices, as the mix sends)
               WECHAT_PAY_API="v2",
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
        asyncio.run(repeat(port, TRIVIAL_PATH, [], args.connections, 1.0))
        newcomers = [Person(80_000 + i) for i in range(256)]
        for newcomer in newcomers:
            newcomer.jar = None   # no cookies: every request is someone's first
        notices = [signed_notice(no, fen) for no, fen in setup["pending"]]

        mix = Mix(port, setup, donors, 20261128)
        mixed_seconds = 0.0
        mixed_rounds: list[tuple[int, float, dict]] = []
        trivial_mixed = [0.0, [], 0]
        for _ in range(args.rounds):
            before = sum(len(v) for v in mix.stats.latencies.values())
            elapsed = asyncio.run(mix.run(args.connections, args.mixed))
            mixed_seconds += elapsed
            done = sum(len(v) for v in mix.stats.latencies.values()) - before
            t_elapsed, latencies, bad = asyncio.run(repeat(port, TRIVIAL_PATH, [],
                                                           args.connections, args.mixed / 3))
            trivial_mixed[0] += t_elapsed
            trivial_mixed[1] += latencies
            trivial_mixed[2] += bad
            mixed_rounds.append((done, elapsed, summary(t_elapsed, latencies)))
        load.append(load_average())
        kinds = {PAGE_KINDS[0]: viewers, PAGE_KINDS[1]: newcomers, PAGE_KINDS[2]: donors,
                 PAGE_KINDS[3]: viewers}
        page_rounds: dict[str, list[tuple[dict, dict]]] = {kind: [] for kind in kinds}
        page_totals = {kind: [0.0, [], 0] for kind in kinds}
        trivial_page = [0.0, [], 0]
        for _ in range(args.rounds):
            for kind, people in kinds.items():
                if kind == PAGE_KINDS[3]:
                    got = asyncio.run(repeat_while_notices(
                        port, viral, people, args.connections, args.page, notices,
                        NOTICES_PER_SECOND))
                else:
                    got = asyncio.run(repeat(port, viral, people, args.connections, args.page))
                ref = asyncio.run(repeat(port, TRIVIAL_PATH, [], args.connections, args.page))
                for total, (elapsed, latencies, bad) in ((page_totals[kind], got),
                                                         (trivial_page, ref)):
                    total[0] += elapsed
                    total[1] += latencies
                    total[2] += bad
                page_rounds[kind].append((summary(got[0], got[1]), summary(ref[0], ref[1])))
        load.append(load_average())
        asyncio.run(mix.send_resends())  # the later copies WeChat would still send
        failed_jobs = wait_for_queues(env["REDIS_URL"])
        stop(server)
        processes.remove(server)
        verify_exit, verify_line, verify_seconds = ledger_verify(env)
        paid_in_page_rounds = setup["pending"][len(notices):]
        counts = double_counts(url, mix.stats.orders + paid_in_page_rounds)
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
    trivial_of_mixed = summary(trivial_mixed[0], trivial_mixed[1])
    pages = {}
    for kind in kinds:
        figures = summary(page_totals[kind][0], page_totals[kind][1])
        pages[kind] = figures | {
            "errors": page_totals[kind][2],
            "ratio_to_trivial": spread([got["per_second"] / ref["per_second"]
                                        for got, ref in page_rounds[kind]]),
            "p99_ms_per_repeat": spread([got["p99_ms"] for got, _ in page_rounds[kind]], 1),
            "repeats": page_rounds[kind]}
    result = {
        "mixed": {"seconds": round(mixed_seconds, 1), "requests": total_requests,
                  "per_second": round(total_requests / mixed_seconds, 1),
                  "error_rate": round(errors / max(1, total_requests), 5),
                  "ratio_to_trivial": spread([done / elapsed / ref["per_second"]
                                              for done, elapsed, ref in mixed_rounds]),
                  "endpoints": endpoints, "trivial": trivial_of_mixed},
        "page_alone": pages,
        "trivial_of_page_rounds": summary(trivial_page[0], trivial_page[1])
        | {"errors": trivial_page[2]},
        "orders": len(stats.orders), "notices": stats.notices,
        "duplicates": stats.duplicates, "acknowledged": stats.acknowledged,
        "notices_during_page_rounds": len(setup["pending"]) - len(notices),
        "failed_jobs": failed_jobs, "ledger_verify_exit": verify_exit,
        "ledger_verify": verify_line, "ledger_verify_seconds": round(verify_seconds, 1),
        **counts, "load_average": load,
        "server": f"gunicorn gthread -w {args.workers} --threads {args.threads} (shipped "
                  f"gunicorn.conf.py), {args.rq_workers} rq workers",
        "connections": args.connections,
    }
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return
    m = result["mixed"]
    print(f"mixed traffic, {m['seconds']} s over {args.connections} connections: "
          f"{m['requests']} requests, {m['per_second']}/s "
          f"({spread_text(m['ratio_to_trivial'])} of the trivial route, min / median / max), "
          f"error rate {m['error_rate']:.3%}")
    for name, figures in sorted(endpoints.items(), key=lambda kv: -kv[1]["requests"]):
        errs = f"  errors {figures['errors']}" if figures["errors"] else ""
        print(f"  {name:40s} {figures['per_second']:>7.1f}/s  p50 {figures['p50_ms']:>7.2f} ms"
              f"  p99 {figures['p99_ms']:>7.2f} ms{errs}")
    t = trivial_of_mixed
    print(f"  {'trivial route (its own rounds)':40s} {t['per_second']:>7.1f}/s  "
          f"p50 {t['p50_ms']:>7.2f} ms  p99 {t['p99_ms']:>7.2f} ms")
    print(f"the viral campaign's page alone, {args.connections} connections, each round beside a "
          f"trivial round (ratio min / median / max over {args.rounds} repeats):")
    for kind, figures in pages.items():
        errs = f"  errors {figures['errors']}" if figures["errors"] else ""
        print(f"  {kind:36s} {figures['per_second']:>7.1f}/s  p50 {figures['p50_ms']:>7.2f} ms  "
              f"p99 {figures['p99_ms']:>7.2f} ms  ratio {spread_text(figures['ratio_to_trivial'])}"
              f"{errs}")
    t = result["trivial_of_page_rounds"]
    print(f"  {'trivial route (its rounds)':36s} {t['per_second']:>7.1f}/s  p50 {t['p50_ms']:>7.2f} ms"
          f"  p99 {t['p99_ms']:>7.2f} ms")
    print(f"orders {result['orders']}, notices {result['notices']} ({result['duplicates']} "
          f"duplicates, {result['acknowledged']} acknowledged) + "
          f"{result['notices_during_page_rounds']} during the page rounds; paid {counts['paid']}, "
          f"ledger transactions {counts['ledger_transactions']}, double counts "
          f"{counts['double_counts']}, failed jobs {failed_jobs}")
    print(f"ledger verify exit {verify_exit}: {verify_line}")
    print(f"({result['server']}; load average before / after mixed / after page: "
          f"{' | '.join(load)})")


if __name__ == "__main__":
    main()
