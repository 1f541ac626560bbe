"""Each app keeps its own registrations (app/core/plugins.py): two apps in one process never see
each other's, and importing a module plugs nothing in."""
from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from app.core.plugins import EXTENSION_KEY, periodic_jobs, registry
from app.donations.signals import donation_paid, send_donation_paid
from app.payments.payables import PaidOutcome, PayableHandler, payable_handler, register_payable

APP_DIR = Path(__file__).resolve().parent.parent / "app"


class TestOnlyPayable(PayableHandler):
    type = "test_only"

    def on_paid(self, payment) -> PaidOutcome:
        raise AssertionError("never paid")

    def success_url(self, payable_id: int) -> str:
        return "/"


def test_two_apps_keep_their_registrations_apart(app, make_app):
    other = make_app()
    assert app.extensions[EXTENSION_KEY] is not other.extensions[EXTENSION_KEY]
    register_payable(other, TestOnlyPayable())
    with other.app_context():
        assert payable_handler("test_only").type == "test_only"
    with app.app_context():
        with pytest.raises(LookupError):
            payable_handler("test_only")
        assert payable_handler("donation").type == "donation"   # its own, from its manifest
    hooks = registry("termination_hooks", list, other)
    hooks.append(print)
    assert print not in registry("termination_hooks", list, app)


def test_a_signal_receiver_hears_only_its_own_app(app, make_app):
    other = make_app()
    heard = []

    def receiver(sender, **payload):
        heard.append(sender)

    donation_paid.connect(receiver, sender=other)
    try:
        payload = {"donation_id": 0, "campaign_id": 0, "user_id": None, "amount_fen": 0,
                   "late": False}
        send_donation_paid(other, **payload)
        assert heard == [other]
        receivers = list(donation_paid.receivers_for(app))
        assert receiver not in receivers
    finally:
        donation_paid.disconnect(receiver, sender=other)


def test_no_module_registers_anything_when_imported():
    """No statement at a module's top level calls register_*, connects a signal, or adds to a
    list or dict of another module: plugging in happens only in register(app)."""
    offenders = []
    for path in sorted(APP_DIR.rglob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            call = node.value if isinstance(node, ast.Expr) else None
            if not isinstance(call, ast.Call):
                continue
            name = (call.func.attr if isinstance(call.func, ast.Attribute)
                    else getattr(call.func, "id", ""))
            if name.startswith("register") or name in {"connect", "append", "update", "extend"}:
                offenders.append(f"{path.relative_to(APP_DIR.parent)}:{node.lineno} {name}()")
    assert offenders == []


def test_importing_every_module_first_changes_no_app(tmp_path):
    """In a fresh interpreter: every module of app/ imported, then two apps made; each has the
    same registrations, none doubled and none left over in a module."""
    script = textwrap.dedent(f"""
        import importlib, pkgutil, app
        for module in pkgutil.walk_packages(app.__path__, "app."):
            importlib.import_module(module.name)
        from app import create_app
        from app.core.plugins import EXTENSION_KEY
        config = {{"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite:///{tmp_path}/x.db"}}
        first, second = create_app(config), create_app(config)
        sizes = [{{k: len(v) for k, v in a.extensions[EXTENSION_KEY].items()}}
                 for a in (first, second)]
        assert sizes[0] == sizes[1], sizes
        print(sizes[0]["payables"], sizes[0]["ledger_checks"], sizes[0]["periodic_jobs"])
    """)
    env = {**os.environ, "XIANGZHU_INSTANCE_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    done = subprocess.run([sys.executable, "-c", script], cwd=APP_DIR.parent, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["4", "10", "16"]


def test_every_feature_declares_its_periodic_jobs(app):
    names = {job.func.__name__ for job in periodic_jobs(app)}
    assert names == {"end_due_campaigns_job", "reconcile_pending_payments", "tick",
                     "flush_buffered_views", "refresh_wechat_tokens", "prune_posters",
                     "reconcile_money_out", "pledge_tick", "allocate_fund_job",
                     "flush_deferred_jobs", "requeue_abandoned_jobs", "reconcile_bills", "deliver_due",
                     "prune_pending_photos_job", "integrate_transparency_log",
                     "erase_expired_documents_job"}
    assert all(job.every_seconds > 0 and job.queue for job in periodic_jobs(app))
