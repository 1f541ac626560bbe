"""Operations: request ids, log lines, ProxyFix behind nginx, SECRET_KEY rotation, gunicorn."""
from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from flask import Flask, g, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_limiter.util import get_remote_address
from gunicorn.glogging import SafeAtoms
from werkzeug.middleware.proxy_fix import ProxyFix

from app.config import EmbeddedConfig, ProductionConfig
from app.core.logging import (JsonFormatter, LogfmtFormatter, RequestIdFilter, bind_request_id,
                              current_request_id)

ROOT = Path(__file__).resolve().parent.parent
GENERATED_ID = re.compile(r"^[0-9a-f]{32}$")


def _add_probe(application: Flask) -> None:
    @application.get("/_probe")
    def probe():
        logging.getLogger("app.probe").warning("probing %s", "now")
        return {"request_id": g.request_id, "remote_addr": request.remote_addr,
                "limiter_key": get_remote_address(), "secure": request.is_secure,
                "external": url_for("core.healthz", _external=True),
                "session": session.get("probe")}


def _records(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


# --- request ids ----------------------------------------------------------------------------

def test_a_request_without_an_id_gets_a_fresh_one(client):
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/healthz").headers["X-Request-ID"]
    assert GENERATED_ID.match(first) and GENERATED_ID.match(second)
    assert first != second


def test_a_well_formed_id_from_the_proxy_is_kept(client):
    response = client.get("/healthz", headers={"X-Request-ID": "0f1e2d3c4b5a69788796a5b4c3d2e1f0"})
    assert response.headers["X-Request-ID"] == "0f1e2d3c4b5a69788796a5b4c3d2e1f0"


@pytest.mark.parametrize("offered", ["short", "x" * 65, "id with spaces 123",
                                     "forged\nlevel=ERROR", "引号'\"1234567"])
def test_a_malformed_id_is_replaced(client, offered):
    # Straight into the environ: the test client itself refuses a header with a newline.
    response = client.get("/healthz", environ_overrides={"HTTP_X_REQUEST_ID": offered})
    assert GENERATED_ID.match(response.headers["X-Request-ID"])


def test_error_responses_carry_the_id_too(client):
    response = client.get("/api/v1/no-such-thing", headers={"X-Request-ID": "req-404-abcdef"})
    assert response.status_code == 404
    assert response.headers["X-Request-ID"] == "req-404-abcdef"


def test_the_id_is_on_g_and_in_every_log_line_of_the_request(make_app, capsys):
    application = make_app(LOG_FORMAT="json")
    _add_probe(application)
    capsys.readouterr()
    body = application.test_client().get(
        "/_probe", headers={"X-Request-ID": "edge-1234abcd"}).get_json()
    assert body["request_id"] == "edge-1234abcd"
    lines = [r for r in _records(capsys.readouterr().out) if r["logger"] == "app.probe"]
    assert lines == [{"ts": lines[0]["ts"], "level": "WARNING", "logger": "app.probe",
                      "request_id": "edge-1234abcd", "message": "probing now"}]


def test_a_job_logs_under_the_id_of_the_request_that_enqueued_it(capsys):
    logger = logging.getLogger("app.some_job")
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(LogfmtFormatter())
    handler.addFilter(RequestIdFilter())
    logger.addHandler(handler)
    logger.propagate = False
    try:
        with bind_request_id("edge-5678efgh"):
            assert current_request_id() == "edge-5678efgh"
            logger.warning("inside the job")
        logger.warning("after the job")
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    inside, after = capsys.readouterr().out.splitlines()
    assert "request_id=edge-5678efgh" in inside and 'message="inside the job"' in inside
    assert "request_id=-" in after
    assert current_request_id() is None


def _access_record(atoms: dict) -> logging.LogRecord:
    record = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1,
                               "%(h)s %(r)s", (SafeAtoms(atoms),), None)
    RequestIdFilter().filter(record)
    return record


def test_gunicorn_access_lines_become_fields_with_the_response_request_id():
    record = _access_record({"h": "203.0.113.7", "m": "POST", "U": "/wechat/pay/notify",
                             "q": "", "s": "200", "B": 97, "M": 12, "a": "Mozilla/5.0",
                             "r": "POST /wechat/pay/notify HTTP/1.1",
                             "{x-request-id}o": "edge-9abc0def"})
    fields = json.loads(JsonFormatter().format(record))
    assert fields["request_id"] == "edge-9abc0def"
    assert {k: fields[k] for k in ("message", "remote", "method", "path", "status", "bytes",
                                   "duration_ms")} == {
        "message": "access", "remote": "203.0.113.7", "method": "POST",
        "path": "/wechat/pay/notify", "status": 200, "bytes": 97, "duration_ms": 12}
    assert "query" not in fields


def test_logfmt_keeps_one_record_on_one_line():
    record = logging.LogRecord("app.x", logging.ERROR, __file__, 1, 'bad "value"\nnext=1',
                               None, None)
    record.order = "X 1"
    RequestIdFilter().filter(record)
    line = LogfmtFormatter().format(record)
    assert "\n" not in line
    assert line.endswith(' message="bad \\"value\\"\\nnext=1" order="X 1"')
    assert " level=ERROR logger=app.x request_id=- " in line


# --- ProxyFix -------------------------------------------------------------------------------

