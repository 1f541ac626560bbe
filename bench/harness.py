"""What the benchmarks and drills share: a database of their own, a private Redis, gunicorn on
a free port, and an asyncio HTTP client that keeps its connections alive.

Loopback only; every process started here runs in its own session so `stop` takes its children.
"""
from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
PG = "postgresql+psycopg://postgres@127.0.0.1:5432/"


def recreate_database(name: str, drop_only: bool = False) -> None:
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres",
                         autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{name}"')


_SECRETS: dict[str, str] = {}


def production_secrets() -> dict[str, str]:
    """The secrets production refuses to start without (app/config.py), made once per run:
    give them to gunicorn's environment and to the apps the bench builds in-process alike."""
    if not _SECRETS:
        _SECRETS.update(_new_secrets())
    return dict(_SECRETS)


def _new_secrets() -> dict[str, str]:
    import secrets

    from cryptography.fernet import Fernet

    from app.transparency.notes import generate_signer_key

    origin = "bench.xiangzhu.invalid/ledger"
    return {"SECRET_KEY": "bench-secret", "DATA_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "BLIND_INDEX_KEY": Fernet.generate_key().decode(), "TRANSPARENCY_ORIGIN": origin,
            "TRANSPARENCY_SIGNING_KEY": generate_signer_key(origin),
            "TRANSPARENCY_REF_KEY": secrets.token_urlsafe(32)}


def integrate_ledger_log() -> None:
    """Add what seeding wrote by SQL to the public ledger log, as the integrator job would have
    (`ledger verify` checks that no transaction older than the merge delay is missing from
    it). Call in an app context configured with production_secrets()."""
    from app.transparency.integrator import integrate_all

    integrate_all()


class Reply:
    """One HTTP response: status code, headers (lower-case name → list of values), body."""

    __slots__ = ("status", "status_line", "headers", "body", "seconds")

    def __init__(self, status_line: bytes, headers: dict[str, list[str]], body: bytes,
                 seconds: float):
        self.status_line, self.status = status_line, int(status_line.split()[1])
        self.headers, self.body, self.seconds = headers, body, seconds

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None


class Connection:
    """One keep-alive HTTP/1.1 connection (reopened when the server closes it), with an optional
    cookie jar per call — enough to play a browser: follow a share link, read a form's CSRF
    token, post it back with the session cookie."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: bytes = b"",
                      headers: dict[str, str] | None = None,
                      jar: dict[str, str] | None = None) -> Reply:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}",
                 f"Content-Length: {len(body)}"]
        for name, value in (headers or {}).items():
            lines.append(f"{name}: {value}")
        if jar:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in jar.items()))
        started = time.perf_counter()
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError(f"{method} {path}: connection closed by the server")
        reply_headers: dict[str, list[str]] = {}
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            reply_headers.setdefault(name.strip().lower(), []).append(value.strip())
        length = int((reply_headers.get("content-length") or ["0"])[0])
        payload = await self.reader.readexactly(length)
        reply = Reply(status_line, reply_headers, payload, time.perf_counter() - started)
        if jar is not None:
            update_jar(jar, reply.headers.get("set-cookie", []))
        if "close" in (reply.header("connection") or "").lower():
            await self.close()
        return reply

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = self.reader = None


def update_jar(jar: dict[str, str], set_cookies: list[str]) -> None:
    """Apply Set-Cookie headers to a name → value jar (a deleted cookie leaves it)."""
    for header in set_cookies:
        pair, _, attributes = header.partition(";")
        name, _, value = pair.strip().partition("=")
        attrs = attributes.lower()
        if "max-age=0" in attrs or "expires=thu, 01 jan 1970" in attrs:
            jar.pop(name, None)
        else:
            jar[name] = value


async def fire(host: str, port: int, requests: list[tuple[str, str, bytes]],
               connections: int) -> tuple[float, list[float], list[bytes]]:
    """Send every (method, path, body[, headers]) over `connections` keep-alive connections."""
    queue = iter(enumerate(requests))
    latencies: list[float] = [0.0] * len(requests)
    replies: list[bytes] = [b""] * len(requests)

    async def worker() -> None:
        conn = Connection(host, port)
        for index, (method, path, body, *headers) in queue:
            reply = await conn.request(method, path, body,
                                       headers[0] if headers else {"Content-Type": "text/xml"})
            latencies[index] = reply.seconds
            replies[index] = reply.status_line + reply.body
        await conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return time.perf_counter() - started, latencies, replies


def summary(elapsed: float, latencies: list[float]) -> dict:
    ordered = sorted(latencies)
    if not ordered:
        return {"requests": 0, "seconds": round(elapsed, 3), "per_second": 0.0,
                "p50_ms": 0.0, "p99_ms": 0.0}
    return {"requests": len(latencies), "seconds": round(elapsed, 3),
            "per_second": round(len(latencies) / elapsed, 1),
            "p50_ms": round(statistics.median(ordered) * 1000, 2),
            "p99_ms": round(ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000, 2)}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


TRIVIAL_PATH = "/bench/trivial"   # bench/wsgi.py's {"ok": true}: the reference of every ratio
BENCH_APP = "bench.wsgi:app"


def start_gunicorn(env: dict, port: int, workers: int, threads: int,
                   target: str = BENCH_APP) -> subprocess.Popen:
    """gunicorn with the repository's shipped gunicorn.conf.py (gthread, its access log on
    stdout — sent to /dev/null here, formatted all the same) on the bench's app, which is
    wsgi:app plus the trivial route. Only the address, workers and threads are given on the
    command line (the shipped defaults on a 2-core machine are 4 and 4). BENCH_SERVER_LOG=path
    keeps what the server writes (access and app log lines) in that file instead."""
    log_path = os.environ.get("BENCH_SERVER_LOG")
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", target, "-c", str(ROOT / "gunicorn.conf.py"),
         "-b", f"127.0.0.1:{port}", "-w", str(workers), "--threads", str(threads)],
        cwd=ROOT, env=env, stdout=log, stderr=log if log_path else None,
        start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("gunicorn did not start")


def spread(values: list[float], digits: int = 3) -> dict:
    """min / median / max of one figure over the repeats."""
    ordered = sorted(values)
    return {"min": round(ordered[0], digits), "median": round(statistics.median(ordered), digits),
            "max": round(ordered[-1], digits)}


def spread_text(figures: dict, fmt: str = ".3f") -> str:
    return " / ".join(format(figures[k], fmt) for k in ("min", "median", "max"))


def ratios_per_repeat(measured: list[dict[str, dict]], name: str,
                      reference: str = "trivial") -> dict:
    """`measured` holds one {name: summary} per repeat; the ratio of `name`'s throughput to the
    reference's in the same repeat, as min / median / max over the repeats."""
    return spread([repeat[name]["per_second"] / repeat[reference]["per_second"]
                   for repeat in measured if repeat[reference]["per_second"]])


