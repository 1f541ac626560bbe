"""An optional read replica for public read-only pages (DATABASE_REPLICA_URL; docs/DEPLOYMENT.md).

Off unless DATABASE_REPLICA_URL is set: then there is no second engine and nothing here acts.
When it is set, the replica is the Flask-SQLAlchemy bind "replica" (same engine options as the
primary) and a view marked `@reads_from_replica` sends its SELECTs there — for anonymous
visitors' GET requests only, since a signed-in donor who has just paid must see their payment.
Within such a request every statement that is not a plain SELECT, every flush and any
`session.connection()` without a statement go to the primary, and once one has, the rest of the
request reads the primary too (it reads its own writes). Jobs, CLI commands and unmarked views
never set the mark, so they only ever use the primary.

An unreachable replica does not fail the request: the marked view runs on the primary, a warning
is logged, and this process leaves the replica alone for RETRY_SECONDS before trying again.
"""
from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, request
from flask_login import current_user
from flask_sqlalchemy.session import Session
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.selectable import GenerativeSelect

log = logging.getLogger(__name__)

REPLICA_BIND = "replica"
ROUTE_KEY = "xiangzhu.read_from_replica"  # session.info: the replica engine while routed
EXTENSION_KEY = "xiangzhu.replica"
RETRY_SECONDS = 30.0


class ReplicaHealth:
    """Per process: until when the replica is left alone after it could not be reached."""

    def __init__(self) -> None:
        self._down_until = 0.0
        self._lock = threading.Lock()

    def available(self) -> bool:
        return time.monotonic() >= self._down_until

    def mark_down(self) -> None:
        with self._lock:
            self._down_until = time.monotonic() + RETRY_SECONDS


def configure_replica_bind(app: Flask) -> None:
    """Before db.init_app: add the replica as a bind when DATABASE_REPLICA_URL is set."""
    url = app.config.get("DATABASE_REPLICA_URL")
    if not url:
        return
    binds = dict(app.config.get("SQLALCHEMY_BINDS") or {})
    binds[REPLICA_BIND] = url
    app.config["SQLALCHEMY_BINDS"] = binds
    app.extensions[EXTENSION_KEY] = ReplicaHealth()


def _is_plain_select(clause: Any) -> bool:
    # SELECT ... FOR UPDATE announces a write; text() may be anything, so it goes to the primary.
    return isinstance(clause, GenerativeSelect) and clause._for_update_arg is None


class RoutingSession(Session):
    """Flask-SQLAlchemy's session, sending a routed request's plain SELECTs to the replica."""

    def get_bind(self, mapper: Any | None = None, clause: Any | None = None,
                 bind: Engine | None = None, **kwargs: Any):
        replica = self.info.get(ROUTE_KEY)
        if replica is not None and bind is None:
            if not self._flushing and _is_plain_select(clause):
                return replica
            del self.info[ROUTE_KEY]
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


def reads_from_replica(view: Callable) -> Callable:
    """Mark a public read-only view: anonymous GETs read from the replica when one is set."""

    @functools.wraps(view)
    def routed(*args: Any, **kwargs: Any):
        replica = _replica_for_this_request()
        if replica is None:
            return view(*args, **kwargs)
        session = _db().session()
        session.info[ROUTE_KEY] = replica
        try:
            return view(*args, **kwargs)
        finally:
            session.info.pop(ROUTE_KEY, None)

    return routed


def _db():
    # The app's Flask-SQLAlchemy object, whose session class is defined here: app/extensions.py
    # imports this module, so this one does not import it back.
    return current_app.extensions["sqlalchemy"]


def _replica_for_this_request() -> Engine | None:
    health: ReplicaHealth | None = current_app.extensions.get(EXTENSION_KEY)
    if (health is None or request.method not in ("GET", "HEAD")
            or current_user.is_authenticated or not health.available()):
        return None
    replica = _db().engines[REPLICA_BIND]
    try:
        # Check out the replica connection now, into the session's transaction, so a replica
        # that is down is found here — where the view can still run on the primary — and not
        # halfway through it. A failed connect leaves the session's transaction usable.
        _db().session.connection(bind_arguments={"bind": replica})
    except DBAPIError as error:
        health.mark_down()
        log.warning("read replica %s unreachable, reading the primary for %.0f s: %s",
                    replica.url, RETRY_SECONDS, error.orig)
        return None
    return replica
