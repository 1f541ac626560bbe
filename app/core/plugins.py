"""Each app's own registries: what its features plugged in through their `register(app)`.

A feature's `__init__.py` is the only place it plugs into the app (payables, refund handlers,
ledger checks, providers, encrypted stores, termination hooks, periodic jobs, audit labels…).
The owner of each kind of plug keeps a typed `register_*(app, …)` and a lookup that reads the
current app's registry through `registry()`. Nothing lives in a module global, so two apps in
one process never see each other's registrations, and importing a module changes nothing.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple, TypeVar

from flask import Flask, current_app

T = TypeVar("T")
EXTENSION_KEY = "xiangzhu.plugins"


def registry(name: str, empty: Callable[[], T], app: Flask | None = None) -> T:
    """The registry called `name` of `app` (the current app by default), made by `empty()` the
    first time it is asked for."""
    registries = (app or current_app).extensions.setdefault(EXTENSION_KEY, {})
    if name not in registries:
        registries[name] = empty()
    return registries[name]


class PeriodicJob(NamedTuple):
    """A job the scheduler runs every `every_seconds` on `queue` (worker.py --cron, or a thread
    in the embedded default). Declared beside the job in a feature's tasks.py."""

    func: Callable
    every_seconds: int
    queue: str = "default"


def register_periodic_jobs(app: Flask, *jobs: PeriodicJob) -> None:
    registry("periodic_jobs", list, app).extend(jobs)


def periodic_jobs(app: Flask | None = None) -> list[PeriodicJob]:
    return list(registry("periodic_jobs", list, app))


def register_audit_labels(app: Flask, labels: dict[str, str]) -> None:
    """Chinese labels of audit actions ("withdrawal.approve" → "批准提现") for the staff log."""
    registry("audit_labels", dict, app).update(labels)


def audit_labels(app: Flask | None = None) -> dict[str, str]:
    return dict(registry("audit_labels", dict, app))


def register_audit_words(app: Flask, *, fields: dict[str, str] | None = None,
                         targets: dict[str, str] | None = None,
                         values: dict[str, dict[str, str]] | None = None) -> None:
    """Chinese for what the audit log stores raw: field names ("amount_fen" → "金额"), target
    types ("withdrawal" → "提现") and stored values. `values` is keyed by field, or by
    "target_type.field" where one field means different things on different targets (a
    document's `kind` is not a payee's)."""
    words = registry("audit_words", lambda: {"fields": {}, "targets": {}, "values": {}}, app)
    words["fields"].update(fields or {})
    words["targets"].update(targets or {})
    for key, labels in (values or {}).items():
        words["values"].setdefault(key, {}).update(labels)


def audit_words(app: Flask | None = None) -> dict[str, dict]:
    return registry("audit_words", lambda: {"fields": {}, "targets": {}, "values": {}}, app)
