"""The app's WeChat access token and JS-SDK jsapi ticket, cached and refreshed before expiry.

Both live 7200 s at WeChat, and each fetch of a new one invalidates the previous one a few
minutes later, so every process must share one copy and only one process may fetch at a time.

- With REDIS_URL: wechatpy's RedisStorage (values carry their TTL) and a Redis lock.
- Embedded default: `DatabaseStorage`, a wechatpy SessionStorage over the `wechat_tokens` table
  (expired rows read as missing), and a row lock on that table.

wechatpy itself keeps the access token under `{appid}_access_token` and checks the jsapi ticket
against a separate `{appid}_jsapi_ticket_expires_at` key; we keep both in that shape (plus an
`_expires_at` key for the token) so wechatpy's own calls read what we cached. A value is
refreshed once it has less than REFRESH_MARGIN seconds left: by the periodic job
`refresh_wechat_tokens` normally, or by the first request that finds it due.
"""
from __future__ import annotations

import json
import logging
import time
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Callable, Iterator

import requests
from flask import current_app
from redis.exceptions import LockError
from sqlalchemy import DateTime, String, Text, delete, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, mapped_column
from wechatpy.exceptions import WeChatClientException
from wechatpy.session import SessionStorage
from wechatpy.session.redisstorage import RedisStorage

from app.extensions import db, jobs
from app.core.jobs import REDIS_DOWN_ERRORS
from app.models_base import as_utc, utcnow

log = logging.getLogger(__name__)

REFRESH_MARGIN = 600          # refresh when less than ten minutes are left
LOCK_TIMEOUT = 30             # a lock holder that died frees the lock after this long
LOCK_WAIT = 15                # how long a second process waits for the first one's refresh
PREFIX = "wechatpy"
FETCH_ERRORS = (WeChatClientException, requests.RequestException, KeyError, ValueError)


class TokenUnavailable(Exception):
    """No valid token or ticket could be had (WeChat unreachable and nothing cached)."""


class WeChatToken(db.Model):
    """One cached value of wechatpy's session storage (embedded default; Redis otherwise)."""

    __tablename__ = "wechat_tokens"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


def _upsert(conn: Connection, key: str, value: str, expires_at: datetime | None) -> None:
    table = WeChatToken.__table__
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(table).values(key=key, value=value, expires_at=expires_at, updated_at=utcnow())
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.key],
        set_={"value": stmt.excluded.value, "expires_at": stmt.excluded.expires_at,
              "updated_at": stmt.excluded.updated_at})
    conn.execute(stmt)


class DatabaseStorage(SessionStorage):
    """wechatpy session storage in a table, honouring TTLs like RedisStorage does.

    It works on its own short transactions (never the request's session), or inside the
    transaction of a connection it is given (the one holding the refresh lock).
    """

    def __init__(self, connection: Connection | None = None, prefix: str = PREFIX):
        self.connection = connection
        self.prefix = prefix

    def key_name(self, key: str) -> str:
        return f"{self.prefix}:{key}"

    @contextmanager
    def _conn(self) -> Iterator[Connection]:
        if self.connection is not None:
            yield self.connection
            return
        with db.engine.begin() as conn:
            yield conn

    def get(self, key, default=None):
        table = WeChatToken.__table__
        with self._conn() as conn:
            row = conn.execute(select(table.c.value, table.c.expires_at)
                               .where(table.c.key == self.key_name(key))).first()
        if row is None:
            return default
        if row.expires_at is not None and as_utc(row.expires_at) <= utcnow():
            return default
        return json.loads(row.value)

    def set(self, key, value, ttl=None):
        if value is None:
            return
        expires_at = utcnow() + timedelta(seconds=int(ttl)) if ttl else None
        with self._conn() as conn:
            _upsert(conn, self.key_name(key), json.dumps(value), expires_at)

    def delete(self, key):
        table = WeChatToken.__table__
        with self._conn() as conn:
            conn.execute(delete(table).where(table.c.key == self.key_name(key)))


