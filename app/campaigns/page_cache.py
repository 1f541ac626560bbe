"""The campaign page as anonymous visitors see it, kept per process for a few seconds.

Most of a viral campaign's views come from people who are not signed in, and they all see the
same page but for their CSRF token. Rendering it costs a dozen queries and the template; this
keeps the rendered HTML and serves it again while nothing the page shows about money has moved:
every request reads the campaign's row and its custody totals afresh (one statement), and the
figures they hold — raised, donations, status, days left, balance, channel fees — are the
cache key. A paid donation therefore shows at once; only what carries no money (updates,
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
_lock = threading.Lock()


def ttl_seconds() -> float:
    """CAMPAIGN_PAGE_CACHE_SECONDS (0: off). Off by default under TESTING, where a test reads
    the page right after an action that moves no money and expects to see it."""
    default = 0 if current_app.testing else TTL_SECONDS
    return float(current_app.config.get("CAMPAIGN_PAGE_CACHE_SECONDS", default))


def cacheable(viewer) -> bool:
    """Only the page every anonymous visitor sees alike."""
    return (not viewer.is_authenticated and "_flashes" not in session
            and request.method == "GET" and ttl_seconds() > 0)


def figures_key(campaign_id: int, load_jssdk: bool) -> tuple | None:
    """What the page shows about money, read now; None when the campaign is not public."""
    row = db.session.connection().execute(FIGURES, {"campaign_id": campaign_id}).first()
    if row is None or CampaignStatus(row.status) not in PUBLIC_STATUSES:
        return None
    return (campaign_id, request.full_path, load_jssdk, row.status, row.raised_fen,
            row.donation_count, row.target_fen, days_left(row.ends_at), row.updated_at,
            int(row.custody_fen))


def lookup(key: tuple) -> str | None:
    page = _pages.get(key[:3])
    if page is None or page.key != key or page.expires < time.monotonic():
        return None
    return page.html.replace(CSRF_PLACEHOLDER, generate_csrf())


def store(key: tuple, html: str) -> None:
    token = generate_csrf()
    page = CachedPage(key=key, html=html.replace(token, CSRF_PLACEHOLDER),
                      expires=time.monotonic() + ttl_seconds())
    with _lock:
        _pages[key[:3]] = page
        _pages.move_to_end(key[:3])
        while len(_pages) > MAX_PAGES:
            _pages.popitem(last=False)


def clear() -> None:
    with _lock:
        _pages.clear()
