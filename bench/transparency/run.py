"""Transparency-log benchmark: 1,000,000 ledger transactions integrated, then proofs at 10⁶.

    python bench/transparency/run.py               # 1,000,000 leaves; -n N, --repeats R, --json

Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust); makes its own database
`xiangzhu_bench_transparency` afresh (dropped afterwards unless --keep). The ledger is seeded by
SQL (generate_series: one two-leg transaction per donation over 20 campaigns, not the payment
path), then:

1. integration: the integrator's own runs (app/transparency/integrator.integrate, 20,000 leaves
   and one signed checkpoint per run and database transaction) until the ledger is in the log —
   leaves/s per run, min / median / max over the runs; reference in the same run: raw hashlib
   SHA-256 of the same leaf texts (leaves/s), and the ratio;
2. inclusion proofs at the full size: 1,000 random leaves, each proof from the stored nodes
   (one query) — ms per proof and its size (hashes, bytes of JSON); reference: a primary-key
   SELECT of one leaf row on the same session; min / median / max of the per-repeat medians
   over --repeats, and the ratio;
3. consistency proofs from random earlier sizes to the full size, the same way;
4. the load average before and after, since other engineers' runs share the machine.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import select, text  # noqa: E402

from bench.harness import PG, load_average, production_secrets, recreate_database  # noqa: E402

DATABASE = "xiangzhu_bench_transparency"
CAMPAIGNS = 20
SAMPLES = 1_000


def seed(count: int) -> float:
    """`count` two-leg payment transactions by SQL; returns the seconds it took."""
    from app.extensions import db

    started = time.perf_counter()
    db.create_all(bind_key=None)  # the default database only (a test may have added a replica bind)
    conn = db.session.connection()
    conn.exec_driver_sql("""
        INSERT INTO ledger_accounts (code, type, name, created_at)
        SELECT 'campaign:' || c || ':custody', 'custody', 'campaign:' || c || ':custody', now()
        FROM generate_series(1, %(campaigns)s) c
        UNION ALL SELECT 'custodian:wechat_clearing', 'clearing', 'clearing', now()""",
                        {"campaigns": CAMPAIGNS})
    conn.exec_driver_sql("""
        INSERT INTO ledger_transactions (id, source_type, source_ref, memo, created_at)
        SELECT g, 'payment', 'B' || lpad(g::text, 12, '0'), '',
               now() - interval '1 hour' + g * interval '1 millisecond'
        FROM generate_series(1, %(n)s) g""", {"n": count})
    conn.exec_driver_sql("""
        INSERT INTO ledger_entries (transaction_id, account_id, amount_fen)
        SELECT g, a.id, CASE WHEN a.code LIKE 'custodian:%%' THEN -(100 + g %% 50000)
                             ELSE 100 + g %% 50000 END
        FROM generate_series(1, %(n)s) g
        JOIN ledger_accounts a ON a.code IN ('custodian:wechat_clearing',
                                             'campaign:' || (1 + g %% %(campaigns)s) || ':custody')
        ORDER BY g, a.code LIKE 'campaign:%%'""", {"n": count, "campaigns": CAMPAIGNS})
    conn.execute(text("SELECT setval('ledger_transactions_id_seq', :n)"), {"n": count})
    db.session.commit()
    conn = db.session.connection()
    conn.execute(text("ANALYZE"))
    db.session.commit()
    return time.perf_counter() - started


def spread(values: list[float], digits: int = 3) -> dict:
    return {"min": round(min(values), digits), "median": round(statistics.median(values), digits),
            "max": round(max(values), digits)}


def integrate(count: int) -> dict:
    from app.extensions import db
    from app.transparency import integrator
    from app.transparency.models import Leaf

    per_run, started = [], time.perf_counter()
    while True:
        run_started = time.perf_counter()
        result = integrator.integrate()
        if result.added:
            per_run.append(result.added / (time.perf_counter() - run_started))
        if result.added < integrator.BATCH_SIZE:
            break
    elapsed = time.perf_counter() - started
    texts = [t.encode() for t in db.session.scalars(select(Leaf.leaf).order_by(Leaf.index))]
    db.session.rollback()
    assert len(texts) == count, (len(texts), count)
    hashed_started = time.perf_counter()
    for leaf in texts:
        hashlib.sha256(b"\x00" + leaf).digest()
    hash_rate = len(texts) / (time.perf_counter() - hashed_started)
    return {"leaves": count, "seconds": round(elapsed, 1), "runs": len(per_run),
            "leaves_per_second": round(count / elapsed),
            "per_run_leaves_per_second": spread(per_run, 0),
            "reference_sha256_leaves_per_second": round(hash_rate),
            "ratio_to_sha256": round(count / elapsed / hash_rate, 4),
            "mean_leaf_bytes": round(sum(map(len, texts)) / len(texts), 1)}


def _timed(calls) -> list[float]:
    times = []
    for call in calls:
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return times


def proofs_at(size: int, repeats: int, rng: random.Random) -> dict:
    from app.extensions import db
    from app.transparency import merkle, proofs
    from app.transparency.models import Leaf

    root = proofs.root(size)
    inclusion_ms, consistency_ms, reference_ms, path_lengths, proof_bytes = [], [], [], [], []
    for _ in range(repeats):
        indexes = [rng.randrange(size) for _ in range(SAMPLES)]
        firsts = [rng.randrange(1, size + 1) for _ in range(SAMPLES)]
        reference_ms.append(statistics.median(_timed(
            (lambda i=i: db.session.execute(select(Leaf.leaf_hash).where(Leaf.index == i))
             .scalar_one()) for i in indexes)))
        results = []
        inclusion_ms.append(statistics.median(_timed(
            (lambda i=i: results.append((i, proofs.inclusion(i, size)))) for i in indexes)))
        consistency_ms.append(statistics.median(_timed(
            (lambda m=m: proofs.consistency(m, size)) for m in firsts)))
        for index, (leaf_hash, path) in results[:50]:
            assert merkle.root_from_inclusion(index, size, leaf_hash, path) == root
        path_lengths += [len(path) for _, (_, path) in results]
        proof_bytes += [len(json.dumps({"index": i, "tree_size": size,
                                        "leaf_hash": base64.b64encode(h).decode(),
                                        "audit_path": [base64.b64encode(p).decode()
                                                       for p in path]}))
                        for i, (h, path) in results]
        db.session.rollback()
    ratios = [a / b for a, b in zip(inclusion_ms, reference_ms)]
    return {"tree_size": size, "samples_per_repeat": SAMPLES, "repeats": repeats,
            "inclusion_ms_median": spread(inclusion_ms), "pk_select_ms_median": spread(reference_ms),
            "inclusion_ratio_to_pk_select": spread(ratios, 2),
            "consistency_ms_median": spread(consistency_ms),
            "consistency_ratio_to_pk_select": spread(
                [a / b for a, b in zip(consistency_ms, reference_ms)], 2),
            "audit_path_hashes": {"min": min(path_lengths), "max": max(path_lengths)},
            "inclusion_proof_json_bytes": {"min": min(proof_bytes), "max": max(proof_bytes)}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=1_000_000, help="ledger transactions (leaves)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from app import create_app
    from app.extensions import db

    recreate_database(DATABASE)
    figures = {"load_before": load_average()}
    app = create_app({"SQLALCHEMY_DATABASE_URI": PG + DATABASE, "TESTING": False,
                      **production_secrets()})
    try:
        with app.app_context():
            figures["seed_seconds"] = round(seed(args.n), 1)
            figures["integration"] = integrate(args.n)
            figures["proofs"] = proofs_at(args.n, args.repeats, random.Random(20261203))
            db.session.remove()
            db.engine.dispose()
    finally:
        if not args.keep:
            recreate_database(DATABASE, drop_only=True)
    figures["load_after"] = load_average()
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    integration, found = figures["integration"], figures["proofs"]
    print(f"seeded {args.n:,} transactions by SQL in {figures['seed_seconds']} s "
          f"(load {figures['load_before']})")
    print(f"integrated {integration['leaves']:,} leaves in {integration['seconds']} s: "
          f"{integration['leaves_per_second']:,}/s over {integration['runs']} runs "
          f"(per run {integration['per_run_leaves_per_second']}); raw SHA-256 of the same "
          f"leaves {integration['reference_sha256_leaves_per_second']:,}/s, ratio "
          f"{integration['ratio_to_sha256']}")
    print(f"inclusion proof at {found['tree_size']:,}: {found['inclusion_ms_median']} ms "
          f"(median per repeat, min/median/max), PK select {found['pk_select_ms_median']} ms, "
          f"ratio {found['inclusion_ratio_to_pk_select']}; {found['audit_path_hashes']} hashes, "
          f"{found['inclusion_proof_json_bytes']} bytes of JSON")
    print(f"consistency proof: {found['consistency_ms_median']} ms, ratio "
          f"{found['consistency_ratio_to_pk_select']} (load after {figures['load_after']})")


if __name__ == "__main__":
    main()