def start_redis(port: int) -> subprocess.Popen:
    """A private Redis for this run (jobs the notices enqueue land there, then vanish)."""
    process = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                                "--save", "", "--appendonly", "no", "--loglevel", "warning"],
                               stdout=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("redis-server did not start")


def stop(process: subprocess.Popen | None) -> None:
    if process is not None and process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def load_average() -> str:
    """The machine's 1/5/15-minute load, to note beside figures (other engineers' runs)."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def signed_notice(out_trade_no: str, fen: int, transaction_id: str | None = None,
                  openid: str = "o_bench_payer") -> bytes:
    """WeChat Pay's payment notice for an order, signed (MD5) with the stand-in's API key."""
    import secrets

    from wechatpy.pay.utils import calculate_signature, dict_to_xml

    from app.config import standin_credentials

    creds = standin_credentials()
    data = {"return_code": "SUCCESS", "appid": creds["WECHAT_APPID"],
            "mch_id": creds["WECHAT_MCH_ID"], "nonce_str": secrets.token_hex(16),
            "result_code": "SUCCESS", "openid": openid, "is_subscribe": "N",
            "trade_type": "NATIVE", "bank_type": "OTHERS", "total_fee": str(fen),
            "cash_fee": str(fen), "fee_type": "CNY",
            "transaction_id": transaction_id or f"4200{secrets.randbelow(10 ** 24):024d}",
            "out_trade_no": out_trade_no, "time_end": "20261128120000"}
    return dict_to_xml(data, calculate_signature(data, creds["WECHAT_API_KEY"])).encode()


class V3NoticeSigner:
    """APIv3 payment notices as WeChat sends them: the transaction AES-256-GCM encrypted under
    the stand-in's APIv3 key, the body signed with a platform key made for this run, whose
    public half the server is given (WECHAT_PAY_PUBLIC_KEY + _ID, `server_env`)."""

    def __init__(self, directory: Path):
        from app.config import standin_credentials, standin_v3_credentials
        from app.wechat_standin.v3 import crypto

        self.crypto = crypto
        self.creds = standin_credentials()
        self.apiv3_key = standin_v3_credentials()["WECHAT_PAY_APIV3_KEY"]
        self.key = crypto.new_rsa_key()
        self.key_id = "PUB_KEY_ID_0000000000000000000000000000BENCH"
        self.public_key_file = directory / "wechatpay_public_key.pem"
        self.public_key_file.write_text(crypto.public_pem(self.key.public_key()))

    def server_env(self) -> dict[str, str]:
        return {"WECHAT_PAY_API": "v3", "WECHAT_PAY_PUBLIC_KEY": str(self.public_key_file),
                "WECHAT_PAY_PUBLIC_KEY_ID": self.key_id, "WECHAT_PAY_APIV3_KEY": self.apiv3_key}

    @staticmethod
    def now() -> str:
        from datetime import datetime

        from app.core.chinatime import CHINA

        return datetime.now(CHINA).isoformat(timespec="seconds")

    def notice(self, out_trade_no: str, fen: int) -> tuple[bytes, dict]:
        import secrets

        transaction = {
            "appid": self.creds["WECHAT_APPID"], "mchid": self.creds["WECHAT_MCH_ID"],
            "out_trade_no": out_trade_no,
            "transaction_id": f"4200{secrets.randbelow(10 ** 24):024d}",
            "trade_type": "NATIVE", "trade_state": "SUCCESS", "trade_state_desc": "支付成功",
            "bank_type": "OTHERS", "success_time": self.now(),
            "payer": {"openid": "o_bench_payer"},
            "amount": {"total": fen, "payer_total": fen, "currency": "CNY",
                       "payer_currency": "CNY"}}
        sealed = self.crypto.aes_gcm_encrypt(
            self.apiv3_key, json.dumps(transaction, ensure_ascii=False), "transaction")
        event = {"id": f"EV-{secrets.token_hex(8)}", "create_time": transaction["success_time"],
                 "resource_type": "encrypt-resource", "event_type": "TRANSACTION.SUCCESS",
                 "summary": "支付成功", "resource": {"original_type": "transaction", **sealed}}
        body = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
        stamp, nonce = str(int(time.time())), self.crypto.nonce()
        return body.encode(), {
            "Content-Type": "application/json", "Wechatpay-Timestamp": stamp,
            "Wechatpay-Nonce": nonce, "Wechatpay-Serial": self.key_id,
            "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
            "Wechatpay-Signature": self.crypto.sign(
                self.key, self.crypto.response_message(stamp, nonce, body))}


def wait_for_port(port: int, process: subprocess.Popen, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{what} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    stop(process)
    raise SystemExit(f"{what} did not start")


# The stand-in as its own process (the embedded runner and the tests run it on a thread).
STANDIN_SCRIPT = """
import sys
from werkzeug.serving import make_server
from app.config import standin_credentials
from app.wechat_standin.app import create_standin
creds = standin_credentials()
wsgi = create_standin(creds["WECHAT_APPID"], creds["WECHAT_SECRET"], creds["WECHAT_MCH_ID"],
                      creds["WECHAT_API_KEY"])