class TokenCache:
    """Access token and jsapi ticket for one appid, shared by every process."""

    def __init__(self, appid: str, client_factory: Callable[..., object],
                 redis=None, clock: Callable[[], float] = time.time,
                 margin: int = REFRESH_MARGIN):
        self.appid = appid
        self.client_factory = client_factory
        self.redis = redis
        self.clock = clock
        self.margin = margin

    # -- keys, in wechatpy's own naming
    @property
    def token_key(self) -> str:
        return f"{self.appid}_access_token"

    @property
    def ticket_key(self) -> str:
        return f"{self.appid}_jsapi_ticket"

    def storage(self) -> SessionStorage:
        if self.redis is not None:
            return RedisStorage(self.redis, prefix=PREFIX)
        return DatabaseStorage()

    # -- public
    def access_token(self) -> str:
        return self._get(self.token_key, self._fetch_token)

    def jsapi_ticket(self) -> str:
        return self._get(self.ticket_key, self._fetch_ticket)

    def refresh_due(self) -> list[str]:
        """Refresh whatever is within the margin of expiry (the periodic job). Returns names."""
        refreshed = []
        for key, fetch in ((self.token_key, self._fetch_token),
                           (self.ticket_key, self._fetch_ticket)):
            if self._fresh(self.storage(), key) is None:
                self._get(key, fetch)
                refreshed.append(key)
        return refreshed

    # -- internals
    def _fresh(self, storage: SessionStorage, key: str) -> str | None:
        value = storage.get(key)
        expires_at = storage.get(f"{key}_expires_at", 0) or 0
        if value and expires_at - self.clock() > self.margin:
            return value
        return None

    def _usable(self, storage: SessionStorage, key: str) -> str | None:
        """Not fresh, maybe, but still accepted by WeChat: better than nothing."""
        value = storage.get(key)
        expires_at = storage.get(f"{key}_expires_at", 0) or 0
        return value if value and expires_at > self.clock() else None

    def _get_cached_or_fetched(self, key: str, fetch: Callable[[SessionStorage], str]) -> str:
        value = self._fresh(self.storage(), key)
        if value:
            return value
        try:
            with self._lock() as locked:
                # Someone else may have refreshed while we waited for the lock.
                value = self._fresh(locked, key)
                if value:
                    return value
                try:
                    return fetch(locked)
                except FETCH_ERRORS:
                    fallback = self._usable(locked, key)
                    if fallback:
                        log.warning("WeChat %s refresh failed; using the cached one", key,
                                    exc_info=True)
                        return fallback
                    raise
        except FETCH_ERRORS as exc:
            raise TokenUnavailable(f"cannot fetch {key}: {exc}") from exc

    def _get(self, key: str, fetch: Callable[[SessionStorage], str]) -> str:
        try:
            return self._get_cached_or_fetched(key, fetch)
        except REDIS_DOWN_ERRORS as exc:
            # Fetching around the shared cache would invalidate the token other processes
            # hold; pages share with WeChat's default card until Redis is back.
            raise TokenUnavailable(f"token cache unreachable: {exc}") from exc

    def _store(self, storage: SessionStorage, key: str, value: str, expires_in: int) -> str:
        expires_at = int(self.clock()) + expires_in
        storage.set(key, value, expires_in)
        storage.set(f"{key}_expires_at", expires_at, expires_in)
        return value

    def _fetch_token(self, storage: SessionStorage) -> str:
        client = self.client_factory(session=storage)
        result = client.fetch_access_token()   # wechatpy also writes it to storage, with TTL
        return self._store(storage, self.token_key, result["access_token"],
                           int(result.get("expires_in", 7200)))

    def _fetch_ticket(self, storage: SessionStorage) -> str:
        token = self._fresh(storage, self.token_key) or self._fetch_token(storage)
        client = self.client_factory(session=storage)
        # Passing the token explicitly: wechatpy would otherwise fetch one of its own.
        result = client.get("ticket/getticket", params={"type": "jsapi", "access_token": token})
        return self._store(storage, self.ticket_key, result["ticket"],
                           int(result.get("expires_in", 7200)))

    @contextmanager
    def _lock(self) -> Iterator[SessionStorage]:
        if self.redis is not None:
            lock = self.redis.lock(f"{PREFIX}:{self.appid}:refresh-lock", timeout=LOCK_TIMEOUT,
                                   blocking_timeout=LOCK_WAIT)
            if not lock.acquire():
                raise TokenUnavailable("another process holds the WeChat token refresh lock")
            try:
                yield self.storage()
            finally:
                try:
                    lock.release()
                except LockError as exc:   # held past LOCK_TIMEOUT: already expired
                    log.warning("token refresh lock already released: %s", exc)
            return
        lock_key = f"{PREFIX}:{self.appid}:refresh-lock"
        with db.engine.begin() as conn:
            _ensure_lock_row(conn, lock_key)
        table = WeChatToken.__table__
        with db.engine.begin() as conn:
            # Writing the row takes its lock (PostgreSQL) or the database's write lock (SQLite)
            # until this transaction ends; a second process waits here, then re-reads.
            conn.execute(update(table).where(table.c.key == lock_key)
                         .values(updated_at=utcnow()))
            yield DatabaseStorage(conn)


def _ensure_lock_row(conn: Connection, lock_key: str) -> None:
    table = WeChatToken.__table__
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    conn.execute(insert(table).values(key=lock_key, value="null", expires_at=None,
                                      updated_at=utcnow())
                 .on_conflict_do_nothing(index_elements=[table.c.key]))


def token_cache() -> TokenCache:
    """The cache for the configured app, on Redis when jobs use Redis, else the database."""
    from app.wechat.clients import api_client

    return TokenCache(current_app.config["WECHAT_APPID"], api_client, redis=jobs.redis)


def refresh_wechat_tokens() -> list[str]:
    """Periodic job: keep the token and ticket fresh so pages never wait for WeChat."""
    try:
        return token_cache().refresh_due()
    except TokenUnavailable:
        log.exception("WeChat token refresh failed")
        return []
