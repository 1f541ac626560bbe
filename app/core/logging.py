"""Request ids and log lines: one line per record on stdout, each carrying the request id.

A request's id is the X-Request-ID its proxy sent (nginx's $request_id) when that is
well-formed, or a fresh one; it is kept on `g.request_id`, sent back in the X-Request-ID
response header and added to every log record emitted while the request runs. Outside a
request, `bind_request_id()` lends an id to the records of a block of work (an rq job that
carries the id of the request that enqueued it). gunicorn's access lines take the id from the
response header.

LOG_FORMAT picks the line shape: `json` (one object per line), `logfmt` (key=value) or `text`
(for people at a terminal); LOG_LEVEL the threshold.
"""
from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone

from flask import Flask, Response, g, has_request_context, request

REQUEST_ID_HEADER = "X-Request-ID"
# Letters, digits and . _ - only: a request id lands verbatim in log lines and headers.
REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
ENVIRON_KEY = "xiangzhu.request_id"
FORMATS = ("json", "logfmt", "text")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
# gunicorn's access-log atoms worth a field of their own in JSON and logfmt lines.
ACCESS_FIELDS = {"h": "remote", "m": "method", "U": "path", "q": "query", "s": "status",
                 "B": "bytes", "M": "duration_ms", "a": "user_agent"}
# Attributes every LogRecord has; anything else was passed through `extra=` and is printed.
RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime",
                                                                  "request_id", "taskName"}

_bound_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "xiangzhu_request_id", default=None)


def new_request_id() -> str:
    return uuid.uuid4().hex


def is_well_formed(value: str | None) -> bool:
    return bool(value) and REQUEST_ID_PATTERN.match(value) is not None


def request_id() -> str:
    """The current request's id, decided once per request (kept in its WSGI environ, which,
    unlike `g`, is never shared between requests)."""
    environ = request.environ
    value = environ.get(ENVIRON_KEY)
    if value is None:
        offered = request.headers.get(REQUEST_ID_HEADER)
        value = offered if is_well_formed(offered) else new_request_id()
        environ[ENVIRON_KEY] = value
    return value


def current_request_id() -> str | None:
    """The id of the request being served, or the one bound to the running job, or None.
    What `jobs.enqueue` would put in a job's meta so the worker can bind it again."""
    if has_request_context():
        return request_id()
    return _bound_request_id.get()


@contextmanager
def bind_request_id(value: str | None) -> Iterator[None]:
    """Tag every record logged inside the block with `value` (a job's originating request)."""
    token = _bound_request_id.set(value if is_well_formed(value) else None)
    try:
        yield
    finally:
        _bound_request_id.reset(token)


class RequestIdFilter(logging.Filter):
    """Adds `record.request_id` ("-" when there is none); never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        value = current_request_id()
        if value is None and record.name == "gunicorn.access" and isinstance(record.args,
                                                                            Mapping):
            value = record.args.get("{x-request-id}o")
        record.request_id = value if value and value != "-" else "-"
        return True


def _timestamp(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, tz=timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _fields(record: logging.LogRecord) -> dict:
    """The structured content of a record, in a stable order."""
    fields = {"ts": _timestamp(record), "level": record.levelname, "logger": record.name,
              "request_id": getattr(record, "request_id", "-")}
    if record.name == "gunicorn.access" and isinstance(record.args, Mapping):
        fields["message"] = "access"
        for atom, name in ACCESS_FIELDS.items():
            value = record.args.get(atom)
            if value not in (None, "", "-"):
                fields[name] = int(value) if name == "status" and str(value).isdigit() else value
    else:
        fields["message"] = record.getMessage()
    for key, value in vars(record).items():
        if key not in RECORD_ATTRIBUTES and not key.startswith("_"):
            fields[key] = value
    return fields


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = _fields(record)
        if record.exc_info:
            fields["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            fields["exception"] = record.exc_text
        if record.stack_info:
            fields["stack"] = self.formatStack(record.stack_info)
        return json.dumps(fields, ensure_ascii=False, default=str)


class LogfmtFormatter(logging.Formatter):
    """key=value pairs; values with spaces, quotes or '=' are quoted. Tracebacks are folded
    into one `exception=` value so a record stays one line."""

    def format(self, record: logging.LogRecord) -> str:
        fields = _fields(record)
        if record.exc_info:
            fields["exception"] = self.formatException(record.exc_info)
        return " ".join(f"{key}={_logfmt_value(value)}" for key, value in fields.items())


def _logfmt_value(value: object) -> str:
    text = str(value)
    if text and not any(ch in text for ch in ' ="\\\n\r\t'):
        return text
    escaped = (text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
               .replace("\r", "\\r").replace("\t", "\\t"))
    return f'"{escaped}"'


def make_formatter(fmt: str) -> logging.Formatter:
    if fmt == "json":
        return JsonFormatter()
    if fmt == "logfmt":
        return LogfmtFormatter()
    if fmt == "text":
        return logging.Formatter(TEXT_FORMAT)
    raise ValueError(f"LOG_FORMAT must be one of {', '.join(FORMATS)}, not {fmt!r}")


class StdoutHandler(logging.StreamHandler):
    """Writes to whatever sys.stdout is at the time of each record (test runners and
    gunicorn's --capture-output swap it), never to a stream that was closed since."""

    def __init__(self) -> None:
        super().__init__(sys.stdout)

    @property
    def stream(self):
        return sys.stdout

    @stream.setter
    def stream(self, _value) -> None:
        return None


def make_handler(fmt: str) -> logging.Handler:
    handler = StdoutHandler()
    handler.setFormatter(make_formatter(fmt))
    handler.addFilter(RequestIdFilter())
    handler.set_name("xiangzhu")
    return handler


def configure_logging(level: str | int = "INFO", fmt: str = "text") -> logging.Handler:
    """Put our one stdout handler on the root logger (replacing ours from an earlier call,
    leaving anyone else's, such as pytest's capture, alone) and set the root level."""
    root = logging.getLogger()
    for existing in list(root.handlers):
        if existing.get_name() == "xiangzhu":
            root.removeHandler(existing)
    handler = make_handler(fmt)
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    return handler


def register_logging(app: Flask) -> None:
    """Logging from LOG_LEVEL and LOG_FORMAT, and the request id on `g` and the response."""
    configure_logging(app.config.get("LOG_LEVEL", "INFO"), app.config.get("LOG_FORMAT", "text"))

    def remember_request_id() -> None:
        g.request_id = request_id()

    def send_request_id(response: Response) -> Response:
        response.headers[REQUEST_ID_HEADER] = request_id()
        return response

    # First in line, so the id is on `g` even when a later before_request hook (a rate limit)
    # answers the request itself.
    app.before_request_funcs.setdefault(None, []).insert(0, remember_request_id)
    app.after_request(send_request_id)
