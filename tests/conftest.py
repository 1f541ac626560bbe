"""Fixtures: the stand-in, the app (SQLite or PostgreSQL, inline jobs or Redis), db, clients.

DATABASE_URL and REDIS_URL from the environment select PostgreSQL and Redis (as .ci/run does);
without them the suite runs on a temporary SQLite file with jobs in-process.
"""
from __future__ import annotations

import os
import socket
import threading

import pytest
from flask import g, request_tearing_down
from flask_login import FlaskLoginClient
from sqlalchemy import create_engine, make_url, text
from flask_migrate import upgrade
from werkzeug.serving import make_server

from app import create_app
from app.config import standin_credentials, standin_v3_credentials
from app.extensions import db as _db
from app.extensions import jobs, limiter
from app.wechat_standin.app import create_standin, platform_keys_of, state_of
from app.wechat_standin.server import StandinServer

pytest_plugins = ["tests.clock_plugin", "tests.factories_plugin"]


@pytest.fixture(scope="session")
def standin():
    """A real stand-in server over HTTP; wechatpy and wechatpayv3 reach it by base URL."""
    creds, v3 = standin_credentials(), standin_v3_credentials()
    wsgi = create_standin(creds["WECHAT_APPID"], creds["WECHAT_SECRET"], creds["WECHAT_MCH_ID"],
                          creds["WECHAT_API_KEY"], resend_schedule=(0.2, 0.2, 0.5, 1, 2),
                          merchant_public_key=v3["WECHAT_PAY_V3_PUBLIC_KEY_PEM"],
                          merchant_serial=v3["WECHAT_PAY_V3_CERT_SERIAL"],
                          apiv3_key=v3["WECHAT_PAY_APIV3_KEY"])
    server = StandinServer(wsgi).start()
    server.state = state_of(wsgi)
    server.platform = platform_keys_of(wsgi)
    yield server
    server.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """On PostgreSQL, a fresh database of this run's own on the server DATABASE_URL names, so
    concurrent runs on one machine never truncate each other's tables."""
    server_url = os.environ.get("DATABASE_URL")
    if not server_url:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        return
    url = make_url(server_url)
    name = f"{url.database}_run{os.getpid()}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def redis_url():
    """The Redis server REDIS_URL names, on a database number (1-15) this run claims for itself
    on that server, so concurrent runs never flush each other's queues."""
    server_url = os.environ.get("REDIS_URL")
    if not server_url:
        yield None
        return
    from redis import Redis

    server = Redis.from_url(server_url)
    token = str(os.getpid())
    for number in range(1, 16):
        claim = f"xiangzhu:test-run-claims:{number}"
        if server.set(claim, token, nx=True, ex=3 * 3600):
            break
    else:
        pytest.fail("every Redis database 1-15 is claimed by another test run")
    yield server_url.rsplit("/", 1)[0] + f"/{number}"
    if server.get(claim) == token.encode():
        server.delete(claim)
    server.close()


@pytest.fixture(scope="session")
def app(standin, tmp_path_factory, database_url, redis_url):
    upload_dir = tmp_path_factory.mktemp("uploads")
    port = _free_port()
    config = {
        "TESTING": True,
        "EMBEDDED": False,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": redis_url,
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "WECHAT_API_BASE": standin.base_url,
        # APIv3 in public-key mode against the stand-in's 微信支付公钥
        "WECHAT_PAY_PUBLIC_KEY_PEM": standin.platform.public_key_pem,
        "WECHAT_PAY_PUBLIC_KEY_ID": standin.platform.public_key.serial,
        "WTF_CSRF_ENABLED": False,
        # the stand-in custodian pays at once; tests/custody_bank drive the bank's batch files
        "PAYOUT_PROVIDER": "standin",
        "UPLOAD_DIR": str(upload_dir),
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "SERVER_PORT": port,
    }
    application = create_app(config)
    application.test_client_class = FlaskLoginClient
    request_tearing_down.connect(_forget_signed_in_user, application)
    with application.app_context():
        _db.drop_all()
        with _db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade()  # the schema comes from the migrations, as in production
    yield application
    with application.app_context():
        _db.session.remove()
        _db.engine.dispose()


def _forget_signed_in_user(sender, **extra) -> None:
    """The db fixture holds an app context for the whole test, which Flask reuses for every
    test-client request, so flask-login's cached g._login_user would leak from one client to
    the next. Forget it after each request, as a real server's fresh context would."""
    g.pop("_login_user", None)


@pytest.fixture(scope="session")
def live_server(app):
    """The app served over HTTP on PUBLIC_BASE_URL, so the stand-in can call us back."""
    server = make_server("127.0.0.1", app.config["SERVER_PORT"], app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app.config["PUBLIC_BASE_URL"]
    server.shutdown()


@pytest.fixture(autouse=True)
def own_upload_dir(request):
    """Each test that uses the app writes its uploads, photos and posters to a directory of its
    own, so what it counts or prunes on disk is only what it made."""
    if "app" not in request.fixturenames:
        yield None
        return
    app = request.getfixturevalue("app")
    shared = app.config["UPLOAD_DIR"]
    own = request.getfixturevalue("tmp_path") / "uploads"
    app.config["UPLOAD_DIR"] = str(own)
    yield own
    app.config["UPLOAD_DIR"] = shared


@pytest.fixture()
def db(app):
    """A clean database for each test; tables are emptied afterwards."""
    with app.app_context():
        yield _db
        _db.session.remove()
        _truncate_all()
    if jobs.redis is not None:
        jobs.redis.flushdb()
    with app.app_context():
        limiter.reset()


def _truncate_all() -> None:
    tables = [t.name for t in reversed(_db.metadata.sorted_tables)]
    with _db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables)
                              + " RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f'DELETE FROM "{table}"'))


APP_SHARED_KEYS = ("SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "REDIS_URL", "RATELIMIT_STORAGE_URI",
                   "WECHAT_API_BASE", "WTF_CSRF_ENABLED", "UPLOAD_DIR", "PUBLIC_BASE_URL",
                   "WECHAT_PAY_PUBLIC_KEY_PEM", "WECHAT_PAY_PUBLIC_KEY_ID")


@pytest.fixture()
def make_app(app, db):
    """Another app with config overrides, on the session app's database, Redis and stand-in (the
    singletons in app/extensions.py are bound to the same services again, so nothing else
    notices)."""
    made = []

    def make(**overrides):
        config = {key: app.config[key] for key in APP_SHARED_KEYS}
        config.update(TESTING=True, EMBEDDED=False, **overrides)
        application = create_app(config)
        application.test_client_class = FlaskLoginClient
        made.append(application)
        return application

    yield make
    for application in made:
        with application.app_context():
            _db.session.remove()
            for engine in _db.engines.values():
                engine.dispose()


@pytest.fixture()
def client(app, db):
    return app.test_client()


@pytest.fixture()
def run_jobs(app):
    """Run whatever is queued, as a worker would (a no-op when jobs run in-process)."""

    def run() -> None:
        if jobs.inline:
            return
        from rq import SimpleWorker

        queues = [jobs.queue(name) for name in ("default", "payments", "posters",
                                                 "notifications")]
        SimpleWorker(queues, connection=jobs.redis).work(burst=True)

    return run
