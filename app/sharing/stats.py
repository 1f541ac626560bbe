"""What shares brought: a sharer's own figures, the organizer's ranking of sharers (爱心大使) and
the breakdown by channel. Read-only; counts come from GROUP BY over visits and attributions."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import case, func, literal, or_, select

from app.auth import legal
from app.auth.legal import OptionalPurpose
from app.auth.models import User
from app.extensions import db
from app.sharing.models import (MAX_DEPTH, ShareAttribution, ShareChannel, ShareLink,
                                ShareVisit, sharer_key)


@dataclass
class SharerStats:
    token: str | None = None
    visits: int = 0               # people who opened this sharer's own links
    visits_total: int = 0         # … plus those who opened links of people further down
    donations: int = 0            # donations credited to the sharer, any level
    amount_fen: int = 0
    direct_donations: int = 0     # donations made right after opening the sharer's link
    direct_amount_fen: int = 0
    reach: int = 0                # how many levels further the campaign travelled
    resharers: int = 0            # people who shared on after arriving through this sharer


@dataclass
class AmbassadorRow:
    name: str
    user_id: int | None
    visits: int = 0
    donations: int = 0
    amount_fen: int = 0
    direct_amount_fen: int = 0
    resharers: int = 0
    link_ids: list[int] = field(default_factory=list)


@dataclass
class ChannelRow:
    channel: ShareChannel
    visits: int = 0
    donations: int = 0
    amount_fen: int = 0

    @property
    def label(self) -> str:
        return self.channel.label


def _own_link_ids(campaign_id: int, user_id: int | None, visitor_id: str | None) -> list[int]:
    key = sharer_key(user_id, visitor_id)
    if key is None:
        return []
    who = [ShareLink.sharer_key == key]
    if user_id is not None:
        who.append(ShareLink.sharer_user_id == user_id)
    return list(db.session.scalars(select(ShareLink.id).where(ShareLink.campaign_id == campaign_id,
                                                              or_(*who))))


def _subtree(root_ids: list[int]):
    links = ShareLink.__table__
    tree = (select(links.c.id, literal(0).label("level")).where(links.c.id.in_(root_ids))
            .cte("subtree", recursive=True))
    down = links.alias("down")
    return tree.union_all(select(down.c.id, (tree.c.level + 1).label("level"))
                          .where(down.c.parent_id == tree.c.id, tree.c.level < MAX_DEPTH))


def sharer_stats(campaign_id: int, user_id: int | None, visitor_id: str | None) -> SharerStats:
    ids = _own_link_ids(campaign_id, user_id, visitor_id)
    stats = SharerStats()
    if not ids:
        return stats
    key = sharer_key(user_id, visitor_id)
    stats.token = db.session.scalar(select(ShareLink.token).where(
        ShareLink.id.in_(ids)).order_by((ShareLink.sharer_key == key).desc(), ShareLink.id))
    stats.visits = db.session.scalar(
        select(func.count()).select_from(ShareVisit).where(ShareVisit.share_id.in_(ids))) or 0
    tree = _subtree(ids)
    stats.visits_total = db.session.scalar(
        select(func.count()).select_from(ShareVisit)
        .where(ShareVisit.share_id.in_(select(tree.c.id)))) or 0
    reach, resharers = db.session.execute(
        select(func.max(tree.c.level),
               func.count(func.distinct(case((tree.c.level > 0, tree.c.id)))))).one()
    stats.reach, stats.resharers = reach or 0, resharers or 0
    # One row per donation (a donation credits a person once, at its nearest level).
    rows = db.session.execute(
        select(ShareAttribution.donation_id, func.min(ShareAttribution.level),
               func.max(ShareAttribution.amount_fen))
        .where(ShareAttribution.share_id.in_(ids)).group_by(ShareAttribution.donation_id)).all()
    for _donation_id, level, amount in rows:
        stats.donations += 1
        stats.amount_fen += amount
        if level == 0:
            stats.direct_donations += 1
            stats.direct_amount_fen += amount
    return stats


def ambassador_ranking(campaign_id: int, limit: int = 50) -> list[AmbassadorRow]:
    """Sharers by the money their shares brought (their own links and everything downstream),
    then by donations and visits."""
    links = db.session.execute(
        select(ShareLink.id, ShareLink.sharer_key, ShareLink.sharer_user_id, User.nickname)
        .outerjoin(User, User.id == ShareLink.sharer_user_id)
        .where(ShareLink.campaign_id == campaign_id)).all()
    people: dict[str, AmbassadorRow] = {}
    person_of: dict[int, str] = {}
    unnamed = legal.users_without(OptionalPurpose.SHARER_NAME,
                                  {user_id for _, _, user_id, _ in links if user_id is not None})
    for link_id, key, user_id, nickname in links:
        person = f"u:{user_id}" if user_id is not None else key
        name = "一位朋友" if user_id in unnamed else nickname or "微信用户"
        row = people.setdefault(person, AmbassadorRow(name=name, user_id=user_id))
        row.link_ids.append(link_id)
        person_of[link_id] = person
    if not people:
        return []
    for share_id, count in db.session.execute(
            select(ShareVisit.share_id, func.count()).where(ShareVisit.campaign_id == campaign_id)
            .group_by(ShareVisit.share_id)):
        people[person_of[share_id]].visits += count
    for share_id, count in db.session.execute(
            select(ShareLink.parent_id, func.count()).where(ShareLink.campaign_id == campaign_id,
                                                            ShareLink.parent_id.is_not(None))
            .group_by(ShareLink.parent_id)):
        people[person_of[share_id]].resharers += count
    for share_id, donations, amount, direct in db.session.execute(
            select(ShareAttribution.share_id, func.count(), func.sum(ShareAttribution.amount_fen),
                   func.sum(case((ShareAttribution.level == 0, ShareAttribution.amount_fen),
                                 else_=0)))
            .where(ShareAttribution.campaign_id == campaign_id)
            .group_by(ShareAttribution.share_id)):
        row = people[person_of[share_id]]
        row.donations += donations
        row.amount_fen += amount or 0
        row.direct_amount_fen += direct or 0
    ranked = [row for row in people.values() if row.visits or row.donations or row.resharers]
    ranked.sort(key=lambda r: (-r.amount_fen, -r.donations, -r.visits, -r.resharers))
    return ranked[:limit]


def channel_breakdown(campaign_id: int) -> list[ChannelRow]:
    rows = {channel: ChannelRow(channel) for channel in ShareChannel}
    for channel, count in db.session.execute(
            select(ShareVisit.channel, func.count()).where(ShareVisit.campaign_id == campaign_id)
            .group_by(ShareVisit.channel)):
        rows[ShareChannel(channel)].visits = count
    for channel, count, amount in db.session.execute(
            select(ShareAttribution.channel, func.count(), func.sum(ShareAttribution.amount_fen))
            .where(ShareAttribution.campaign_id == campaign_id, ShareAttribution.level == 0)
            .group_by(ShareAttribution.channel)):
        rows[ShareChannel(channel)].donations = count
        rows[ShareChannel(channel)].amount_fen = amount or 0
    return list(rows.values())
