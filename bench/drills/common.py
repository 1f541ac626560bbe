"""What the fault drills share beyond bench/harness.py: a private PostgreSQL cluster, app
processes (gunicorn, `python worker.py`), the WeChat stand-in on a thread, seeding and checks.

Everything is private and on loopback: the cluster is initdb'd into a temporary directory (as
the `postgres` user; initdb refuses root) and started with pg_ctl on a free port, Redis is a
private redis-server, and nothing touches the shared PostgreSQL on :5432 or Redis on :6379.
"""
from __future__ import annotations

import glob
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cryptography.fernet import Fernet

from bench.harness import ROOT, free_port, signed_notice, start_redis, stop

PG_BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]
# A drill stopped with SIGTERM (or `timeout`) still runs its `finally`: no private service
# outlives it.
signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def _as_postgres(*command: str, **kwargs) -> subprocess.CompletedProcess:
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run(prefix + list(command), check=True, capture_output=True, text=True,
                          **kwargs)


class PrivatePostgres:
    """A throwaway PostgreSQL cluster of the drill's own."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="xz-drill-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        _as_postgres(f"{PG_BIN}/initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres",
                     "--no-sync", "-E", "UTF8", "--locale=C.UTF-8")
        self.start()
        _as_postgres(f"{PG_BIN}/createdb", "-h", "127.0.0.1", "-p", str(self.port), "drill")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/drill"

    def _ctl(self, *args: str) -> None:
        options = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c max_connections=100")
        _as_postgres(f"{PG_BIN}/pg_ctl", "-D", str(self.data), "-l", str(self.dir / "log"),
                     "-o", options, "-w", "-t", "60", *args)

    def start(self) -> None:
        self._ctl("start")

    def restart(self) -> None:
        self._ctl("restart", "-m", "fast")

    def stop(self) -> None:
        try:
            self._ctl("stop", "-m", "immediate")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


def app_env(database_url: str, redis_url: str | None, standin_url: str | None,
            public_url: str, upload_dir: str) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("REDIS_URL", "XIANGZHU_EMBEDDED", "DATABASE_URL")}
    env.update(DATABASE_URL=database_url, SECRET_KEY="drill-secret", PYTHONPATH=str(ROOT),
               DATA_ENCRYPTION_KEY=Fernet.generate_key().decode(), PUBLIC_BASE_URL=public_url,
               BLIND_INDEX_KEY=secrets.token_urlsafe(32),
               UPLOAD_DIR=upload_dir, GUNICORN_ACCESSLOG="/dev/null", LOG_LEVEL="WARNING")
    if redis_url:
        env["REDIS_URL"] = redis_url
    if standin_url:
        env["WECHAT_API_BASE"] = standin_url
    return env


def use_env(env: dict) -> None:
    """The drill process itself talks to the same services (seeding, checks, enqueueing)."""
    for key in ("REDIS_URL", "DATABASE_URL", "WECHAT_API_BASE"):
        os.environ.pop(key, None)
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "SECRET_KEY", "DATA_ENCRYPTION_KEY",
                                           "BLIND_INDEX_KEY",
                                           "PUBLIC_BASE_URL", "UPLOAD_DIR", "REDIS_URL",
                                           "WECHAT_API_BASE") if k in env})


def drill_app(**overrides):
    """The app on the drill's services (the environment use_env set), for seeding, checks and
    enqueueing from the drill process."""
    from app import create_app

    config = {"EMBEDDED": False, "TESTING": False, "SECRET_KEY": os.environ["SECRET_KEY"],
              "SQLALCHEMY_DATABASE_URI": os.environ["DATABASE_URL"],
              "REDIS_URL": os.environ.get("REDIS_URL"),
              "RATELIMIT_STORAGE_URI": os.environ.get("REDIS_URL") or "memory://",
              "WECHAT_API_BASE": os.environ.get("WECHAT_API_BASE"),
              "DATA_ENCRYPTION_KEY": os.environ["DATA_ENCRYPTION_KEY"],
              "BLIND_INDEX_KEY": os.environ["BLIND_INDEX_KEY"],
              "PUBLIC_BASE_URL": os.environ["PUBLIC_BASE_URL"],
              "UPLOAD_DIR": os.environ["UPLOAD_DIR"]}
    config.update(overrides)
    return create_app(config)


def start_standin():
    """The WeChat stand-in on a thread of the drill process (its state is the drill's to read).
    Returns the server; `.base_url` is what WECHAT_API_BASE must say."""
    from app.config import standin_credentials
    from app.wechat_standin.app import create_standin, state_of
    from app.wechat_standin.server import StandinServer

    creds = standin_credentials()
    wsgi = create_standin(creds["WECHAT_APPID"], creds["WECHAT_SECRET"], creds["WECHAT_MCH_ID"],
                          creds["WECHAT_API_KEY"], resend_schedule=(0.5, 1, 2, 5))
    server = StandinServer(wsgi).start()
    server.state = state_of(wsgi)
    return server


def http(method: str, url: str, cookie: str = "", **kwargs):
    """One request with the session cookie passed by hand (production marks it Secure, and
    the drills speak plain HTTP on loopback). Returns (response, cookie)."""
    import requests

    headers = kwargs.pop("headers", {})
    if cookie:
        headers["Cookie"] = cookie
    response = requests.request(method, url, headers=headers, timeout=10,
                                allow_redirects=False, **kwargs)
    for header in response.raw.headers.getlist("Set-Cookie"):
        if header.startswith("session="):
            cookie = header.split(";", 1)[0]
    return response, cookie


def start_web(env: dict, port: int, workers: int = 2, threads: int = 4) -> subprocess.Popen:
    """gunicorn on wsgi:app, returned once every worker has booted and answers /healthz."""
    import requests

    from bench.harness import start_gunicorn

    server = start_gunicorn(env, port, workers, threads)
    ready = wait_until(lambda: _answers(requests, f"http://127.0.0.1:{port}/healthz"), 90, 0.3)
    if not ready:
        stop(server)
        raise SystemExit("gunicorn workers did not boot")
    for _ in range(workers * threads):   # every worker process past its first request
        requests.get(f"http://127.0.0.1:{port}/healthz", timeout=60)
    return server


def _answers(requests, url: str) -> bool:
    try:
        return requests.get(url, timeout=60).status_code in (200, 503)
    except requests.RequestException:
        return False


def start_worker(env: dict, *args: str, log: Path | None = None) -> subprocess.Popen:
    output = open(log, "ab") if log else subprocess.DEVNULL
    return subprocess.Popen([sys.executable, "worker.py", *args], cwd=ROOT, env=env,
                            stdout=output, stderr=subprocess.STDOUT, start_new_session=True)


def kill(process: subprocess.Popen) -> None:
    """SIGKILL: no handler runs, nothing is cleaned up."""
    os.killpg(process.pid, 9)
    process.wait(timeout=10)


def wait_until(check, seconds: float, every: float = 0.2):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    return check()


# --- seeding -----------------------------------------------------------------------------------

def seed_orders(count: int, campaigns: int = 4) -> tuple[list[int], list[tuple[str, int]]]:
    """Schema, live campaigns, one pending payment + donation per order (inside an app
    context) → (campaign ids, [(out_trade_no, fen)])."""
    from app.extensions import db
    from bench import seeding

    db.create_all()
    amounts = [(10_00, 20_00, 50_00, 88_00)[i % 4] for i in range(count)]
    made = seeding.pending_orders(amounts, campaigns, donor_count=20, prefix="o_drill")
    db.session.commit()
    return made


def acknowledged(reply: bytes) -> bool:
    return reply.startswith(b"HTTP/1.1 200") and b"<![CDATA[SUCCESS]]>" in reply


def payment_counts() -> dict:
    """Paid orders, their ledger postings, campaign totals; inside an app context."""
    from sqlalchemy import func, select

    from app.campaigns.models import Campaign
    from app.extensions import db
    from app.ledger.models import LedgerTransaction
    from app.payments.models import Payment, PaymentState

    db.session.rollback()
    paid = db.session.scalar(select(func.count()).select_from(Payment)
                             .where(Payment.state == PaymentState.paid))
    paid_fen = db.session.scalar(select(func.coalesce(func.sum(Payment.amount_fen), 0))
                                 .where(Payment.state == PaymentState.paid))
    postings = db.session.scalar(select(func.count(func.distinct(LedgerTransaction.source_ref)))
                                 .where(LedgerTransaction.source_type == "payment"))
    raised = db.session.scalar(select(func.coalesce(func.sum(Campaign.raised_fen), 0)))
    donations = db.session.scalar(select(func.coalesce(func.sum(Campaign.donation_count), 0)))
    return {"paid": paid, "paid_fen": paid_fen, "orders_posted": postings,
            "raised_fen": raised, "donation_count": donations}


def ledger_verify(env: dict) -> tuple[int, str]:
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "ledger", "verify"],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    lines = (done.stdout + done.stderr).strip().splitlines()
    return done.returncode, lines[-1] if lines else ""


__all__ = ["PrivatePostgres", "acknowledged", "app_env", "drill_app", "http", "kill",
           "ledger_verify", "start_standin",
           "payment_counts", "seed_orders", "signed_notice", "start_redis", "start_worker",
           "stop", "use_env", "wait_until"]
