"""The campaign page as anonymous visitors see it, kept per process for a few seconds.

Most of a viral campaign's views come from people who are not signed in, and they all see the
same page but for their CSRF token. Rendering it costs a dozen queries and the template; this
keeps the rendered HTML and serves it again while nothing the page shows about money has moved:
the campaign's row and its custody totals are read in one statement — by each process at most
once a second (CAMPAIGN_FIGURES_CACHE_SECONDS) — and the figures they hold (raised, donations,
status, days left, balance, channel fees) are the cache key. A paid donation therefore shows
within a second; only what carries no money (updates,
attestations, receipts of a payout) can lag, by at most CAMPAIGN_PAGE_CACHE_SECONDS (default
TTL_SECONDS; 0 turns the cache off, and it is off under TESTING unless set). Signed-in people,
staff, and anyone with a message waiting (flash) always get a fresh render.

The CSRF token of the request that rendered the page is swapped for a placeholder when stored,
and for the current visitor's own token when served.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from flask import current_app, request, session
from flask_wtf.csrf import generate_csrf
from sqlalchemy import String, bindparam, cast, func, select

from app.campaigns.models import PUBLIC_STATUSES, Campaign, CampaignStatus
from app.core.templating import days_left
from app.extensions import db
from app.ledger.models import Account, AccountTotal

TTL_SECONDS = 15.0
FIGURES_SECONDS = 1.0
MAX_PAGES = 256
CSRF_PLACEHOLDER = "\x00csrf\x00"
CAMPAIGNS = Campaign.__table__

# The campaign's money-bearing figures and its custody account's cached totals, in one round
# trip (built once: this runs on every anonymous view).
FIGURES = (
    select(CAMPAIGNS.c.status, CAMPAIGNS.c.raised_fen, CAMPAIGNS.c.donation_count,
           CAMPAIGNS.c.target_fen, CAMPAIGNS.c.ends_at, CAMPAIGNS.c.updated_at,
           select(func.coalesce(func.sum(AccountTotal.amount_fen), 0))
           .join(Account, Account.id == AccountTotal.account_id)
           .where(Account.code == "campaign:" + cast(CAMPAIGNS.c.id, String) + ":custody")
           .scalar_subquery().label("custody_fen"))
    .where(CAMPAIGNS.c.id == bindparam("campaign_id")))


@dataclass(frozen=True)
class CachedPage:
    key: tuple
    html: str
    expires: float


_pages: OrderedDict[tuple, CachedPage] = OrderedDict()
_figures_read: dict[int, tuple[float, object]] = {}   # campaign id → (good until, row)
_lock = threading.Lock()


def _clock() -> float:
    return time.monotonic()


def ttl_seconds() -> float:
    """CAMPAIGN_PAGE_CACHE_SECONDS (0: off). Off by default under TESTING, where a test reads
    the page right after an action that moves no money and expects to see it."""
    default = 0 if current_app.testing else TTL_SECONDS
    return float(current_app.config.get("CAMPAIGN_PAGE_CACHE_SECONDS", default))


def cacheable(viewer) -> bool:
    """Only the page every anonymous visitor sees alike."""
    return (not viewer.is_authenticated and "_flashes" not in session
            and request.method == "GET" and ttl_seconds() > 0)


def figures_seconds() -> float:
    """CAMPAIGN_FIGURES_CACHE_SECONDS: how long one process reuses a campaign's figures read for
    anonymous visitors (default FIGURES_SECONDS; 0 reads them on every view, the default under
    TESTING). A donor who just paid is signed in and always sees a fresh page; an anonymous
    visitor may see the total of a second ago — and a viral campaign's page views then cost no
    database round trip at all."""
    default = 0 if current_app.testing else FIGURES_SECONDS
    return float(current_app.config.get("CAMPAIGN_FIGURES_CACHE_SECONDS", default))


def _figures(campaign_id: int):
    seconds = figures_seconds()
    now = _clock()
    if seconds > 0:
        known = _figures_read.get(campaign_id)
        if known is not None and known[0] > now:
            return known[1]
    # The statement is named so a replica-routed request reads it from the replica too
    # (app/core/replica.py): figures and page then come from the same database.
    row = (db.session.connection(bind_arguments={"clause": FIGURES})
           .execute(FIGURES, {"campaign_id": campaign_id}).first())
    if seconds > 0:
        with _lock:
            _figures_read[campaign_id] = (now + seconds, row)
            while len(_figures_read) > MAX_PAGES:
                _figures_read.pop(next(iter(_figures_read)))
    return row


def figures_key(campaign_id: int, load_jssdk: bool) -> tuple | None:
    """What the page shows about money (read at most FIGURES_SECONDS ago); None when the
    campaign is not public."""
    row = _figures(campaign_id)
    if row is None or CampaignStatus(row.status) not in PUBLIC_STATUSES:
        return None
    return (campaign_id, request.full_path, load_jssdk, row.status, row.raised_fen,
            row.donation_count, row.target_fen, days_left(row.ends_at), row.updated_at,
            int(row.custody_fen))


def lookup(key: tuple) -> str | None:
    page = _pages.get(key[:3])
    if page is None or page.key != key or page.expires < _clock():
        return None
    return page.html.replace(CSRF_PLACEHOLDER, generate_csrf())


def store(key: tuple, html: str) -> None:
    token = generate_csrf()
    page = CachedPage(key=key, html=html.replace(token, CSRF_PLACEHOLDER),
                      expires=_clock() + ttl_seconds())
    with _lock:
        _pages[key[:3]] = page
        _pages.move_to_end(key[:3])
        while len(_pages) > MAX_PAGES:
            _pages.popitem(last=False)


def clear() -> None:
    with _lock:
        _pages.clear()
        _figures_read.clear()
