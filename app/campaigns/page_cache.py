"""The campaign page as it is shared, kept for a few seconds and regenerated once per change.

Most of a viral campaign's views come from people who see the same page: anonymous visitors,
and signed-in donors, whose page differs only in a few personal bits. The rendered HTML is kept
while nothing the page shows about money has moved: the campaign's row and its custody totals
are read in one statement and the figures they hold (raised, donations, status, days left,
balance, channel fees) are the cache key — for anonymous visitors by each process at most once a
second (CAMPAIGN_FIGURES_CACHE_SECONDS), for signed-in people in their own request, so a donor
who has just paid sees their donation. What carries no money (updates, attestations, receipts)
can lag by at most CAMPAIGN_PAGE_CACHE_SECONDS (default TTL_SECONDS; 0 turns the cache off, and
it is off under TESTING unless set).

Variants (`variant`): anonymous; signed in, by whether the person shows their WeChat profile.
A signed-in page is rendered for a stand-in viewer who is nobody (SharedViewer), so nothing of
the person who caused the render can be in it; the personal bits are then theirs per request:
their CSRF token and a fresh checkout key are swapped in. Whoever the page would show
personally — a donor in its donor list, an attester, someone who muted the campaign — the
organizer, staff, and anyone with a message waiting (flash) get a page rendered for them alone.

Single flight (single_flight.py): when the key changes, one request per campaign and variant
renders the new page — within the process (a lock per key) and across processes (SET NX in
Redis, where rendered pages are shared too) — while the others are served the previous page,
or wait for the new one when there is none.
"""
from __future__ import annotations

import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import current_app, request, session
from flask_wtf.csrf import generate_csrf
from sqlalchemy import String, bindparam, cast, exists, func, select

from app.campaigns import single_flight
from app.campaigns.models import PUBLIC_STATUSES, Campaign, CampaignStatus
from app.core.templating import days_left
from app.extensions import db
from app.ledger.models import Account, AccountTotal
from app.notices.models import CampaignMute

TTL_SECONDS = 15.0
FIGURES_SECONDS = 1.0
MAX_PAGES = 256
CSRF_PLACEHOLDER = "\x00csrf\x00"
CHECKOUT_PLACEHOLDER = "\x00checkout\x00"
CHECKOUT_KEY = re.compile(r'(name="checkout_key" value=")([^"]*)(")')
CAMPAIGNS = Campaign.__table__

# The campaign's money-bearing figures and its custody account's cached totals, in one round
# trip (built once: this runs on every cached view).
FIGURES = (
    select(CAMPAIGNS.c.status, CAMPAIGNS.c.raised_fen, CAMPAIGNS.c.donation_count,
           CAMPAIGNS.c.target_fen, CAMPAIGNS.c.ends_at, CAMPAIGNS.c.updated_at,
           CAMPAIGNS.c.organizer_id,
           select(func.coalesce(func.sum(AccountTotal.amount_fen), 0))
           .join(Account, Account.id == AccountTotal.account_id)
           .where(Account.code == "campaign:" + cast(CAMPAIGNS.c.id, String) + ":custody")
           .scalar_subquery().label("custody_fen"))
    .where(CAMPAIGNS.c.id == bindparam("campaign_id")))
# A signed-in person's: the same, and whether they muted the campaign (their page is then their
# own), still one round trip.
FIGURES_FOR_VIEWER = FIGURES.add_columns(
    exists().where(CampaignMute.user_id == bindparam("viewer_id"),
                   CampaignMute.campaign_id == CAMPAIGNS.c.id).label("muted"))


@dataclass(frozen=True)
class CachedPage:
    key: tuple
    html: str
    expires: float
    personal: frozenset[int] = field(default_factory=frozenset)  # users the page names as "我"


class SharedViewer:
    """Whom a signed-in variant is rendered for: signed in, nobody (id 0 is no one's), with the
    variant's choice of showing a WeChat profile."""
    is_authenticated = True
    is_active = True
    is_anonymous = False
    is_staff = False
    id = 0
    nickname = ""
    avatar_url = ""

    def __init__(self, has_profile: bool):
        self.has_profile = has_profile

    def get_id(self) -> str:
        return "0"


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


def variant(viewer) -> tuple | None:
    """Which shared page this viewer gets, or None for a page of their own."""
    if request.method != "GET" or "_flashes" in session or ttl_seconds() <= 0:
        return None
    if not viewer.is_authenticated:
        return ("anonymous",)
    if getattr(viewer, "is_staff", False):
        return None
    return ("signed_in", bool(viewer.has_profile))


def cacheable(viewer) -> bool:
    """Only the pages people see alike (kept for the callers that ask just this)."""
    return variant(viewer) is not None