def test_proxy_headers_are_ignored_unless_configured(app, client):
    assert EmbeddedConfig.PROXY_FIX_X_FOR == 0 and EmbeddedConfig.PROXY_FIX_X_PROTO == 0
    assert (ProductionConfig.PROXY_FIX_X_FOR, ProductionConfig.PROXY_FIX_X_PROTO) == (1, 1)
    assert not isinstance(app.wsgi_app, ProxyFix)


def test_behind_one_proxy_the_client_address_and_https_come_from_its_headers(make_app):
    application = make_app(PROXY_FIX_X_FOR=1, PROXY_FIX_X_PROTO=1)
    _add_probe(application)
    body = application.test_client().get("/_probe", headers={
        "X-Forwarded-For": "198.51.100.1, 203.0.113.7", "X-Forwarded-Proto": "https",
        "Host": "xiangzhu.example"}).get_json()
    # Only the last hop, the one our nginx appended, is trusted; the client wrote the first.
    assert body["remote_addr"] == body["limiter_key"] == "203.0.113.7"
    assert body["secure"] is True
    assert body["external"] == "https://xiangzhu.example/healthz"


def test_without_proxy_fix_forwarded_headers_change_nothing(make_app):
    application = make_app()
    _add_probe(application)
    body = application.test_client().get("/_probe", headers={
        "X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}).get_json()
    assert body["remote_addr"] == "127.0.0.1"
    assert body["secure"] is False


def test_rate_limits_count_each_real_client_separately(make_app):
    application = make_app(PROXY_FIX_X_FOR=1, PROXY_FIX_X_PROTO=1,
                           STAFF_LOGIN_RATE_LIMIT="2 per minute")
    web = application.test_client()
    form = {"username": "nobody", "password": "wrong-password"}

    def attempt(ip: str) -> int:
        return web.post("/auth/staff/login", data=form,
                        headers={"X-Forwarded-For": ip}).status_code

    assert [attempt("203.0.113.7") for _ in range(3)] == [200, 200, 429]
    assert attempt("198.51.100.9") == 200


# --- SECRET_KEY rotation ----------------------------------------------------------------------

def test_sessions_signed_with_the_previous_secret_key_still_work(make_app):
    application = make_app(SECRET_KEY="the-new-key", SECRET_KEY_FALLBACKS=["the-old-key"])
    _add_probe(application)
    old = Flask("old")
    old.secret_key = "the-old-key"
    cookie = SecureCookieSessionInterface().get_signing_serializer(old).dumps({"probe": "kept"})
    web = application.test_client()
    web.set_cookie("session", cookie)
    assert web.get("/_probe").get_json()["session"] == "kept"


# --- gunicorn ---------------------------------------------------------------------------------

def test_gunicorn_config_reads_the_environment():
    from gunicorn.config import Config

    env = {"GUNICORN_BIND": "0.0.0.0:8001,unix:/run/xiangzhu/web.sock", "GUNICORN_WORKERS": "3",
           "GUNICORN_THREADS": "8", "GUNICORN_TIMEOUT": "45", "GUNICORN_KEEPALIVE": "80",
           "GUNICORN_GRACEFUL_TIMEOUT": "20", "GUNICORN_FORWARDED_ALLOW_IPS": "10.0.0.5"}
    settings = _load_gunicorn_config(env)
    config = Config()
    for name, value in settings.items():
        if name in config.settings:
            config.set(name, value)
    assert config.bind == ["0.0.0.0:8001", "unix:/run/xiangzhu/web.sock"]
    assert (config.workers, config.threads, config.worker_class_str) == (3, 8, "gthread")
    assert (config.timeout, config.keepalive, config.graceful_timeout) == (45, 80, 20)
    assert config.forwarded_allow_ips == ["10.0.0.5"]
    assert "request_id=%({x-request-id}o)s" in config.access_log_format
    assert config.accesslog == "-"


def _load_gunicorn_config(env: dict) -> dict:
    """Run gunicorn.conf.py as gunicorn does (exec of the file) with `env` in os.environ."""
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        namespace: dict = {"__file__": str(ROOT / "gunicorn.conf.py")}
        exec(compile((ROOT / "gunicorn.conf.py").read_text(), "gunicorn.conf.py", "exec"),
             namespace)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return {k: v for k, v in namespace.items() if not k.startswith("_")}


def test_gunicorn_config_leaves_the_app_to_the_workers():
    """The master must not import `app`, or workers forked after a reload run the old code."""
    check = ("import runpy, sys; runpy.run_path('gunicorn.conf.py'); "
             "sys.exit('app' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", check], cwd=ROOT, timeout=60).returncode == 0


def test_gunicorn_loads_the_production_app_with_this_config(tmp_path):
    from app.transparency.notes import generate_signer_key

    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'check.db'}",
           "SECRET_KEY": "check-config", "REDIS_URL": "",
           "DATA_ENCRYPTION_KEY": Fernet.generate_key().decode(),
           "BLIND_INDEX_KEY": Fernet.generate_key().decode(),
           "TRANSPARENCY_ORIGIN": "check.example/ledger",
           "TRANSPARENCY_SIGNING_KEY": generate_signer_key("check.example/ledger"),
           "TRANSPARENCY_REF_KEY": Fernet.generate_key().decode()}
    env.pop("XIANGZHU_EMBEDDED", None)
    result = subprocess.run([sys.executable, "-m", "gunicorn", "--check-config", "-c",
                             "gunicorn.conf.py", "wsgi:app"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
