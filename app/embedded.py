"""The embedded default behind `python wsgi.py`: SQLite, in-process jobs, the WeChat stand-in,
demo data, all on one machine with no services to start."""
from __future__ import annotations

import logging
import threading
import time

from flask import Flask

from app.config import INSTANCE_DIR, EmbeddedConfig

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
PORT = 5000


def serve_embedded() -> None:
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    overrides: dict = {}
    standin = None
    if not EmbeddedConfig.WECHAT_APPID:
        standin = start_standin()
        overrides["WECHAT_API_BASE"] = standin.base_url
    from app import create_app

    app = create_app(overrides)
    prepare_database(app)
    if standin is not None:
        from app.core.demo import register_demo_users_with_standin

        register_demo_users_with_standin(standin.wsgi_app)
    start_periodic_jobs(app)
    print(f"相助 is running on http://{HOST}:{PORT}  (WeChat stand-in: "
          f"{standin.base_url if standin else 'off, real WeChat configured'})", flush=True)
    app.run(host=HOST, port=PORT, threaded=True, use_reloader=False)


def start_standin():
    from app.config import standin_credentials
    from app.wechat_standin.app import create_standin
    from app.wechat_standin.server import StandinServer

    creds = standin_credentials()
    wsgi = create_standin(creds["WECHAT_APPID"], creds["WECHAT_SECRET"], creds["WECHAT_MCH_ID"],
                          creds["WECHAT_API_KEY"],
                          resend_schedule=EmbeddedConfig.STANDIN_RESEND_SCHEDULE)
    return StandinServer(wsgi, HOST, EmbeddedConfig.STANDIN_PORT).start()


def prepare_database(app: Flask) -> None:
    """Create or upgrade the SQLite database to head, then add the demo data once."""
    from flask_migrate import upgrade

    from app.core.demo import seed_demo_data

    with app.app_context():
        upgrade()
        seed_demo_data()


def start_periodic_jobs(app: Flask) -> None:
    """What worker.py's cron scheduler does in production, on a thread in-process."""
    from app.scheduling import periodic_jobs

    schedule = periodic_jobs()
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
