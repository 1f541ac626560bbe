"""bench/transparency's steps at a small size on the test database (PostgreSQL: the seeding is
generate_series SQL), so the benchmark keeps working without running its million leaves."""
from __future__ import annotations

import random

import pytest

from bench.transparency import run as bench


def test_the_benchmark_steps_at_a_small_size(db):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the benchmark seeds with PostgreSQL's generate_series")
    bench.seed(300)
    integration = bench.integrate(300)
    assert integration["leaves"] == 300 and integration["ratio_to_sha256"] > 0
    found = bench.proofs_at(300, 1, random.Random(1))
    assert found["audit_path_hashes"]["max"] == 9          # ⌈log2 300⌉
    assert found["inclusion_ms_median"]["median"] > 0
