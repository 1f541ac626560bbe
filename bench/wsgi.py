"""The application the benchmarks serve: `wsgi:app` as production builds it, plus one trivial
route, `GET /bench/trivial` → `{"ok": true}`, that touches neither the database nor Redis.

Every benchmark measures its pages as a ratio of that route on the same gunicorn, with the same
(shipped) configuration, in interleaved rounds. The route exists only in processes that import
this module — gunicorn started by bench/harness.py — never in production, which loads
`wsgi:app`.
"""
from wsgi import app

TRIVIAL_PATH = "/bench/trivial"


def _trivial() -> dict:
    return {"ok": True}


app.add_url_rule(TRIVIAL_PATH, "bench_trivial", _trivial)