def figures_seconds() -> float:
    """CAMPAIGN_FIGURES_CACHE_SECONDS: how long one process reuses a campaign's figures read for
    anonymous visitors (default FIGURES_SECONDS; 0 reads them on every view, the default under
    TESTING). An anonymous visitor may see the total of a second ago — and a viral campaign's
    anonymous views then cost no database round trip at all."""
    default = 0 if current_app.testing else FIGURES_SECONDS
    return float(current_app.config.get("CAMPAIGN_FIGURES_CACHE_SECONDS", default))


def _figures(campaign_id: int, viewer_id: int | None):
    """Anonymous visitors' figures are reused for figures_seconds(); a signed-in person's are
    read in their request (with their mute)."""
    seconds = figures_seconds() if viewer_id is None else 0
    now = _clock()
    if seconds > 0:
        known = _figures_read.get(campaign_id)
        if known is not None and known[0] > now:
            return known[1]
    statement = FIGURES if viewer_id is None else FIGURES_FOR_VIEWER
    # The statement is named so a replica-routed request reads it from the replica too
    # (app/core/replica.py): figures and page then come from the same database.
    row = (db.session.connection(bind_arguments={"clause": statement})
           .execute(statement, {"campaign_id": campaign_id, "viewer_id": viewer_id}).first())
    if seconds > 0:
        with _lock:
            _figures_read[campaign_id] = (now + seconds, row)
            while len(_figures_read) > MAX_PAGES:
                _figures_read.pop(next(iter(_figures_read)))
    return row


def figures_key(campaign_id: int, load_jssdk: bool, kind: tuple = ("anonymous",),
                viewer_id: int | None = None) -> tuple | None:
    """What the page shows about money; None when the campaign is not public, or the viewer is
    its organizer or muted it (their page is their own)."""
    row = _figures(campaign_id, viewer_id)
    if row is None or CampaignStatus(row.status) not in PUBLIC_STATUSES:
        return None
    if viewer_id is not None and (viewer_id == row.organizer_id or row.muted):
        return None
    return (campaign_id, request.full_path, load_jssdk, kind, row.status, row.raised_fen,
            row.donation_count, row.target_fen, days_left(row.ends_at), row.updated_at,
            int(row.custody_fen))


def _slot(key: tuple) -> tuple:
    return key[:4]


def _personalised(page: CachedPage, viewer_id: int | None) -> str | None:
    if viewer_id is not None and viewer_id in page.personal:
        return None
    html = page.html.replace(CSRF_PLACEHOLDER, generate_csrf())
    if CHECKOUT_PLACEHOLDER in html:
        html = html.replace(CHECKOUT_PLACEHOLDER, secrets.token_urlsafe(16))
    return html


def lookup(key: tuple, viewer_id: int | None = None) -> str | None:
    """The kept page for this key, for this viewer, or None."""
    page = _pages.get(_slot(key))
    if page is None or page.key != key or page.expires < _clock():
        return None
    return _personalised(page, viewer_id)


def store(key: tuple, html: str, personal: frozenset[int] = frozenset()) -> CachedPage:
    """Keep a freshly rendered page (the rendering request's CSRF token and checkout keys are
    swapped for placeholders)."""
    html = html.replace(generate_csrf(), CSRF_PLACEHOLDER)
    html = CHECKOUT_KEY.sub(lambda m: m.group(1) + CHECKOUT_PLACEHOLDER + m.group(3), html)
    page = CachedPage(key=key, html=html, expires=_clock() + ttl_seconds(), personal=personal)
    _keep(page)
    single_flight.share(key, page)
    return page


def _keep(page: CachedPage) -> None:
    with _lock:
        _pages[_slot(page.key)] = page
        _pages.move_to_end(_slot(page.key))
        while len(_pages) > MAX_PAGES:
            _pages.popitem(last=False)


def serve(key: tuple, render: Callable[[], tuple[str, frozenset[int]]],
          viewer_id: int | None = None) -> str | None:
    """The page for `key`: kept here, or by another process, or rendered once (`render()` →
    html and the users it shows personally) while the others get the previous page. None when
    the page would name this viewer: theirs is rendered for them alone."""
    found = _pages.get(_slot(key))
    if found is not None and found.key == key and found.expires >= _clock():
        return _personalised(found, viewer_id)
    shared = single_flight.shared(key)
    if shared is not None:
        _keep(shared)
        return _personalised(shared, viewer_id)
    stale = found

    def regenerate() -> CachedPage:
        html, personal = render()
        return store(key, html, personal)

    def kept() -> CachedPage | None:
        page = _pages.get(_slot(key))
        return page if page is not None and page.key == key else None

    page = single_flight.once(key, regenerate, stale, kept, _keep)
    return _personalised(page, viewer_id)


def clear() -> None:
    with _lock:
        _pages.clear()
        _figures_read.clear()
    single_flight.clear()
