"""One render of a campaign page per change (page_cache.serve): the first request that misses a
key renders it; the others are served the previous page meanwhile, or wait for the new one when
there is no previous page.

Within a process a lock per key decides who renders; across processes a short-lived Redis key
(SET NX PX) does, and the rendered page is shared through Redis so the other processes take it
instead of rendering it again. Without Redis (or while it is away) each process renders once.
"""
from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
from collections.abc import Callable

from app.core.jobs import REDIS_DOWN_ERRORS
from app.extensions import jobs

PREFIX = "xiangzhu:campaign-page:"
CLAIM_MILLISECONDS = 5000     # a render never takes this long; a crashed one frees the key
WAIT_SECONDS = 3.0            # at most, for a page that has no previous one to serve
POLL_SECONDS = 0.02

_in_flight: dict[tuple, threading.Event] = {}
_lock = threading.Lock()


def _name(key: tuple) -> str:
    return PREFIX + hashlib.sha1(repr(key).encode()).hexdigest()


def share(key: tuple, page) -> None:
    """Offer a rendered page to the other processes for as long as it is good."""
    redis = jobs.redis
    if redis is None:
        return
    seconds = page.expires - time.monotonic()
    if seconds <= 0:
        return
    payload = json.dumps({"html": page.html, "personal": sorted(page.personal),
                          "until": time.time() + seconds})
    try:
        redis.set(_name(key), payload, px=int(seconds * 1000))
    except REDIS_DOWN_ERRORS:
        return


def shared(key: tuple):
    """The page another process rendered for this key, or None."""
    from app.campaigns.page_cache import CachedPage

    redis = jobs.redis
    if redis is None:
        return None
    try:
        raw = redis.get(_name(key))
    except REDIS_DOWN_ERRORS:
        return None
    if raw is None:
        return None
    data = json.loads(raw)
    left = data["until"] - time.time()
    if left <= 0:
        return None
    return CachedPage(key=key, html=data["html"], expires=time.monotonic() + left,
                      personal=frozenset(data["personal"]))


def _claim(key: tuple) -> str | None:
    """A token when this process is to render the page; None when another one is at it."""
    token = secrets.token_hex(8)
    redis = jobs.redis
    if redis is None:
        return token
    try:
        claimed = redis.set(_name(key) + ":render", token, nx=True, px=CLAIM_MILLISECONDS)
    except REDIS_DOWN_ERRORS:
        return token
    return token if claimed else None


def _release(key: tuple, token: str) -> None:
    redis = jobs.redis
    if redis is None:
        return
    name = _name(key) + ":render"
    try:
        if redis.get(name) == token.encode():
            redis.delete(name)
    except REDIS_DOWN_ERRORS:
        return


def _wait_shared(key: tuple):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        page = shared(key)
        if page is not None:
            return page
        time.sleep(POLL_SECONDS)
    return None


def once(key: tuple, render: Callable, stale, kept: Callable, keep: Callable):
    """The page for `key`: rendered here by one request, the previous page (`stale`) for the
    others meanwhile, or — with none — the new one once it is there (`kept()` in this process,
    `shared` from another), rendered again only if it never comes."""
    with _lock:
        event = _in_flight.get(key)
        leader = event is None
        if leader:
            event = _in_flight[key] = threading.Event()
    if not leader:
        if stale is not None:
            return stale
        event.wait(WAIT_SECONDS)
        return kept() or render()
    try:
        token = _claim(key)
        if token is not None:
            try:
                return render()
            finally:
                _release(key, token)
        if stale is not None:
            return stale
        page = _wait_shared(key)
        if page is None:
            return render()
        keep(page)
        return page
    finally:
        with _lock:
            _in_flight.pop(key, None)
        event.set()


def clear() -> None:
    """Forget every shared page (tests; a deploy need not: keys carry the figures)."""
    with _lock:
        _in_flight.clear()
    redis = jobs.redis
    if redis is None:
        return
    try:
        for name in redis.scan_iter(PREFIX + "*"):
            redis.delete(name)
    except REDIS_DOWN_ERRORS:
        return
