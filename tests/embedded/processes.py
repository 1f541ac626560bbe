"""`python wsgi.py` and flask commands as a newcomer runs them, in subprocesses with nothing set:
no secrets, no DATABASE_URL or REDIS_URL, no WeChat credentials. Only XIANGZHU_INSTANCE_DIR
points them at a temporary instance directory instead of the checkout's instance/."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
CONFIG_VARIABLES = (
    "SECRET_KEY", "SECRET_KEY_FALLBACKS", "DATABASE_URL", "DATABASE_REPLICA_URL", "REDIS_URL",
    "XIANGZHU_EMBEDDED", "XIANGZHU_INSTANCE_DIR", "DATA_ENCRYPTION_KEY", "BLIND_INDEX_KEY",
    "WECHAT_APPID", "WECHAT_SECRET", "WECHAT_MCH_ID", "WECHAT_API_KEY", "WECHAT_MCH_CERT",
    "WECHAT_MCH_KEY", "WECHAT_API_BASE", "PUBLIC_BASE_URL", "UPLOAD_DIR", "PORT", "STANDIN_PORT",
    "FLASK_APP", "WECHAT_PAY_API", "WECHAT_PAY_V3_PRIVATE_KEY", "WECHAT_PAY_V3_CERT_SERIAL",
    "WECHAT_PAY_APIV3_KEY", "WECHAT_PAY_PUBLIC_KEY", "WECHAT_PAY_PUBLIC_KEY_ID",
    "WECHAT_PAY_CERT_DIR",
)
START_TIMEOUT = 90  # seconds; a first start migrates and seeds, slower on a busy machine


def newcomer_env(instance_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in CONFIG_VARIABLES}
    env.update(XIANGZHU_INSTANCE_DIR=str(instance_dir), PYTHONUNBUFFERED="1", **extra)
    return env


def free_ports(count: int) -> list[int]:
    """Distinct ports free right now (held open together so none is handed out twice)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


class EmbeddedServer:
    def __init__(self, instance_dir: Path, port: int, standin_port: int):
        self.instance_dir = instance_dir
        self.port = port
        self.standin_port = standin_port
        self.base_url = f"http://127.0.0.1:{port}"
        self.standin_url = f"http://127.0.0.1:{standin_port}/"
        self.console = instance_dir.parent / "console.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> "EmbeddedServer":
        with self.console.open("wb") as console:
            self.process = subprocess.Popen(
                [sys.executable, "wsgi.py"], cwd=ROOT, stdout=console, stderr=subprocess.STDOUT,
                env=newcomer_env(self.instance_dir, PORT=str(self.port),
                                 STANDIN_PORT=str(self.standin_port)))
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"python wsgi.py exited:\n{self.output()}")
            try:
                if requests.get(f"{self.base_url}/healthz", timeout=2).status_code == 200:
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        self.stop()
        raise AssertionError(f"python wsgi.py did not answer /healthz:\n{self.output()}")

    def output(self) -> str:
        return self.console.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def run_flask(instance_dir: Path, *args: str, input: str | None = None,
              **extra_env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT,
                          env=newcomer_env(instance_dir, **extra_env), input=input,
                          capture_output=True, text=True, timeout=120)
