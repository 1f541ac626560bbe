"""Share links, visits and attribution: every write of the sharing feature, each one commit.

- `share_link_for` gives a person (user, or anonymous visitor cookie) their link for a campaign,
  creating it under the link they arrived through.
- `record_visit` is on the request path of every share link: a token look-up (cached, tokens
  never change) and one INSERT … ON CONFLICT DO NOTHING; nothing else.
- `attribute_donation(donation_id)` is called by the donations code once a donation is paid
  and committed: it credits the donor's latest share visit for that campaign and its ancestors.
  Sharing depends on donations, never the reverse.
"""
from __future__ import annotations

import logging
import secrets
import threading
from dataclasses import dataclass

from sqlalchemy import exists, literal, or_, select, update
from sqlalchemy.exc import IntegrityError

from app.auth import legal
from app.campaigns.models import Campaign
from app.core.chinatime import china_today
from app.donations.models import Donation
from app.donations.models import Donation   # sharing depends on donations, not the reverse
from app.extensions import db
from app.models_base import utcnow
from app.sharing.models import (MAX_DEPTH, ShareAttribution, ShareChannel, ShareLink,
                                ShareVisit, sharer_key)

log = logging.getLogger(__name__)

TOKEN_CACHE_SIZE = 50_000


class SharingError(Exception):
    """A share action we refuse; the message can be shown."""


@dataclass(frozen=True)
class ShareRef:
    """What a token stands for; immutable once created, so safe to cache in-process."""

    id: int
    token: str
    campaign_id: int
    sharer_key: str
    sharer_user_id: int | None


_refs: dict[str, ShareRef] = {}
_refs_lock = threading.Lock()


def _insert_ignore(model, **values):
    """INSERT … ON CONFLICT DO NOTHING in the session's dialect."""
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(model).values(**values).on_conflict_do_nothing()


def new_token() -> str:
    return secrets.token_urlsafe(8)   # 11 URL-safe characters, 64 random bits


def resolve_token(token: str) -> ShareRef | None:
    ref = _refs.get(token)
    if ref is not None:
        return ref
    if not token or len(token) > 16:
        return None
    row = db.session.execute(
        select(ShareLink.id, ShareLink.token, ShareLink.campaign_id, ShareLink.sharer_key,
               ShareLink.sharer_user_id).where(ShareLink.token == token)).first()
    if row is None:
        return None
    ref = ShareRef(*row)
    with _refs_lock:
        if len(_refs) >= TOKEN_CACHE_SIZE:
            _refs.clear()
        _refs[token] = ref
    return ref


def record_visit(token: str, channel: ShareChannel, user_id: int | None,
                 visitor_id: str | None) -> ShareRef | None:
    """Record one visit through a share link (once per visitor, link and day). Returns what the
    token stands for, or None for an unknown token. A sharer opening their own link is no visit."""
    ref = resolve_token(token)
    if ref is None:
        return None
    visitor = sharer_key(user_id, visitor_id)
    own = visitor == ref.sharer_key or (user_id is not None and user_id == ref.sharer_user_id)
    if visitor is None or own:
        return ref
    db.session.execute(_insert_ignore(
        ShareVisit, share_id=ref.id, campaign_id=ref.campaign_id, channel=channel.value,
        visitor_key=visitor, user_id=user_id, visitor_id=visitor_id, day=china_today(),
        created_at=utcnow()))
    db.session.commit()
    return ref


def link_visitor(user_id: int, visitor_id: str) -> None:
    """A visitor signed in: their anonymous visits and shares are theirs as a user from now on,
    so a donation they make is attributed to the link they arrived through before signing in."""
    db.session.execute(update(ShareVisit)
                       .where(ShareVisit.visitor_id == visitor_id, ShareVisit.user_id.is_(None))
                       .values(user_id=user_id))
    db.session.execute(update(ShareLink)
                       .where(ShareLink.sharer_visitor_id == visitor_id,
                              ShareLink.sharer_user_id.is_(None))
                       .values(sharer_user_id=user_id))
    db.session.commit()


def find_share_link(campaign_id: int, user_id: int | None,
                    visitor_id: str | None) -> ShareLink | None:
    key = sharer_key(user_id, visitor_id)
    if key is None:
        return None
    return db.session.scalar(select(ShareLink).where(ShareLink.campaign_id == campaign_id,
                                                     ShareLink.sharer_key == key))


def share_link_for(campaign: Campaign, user_id: int | None, visitor_id: str | None) -> ShareLink:
    """This person's share link for the campaign, created on first use."""
    if not campaign.is_public:
        raise SharingError("该筹款尚未公开，暂不能转发")
    key = sharer_key(user_id, visitor_id)
    if key is None:
        raise SharingError("无法识别转发人，请刷新页面后重试")
    existing = find_share_link(campaign.id, user_id, visitor_id)
    if existing is not None:
        return existing
    parent = None
    if user_id is None or user_id != campaign.organizer_id:
        parent = _arrival_link(campaign.id, user_id, visitor_id, key)
    link = ShareLink(token=new_token(), campaign_id=campaign.id, sharer_key=key,
                     sharer_user_id=user_id, sharer_visitor_id=None if user_id else visitor_id,
                     parent_id=parent.id if parent else None,
                     depth=parent.depth + 1 if parent else 0)
    db.session.add(link)
    try:
        db.session.commit()
    except IntegrityError:   # the same person's other tab created it a moment ago
        db.session.rollback()
        existing = find_share_link(campaign.id, user_id, visitor_id)
        if existing is None:
            raise
        return existing
    return link


