"""gunicorn settings for 相助, read from the environment (docs/DEPLOYMENT.md explains each).

    gunicorn -c gunicorn.conf.py wsgi:app

Every value has a default fit for one nginx on the same machine in front of us. This file must
not import the `app` package: the gunicorn master would then hold that code, and every worker
forked after a `systemctl reload` (HUP) would inherit the old code instead of loading the new.
"""
import logging
import multiprocessing
import os


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _int(name: str, default: int) -> int:
    return int(_env(name, str(default)))


# --- sockets ----------------------------------------------------------------------------------
bind = [address.strip() for address in _env("GUNICORN_BIND", "127.0.0.1:8000").split(",")]
backlog = _int("GUNICORN_BACKLOG", 2048)

# --- processes: gthread, so a request waiting on PostgreSQL or WeChat holds a thread, not a
# whole process; each thread holds at most one database connection at a time. ------------------
worker_class = "gthread"
workers = _int("GUNICORN_WORKERS", _int("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count()))
threads = _int("GUNICORN_THREADS", 4)
# Off by default (no leak has been seen); if worker memory grows, e.g. 2000 and 200: each worker
# is replaced after that many requests, jittered so they do not all restart at once.
max_requests = _int("GUNICORN_MAX_REQUESTS", 0)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 0)

# --- time limits ------------------------------------------------------------------------------
# A worker whose main loop is silent this long is killed and replaced.
timeout = _int("GUNICORN_TIMEOUT", 30)
# On HUP/TERM, requests in flight get this long to finish; systemd's TimeoutStopSec is longer.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
# Longer than nginx's upstream keepalive_timeout (60 s in deploy/nginx/xiangzhu.conf), so nginx
# always closes an idle upstream connection first and never reuses one we have just closed.
keepalive = _int("GUNICORN_KEEPALIVE", 75)

# --- the proxy --------------------------------------------------------------------------------
# Addresses allowed to set X-Forwarded-Proto (gunicorn's own https detection). The app's
# ProxyFix (PROXY_FIX_X_FOR, PROXY_FIX_X_PROTO) decides the client address and scheme.
forwarded_allow_ips = _env("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# --- logs: both to stdout/stderr (journald keeps them) ----------------------------------------
accesslog = _env("GUNICORN_ACCESSLOG", "-")
errorlog = _env("GUNICORN_ERRORLOG", "-")
loglevel = _env("LOG_LEVEL", "info").lower()
# key=value, with the X-Request-ID the app put on the response (the client's address is the
# real one: ProxyFix rewrote REMOTE_ADDR in place before this line is written).
access_log_format = ('remote=%(h)s method=%(m)s path="%(U)s" query="%(q)s" status=%(s)s '
                     'bytes=%(B)s duration_ms=%(M)s request_id=%({x-request-id}o)s '
                     'user_agent="%(a)s"')
proc_name = "xiangzhu-web"


def post_worker_init(worker) -> None:
    """Once the worker has loaded the app: write gunicorn's access and error lines through the
    app's handler, in the app's LOG_FORMAT, with request ids."""
    from app.core.logging import make_handler

    fmt = getattr(worker.wsgi, "config", {}).get("LOG_FORMAT", "json")
    handler = make_handler(fmt)
    for name in ("gunicorn.access", "gunicorn.error"):
        logger = logging.getLogger(name)
        for existing in list(logger.handlers):
            logger.removeHandler(existing)
        logger.addHandler(handler)
        logger.propagate = False
