"""`pytest --shift-days N`: the whole run happens N days from now (the wall clock ticks on from
there; time.monotonic is untouched), so CI proves no test depends on today's date. Tests that
freeze time with time_machine.travel(..., tick=False) travel on top of it."""
from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

SHIFT = pytest.StashKey[time_machine.travel]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--shift-days", type=int, default=0, metavar="N",
                     help="run the whole suite with the wall clock shifted N days ahead")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Before collection imports any test module and before any fixture runs."""
    days = config.getoption("--shift-days")
    if days:
        config.stash[SHIFT] = time_machine.travel(timedelta(days=days), tick=True)
        config.stash[SHIFT].start()


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    shift = config.stash.get(SHIFT, None)
    if shift is not None:
        shift.stop()
        del config.stash[SHIFT]


def pytest_report_header(config: pytest.Config) -> str | None:
    days = config.getoption("--shift-days")
    return f"wall clock shifted {days} days ahead" if days else None
