"""The embedded default behind `python wsgi.py`: SQLite, in-process jobs, the WeChat stand-in,
demo data, all on one machine with no services to start.

`python wsgi.py` also writes MARKER into the instance directory, saying where it serves. Its
presence is what lets `flask --app wsgi …` run on the embedded default's SQLite database with
nothing set (commands_config); gunicorn, worker.py and a flask command given a DATABASE_URL
never look at it, so production still refuses to start without its secrets.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time

import click
from flask import Flask
from werkzeug.serving import make_server

from app.config import INSTANCE_DIR, EmbeddedConfig

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
MARKER = INSTANCE_DIR / "embedded-default.json"


def serve_embedded() -> None:
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    overrides: dict = {}
    standin = None
    if not EmbeddedConfig.WECHAT_APPID:
        standin = start_standin()
        overrides["WECHAT_API_BASE"] = standin.base_url
        overrides.update(standin_platform_config(standin))
    from app import create_app

    app = create_app(overrides)
    prepare_database(app)
    if standin is not None:
        from app.demo import register_demo_users_with_standin

        register_demo_users_with_standin(standin.wsgi_app)
    start_periodic_jobs(app)
    server = make_server(HOST, EmbeddedConfig.PORT, app, threaded=True)
    write_marker(server.server_port, standin.port if standin else None,
                 standin_platform_config(standin) if standin else {})
    print(f"相助 is running on http://{HOST}:{server.server_port}  (WeChat stand-in: "
          f"{standin.base_url if standin else 'off, real WeChat configured'})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def standin_platform_config(standin) -> dict[str, str]:
    """The stand-in's 微信支付公钥 and its id, so APIv3 runs in public-key mode against it, and
    the development merchant key this process made and handed to it (a flask command, in
    another process, signs with the same one)."""
    from app.config import standin_v3_credentials
    from app.wechat_standin.app import platform_keys_of

    platform = platform_keys_of(standin.wsgi_app)
    merchant = standin_v3_credentials()
    return {"WECHAT_PAY_PUBLIC_KEY_PEM": platform.public_key_pem,
            "WECHAT_PAY_PUBLIC_KEY_ID": platform.public_key.serial,
            **{key: merchant[key] for key in ("WECHAT_PAY_V3_PRIVATE_KEY_PEM",
                                              "WECHAT_PAY_V3_CERT_SERIAL",
                                              "WECHAT_PAY_APIV3_KEY")}}


def write_marker(port: int, standin_port: int | None, platform: dict | None = None) -> None:
    MARKER.write_text(json.dumps({
        "about": "Written by `python wsgi.py`: this instance directory holds the embedded "
                 "development default, so `flask --app wsgi …` runs on it with nothing set. "
                 "Never copy it to a production machine.",
        "port": port,
        "standin_port": standin_port,
        "standin_platform": platform or {},
    }, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def commands_config() -> dict | None:
    """The embedded default's configuration for a flask command, or None (the environment
    decides, as for gunicorn: XIANGZHU_EMBEDDED=1 or production).

    Only a flask command, only with XIANGZHU_EMBEDDED and DATABASE_URL both unset (a production
    environment half loaded must never fall back to development keys on its real database), and
    only once `python wsgi.py` has written its marker into the instance directory.
    """
    if os.environ.get("XIANGZHU_EMBEDDED") or os.environ.get("DATABASE_URL"):
        return None
    if not _loaded_by_flask_command():
        return None
    try:
        served = json.loads(MARKER.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    click.echo(f"Embedded default: {EmbeddedConfig.SQLALCHEMY_DATABASE_URI}, development keys "
               f"({MARKER.name} in {INSTANCE_DIR}, written by `python wsgi.py`)", err=True)
    overrides: dict = {}
    if not os.environ.get("PUBLIC_BASE_URL"):
        overrides["PUBLIC_BASE_URL"] = f"http://{HOST}:{served['port']}"
    if (served.get("standin_port") and not os.environ.get("WECHAT_API_BASE")
            and not EmbeddedConfig.WECHAT_APPID):
        overrides["WECHAT_API_BASE"] = f"http://{HOST}:{served['standin_port']}/"
        overrides.update(served.get("standin_platform") or {})
    return overrides


def _loaded_by_flask_command() -> bool:
    """True while the flask CLI loads the app: it does so inside a click context holding its
    ScriptInfo. gunicorn and worker.py have no click context at all."""
    from flask.cli import ScriptInfo

    context = click.get_current_context(silent=True)
    return context is not None and context.find_object(ScriptInfo) is not None


def start_standin():
    from app.config import standin_credentials, standin_v3_credentials
    from app.wechat_standin.app import create_standin
    from app.wechat_standin.server import StandinServer

    creds, v3 = standin_credentials(), standin_v3_credentials()
    wsgi = create_standin(creds["WECHAT_APPID"], creds["WECHAT_SECRET"], creds["WECHAT_MCH_ID"],
                          creds["WECHAT_API_KEY"],
                          resend_schedule=EmbeddedConfig.STANDIN_RESEND_SCHEDULE,
                          merchant_public_key=v3["WECHAT_PAY_V3_PUBLIC_KEY_PEM"],
                          merchant_serial=v3["WECHAT_PAY_V3_CERT_SERIAL"],
                          apiv3_key=v3["WECHAT_PAY_APIV3_KEY"])
    return StandinServer(wsgi, HOST, EmbeddedConfig.STANDIN_PORT).start()


def prepare_database(app: Flask) -> None:
    """Create or upgrade the SQLite database to head, then add the demo data once."""
    from flask_migrate import upgrade

    from app.demo import seed_demo_data

    with app.app_context():
        upgrade()
        seed_demo_data()


def start_periodic_jobs(app: Flask) -> None:
    """What worker.py's cron scheduler does in production, on a thread in-process."""
    from app.core.plugins import periodic_jobs

    schedule = periodic_jobs(app)
    if not schedule:
        return

    def loop() -> None:
        next_run = {func: time.monotonic() + interval for func, interval, _queue in schedule}
        while True:
            time.sleep(1)
            now = time.monotonic()
            for func, interval, _queue in schedule:
                if now >= next_run[func]:
                    next_run[func] = now + interval
                    with app.app_context():
                        from app.extensions import jobs

                        jobs.enqueue(func)

    threading.Thread(target=loop, daemon=True, name="periodic-jobs").start()
