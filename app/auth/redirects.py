"""Where to send someone after signing in: only back to pages of this site."""
from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from flask import request


def safe_next(value: str | None, default: str) -> str:
    """A relative URL on this site taken from `next`, or `default`.

    Absolute URLs are accepted only for our own host (flask-login and some browsers hand those
    over) and are reduced to their path, so the result never leaves the site.
    """
    if not value or any(ord(ch) < 32 or ch == "\\" for ch in value):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        if parts.scheme not in ("http", "https") or parts.netloc != request.host:
            return default
    path = parts.path
    if not path.startswith("/") or path.startswith("//"):
        return default
    return urlunsplit(("", "", path, parts.query, "")) or default


def current_path() -> str:
    """This request's path and query, for a `next` parameter (full_path ends in '?' without
    a query)."""
    return request.full_path.rstrip("?")
