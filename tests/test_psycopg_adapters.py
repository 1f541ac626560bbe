"""psycopg's named dumpers are resolved when the app is built (app/core/psycopg_adapters.py)."""
from __future__ import annotations

import datetime
import sys
import threading

import psycopg
from psycopg.adapt import PyFormat

from app.core.psycopg_adapters import NAMED_TYPES


def names_left() -> list[str]:
    # psycopg keeps a not-yet-used dumper under the type's dotted name (its private map).
    return [name for format in PyFormat for name in psycopg.adapters._dumpers[format]
            if isinstance(name, str) and name.split(".")[0] in ("datetime", "uuid", "decimal")]


def test_building_the_app_leaves_no_named_dumper_to_swap(app):
    assert names_left() == []
    for cls in NAMED_TYPES:
        assert psycopg.adapters.get_dumper(cls, PyFormat.AUTO) is not None


def test_threads_then_look_dumpers_up_without_a_race(app):
    failures: list[Exception] = []
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)

    def look_up() -> None:
        try:
            for _ in range(200):
                psycopg.adapters.get_dumper(datetime.date, PyFormat.AUTO)
        except psycopg.ProgrammingError as error:
            failures.append(error)

    try:
        threads = [threading.Thread(target=look_up) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(switch)
    assert failures == []