def _arrival_link(campaign_id: int, user_id: int | None, visitor_id: str | None,
                  key: str) -> ShareLink | None:
    """The link through which this person last arrived at the campaign (not their own)."""
    who = []
    if user_id is not None:
        who.append(ShareVisit.user_id == user_id)
    if visitor_id:
        who.append(ShareVisit.visitor_id == visitor_id)
    candidate = db.session.scalar(
        select(ShareLink).join(ShareVisit, ShareVisit.share_id == ShareLink.id)
        .where(ShareVisit.campaign_id == campaign_id, or_(*who), ShareLink.sharer_key != key)
        .order_by(ShareVisit.created_at.desc(), ShareVisit.id.desc()).limit(1))
    if candidate is None:
        return None
    # Never under oneself: if this person is already up the chain, they start a new root.
    chain = ancestors(candidate.id)
    if any(item.sharer_key == key or (user_id is not None and item.sharer_user_id == user_id)
           for item in chain):
        return None
    return candidate


@dataclass(frozen=True)
class Inviter:
    """Who brought a person to a campaign, as that person is told (张老师邀请你一起帮助 TA)."""

    name: str
    avatar_url: str


UNNAMED_INVITER = "一位朋友"


def inviter_of(campaign_id: int, user_id: int | None, visitor_id: str | None) -> Inviter | None:
    """The sharer of the link this person last arrived through (never themselves), or None
    when they came on their own."""
    key = sharer_key(user_id, visitor_id)
    if key is None:
        return None
    link = _arrival_link(campaign_id, user_id, visitor_id, key)
    if link is None:
        return None
    sharer = link.sharer
    if sharer is not None and not legal.allows(sharer.id, legal.OptionalPurpose.SHARER_NAME):
        return Inviter(name=UNNAMED_INVITER, avatar_url="")   # they withdrew that consent
    named = sharer is not None and sharer.nickname and sharer.nickname != "微信用户"
    return Inviter(name=sharer.nickname if named else UNNAMED_INVITER,
                   avatar_url=(sharer.avatar_url or "") if sharer is not None else "")


@dataclass(frozen=True)
class ChainLink:
    id: int
    level: int
    sharer_key: str
    sharer_user_id: int | None


def ancestors(share_id: int) -> list[ChainLink]:
    """The link itself (level 0), its parent (1), … up to the root, by one recursive query."""
    links = ShareLink.__table__
    chain = (select(links.c.id, links.c.parent_id, links.c.sharer_key, links.c.sharer_user_id,
                    literal(0).label("level"))
             .where(links.c.id == share_id).cte("chain", recursive=True))
    up = links.alias("up")
    chain = chain.union_all(
        select(up.c.id, up.c.parent_id, up.c.sharer_key, up.c.sharer_user_id,
               (chain.c.level + 1).label("level"))
        .where(up.c.id == chain.c.parent_id, chain.c.level < MAX_DEPTH))
    rows = db.session.execute(select(chain.c.id, chain.c.level, chain.c.sharer_key,
                                     chain.c.sharer_user_id).order_by(chain.c.level)).all()
    return [ChainLink(*row) for row in rows]


def attribute_donation(donation_id: int, visitor_id: str | None = None) -> int:
    """Credit a paid donation to the share link its donor last arrived through, and to every
    ancestor of that link. Idempotent (run it again and nothing changes); returns how many
    links were credited now. Call it after the donation's transaction has committed."""
    donation = db.session.get(Donation, donation_id)
    if donation is None or donation.paid_at is None:
        return 0
    if db.session.scalar(select(exists().where(ShareAttribution.donation_id == donation_id))):
        return 0
    user_id = donation.user_id
    who = []
    if user_id is not None:
        who.append(ShareVisit.user_id == user_id)
    if visitor_id:
        who.append(ShareVisit.visitor_id == visitor_id)
    if not who:
        return 0
    moment = donation.paid_at
    visit = db.session.execute(
        select(ShareVisit.share_id, ShareVisit.channel)
        .where(ShareVisit.campaign_id == donation.campaign_id, or_(*who),
               ShareVisit.created_at <= moment)
        .order_by(ShareVisit.created_at.desc(), ShareVisit.id.desc()).limit(1)).first()
    if visit is None:
        return 0
    credited = 0
    now = utcnow()
    channel = visit.channel.value if isinstance(visit.channel, ShareChannel) else visit.channel
    for link in ancestors(visit.share_id):
        if user_id is not None and link.sharer_user_id == user_id:
            continue   # nobody is credited for their own donation
        inserted = db.session.execute(_insert_ignore(
            ShareAttribution, donation_id=donation_id, share_id=link.id,
            campaign_id=donation.campaign_id, level=link.level, channel=channel,
            amount_fen=donation.amount_fen, created_at=now).returning(ShareAttribution.id))
        credited += len(inserted.all())
    db.session.commit()
    return credited



def recent_paid_donation_ids(days: int) -> list[int]:
    """Paid donations of the last `days` days that no share has been credited with yet."""
    from datetime import timedelta

    since = utcnow() - timedelta(days=days)
    credited = select(ShareAttribution.donation_id)
    return list(db.session.scalars(
        select(Donation.id).where(Donation.paid_at.is_not(None), Donation.paid_at >= since,
                                  Donation.id.not_in(credited)).order_by(Donation.id)))
