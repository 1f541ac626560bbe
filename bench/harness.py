"""What the benchmarks and drills share: a database of their own, a private Redis, gunicorn on
a free port, and an asyncio HTTP client that keeps its connections alive.

Loopback only; every process started here runs in its own session so `stop` takes its children.
"""
from __future__ import annotations

import asyncio
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


async def fire(host: str, port: int, requests: list[tuple[str, str, bytes]],
               connections: int) -> tuple[float, list[float], list[bytes]]:
    """Send every (method, path, body) over `connections` keep-alive connections."""
    queue = iter(enumerate(requests))
    latencies: list[float] = [0.0] * len(requests)
    replies: list[bytes] = [b""] * len(requests)

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        for index, (method, path, body) in queue:
            head = (f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                    f"Content-Type: text/xml\r\nContent-Length: {len(body)}\r\n\r\n")
            started = time.perf_counter()
            writer.write(head.encode() + body)
            status = await reader.readline()
            length, close = 0, False
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
                elif name.lower() == "connection" and "close" in value.lower():
                    close = True
            payload = await reader.readexactly(length)
            latencies[index] = time.perf_counter() - started
            replies[index] = status + payload
            if close:
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return time.perf_counter() - started, latencies, replies


def summary(elapsed: float, latencies: list[float]) -> dict:
    ordered = sorted(latencies)
    return {"requests": len(latencies), "seconds": round(elapsed, 3),
            "per_second": round(len(latencies) / elapsed, 1),
            "p50_ms": round(statistics.median(ordered) * 1000, 2),
            "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 2)}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(env: dict, port: int, workers: int, threads: int,
                   target: str = "wsgi:app") -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", target, "-b", f"127.0.0.1:{port}",
         "-w", str(workers), "-k", "gthread", "--threads", str(threads),
         "--keep-alive", "30", "--log-level", "warning"],
        cwd=ROOT, env=env, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("gunicorn did not start")


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