make_server("127.0.0.1", int(sys.argv[1]), wsgi, threaded=True).serve_forever()
"""


def start_standin(port: int) -> subprocess.Popen:
    """The WeChat stand-in on its own port; point the app at it with
    WECHAT_API_BASE=http://127.0.0.1:<port>/ (and no real WeChat credentials)."""
    process = subprocess.Popen([sys.executable, "-c", STANDIN_SCRIPT, str(port)], cwd=ROOT,
                               env=dict(os.environ, PYTHONPATH=str(ROOT)),
                               stderr=subprocess.DEVNULL, start_new_session=True)
    wait_for_port(port, process, "the WeChat stand-in")
    return process


def start_workers(env: dict, count: int, queues: tuple[str, ...] = ()) -> list[subprocess.Popen]:
    """`python worker.py` processes on the app's queues (each in its own session)."""
    return [subprocess.Popen([sys.executable, "worker.py", *queues], cwd=ROOT, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True) for _ in range(count)]


def wait_for_queues(redis_url: str, seconds: float = 120) -> int:
    """Wait until every rq queue is empty and no job is running; returns the failed count."""
    from redis import Redis
    from rq import Queue
    from rq.registry import FailedJobRegistry, StartedJobRegistry

    from app.core.jobs import QUEUE_NAMES

    redis = Redis.from_url(redis_url)
    queues = [Queue(name, connection=redis) for name in QUEUE_NAMES]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if all(len(q) == 0 and StartedJobRegistry(queue=q).count == 0 for q in queues):
            break
        time.sleep(0.25)
    return sum(FailedJobRegistry(queue=q).count for q in queues)


def ledger_verify(env: dict) -> tuple[int, str, float]:
    """`flask --app wsgi ledger verify` against env's database: exit code, last line, seconds."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "ledger", "verify"],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    lines = (done.stdout + done.stderr).strip().splitlines()
    return done.returncode, lines[-1] if lines else "", time.perf_counter() - started
