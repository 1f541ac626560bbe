"""Telling people what happened, once: an in-app notice and a WeChat template message for each
(event, person), written in the transaction of the change they tell of.

    notices.tell(user_id, f"campaign_approved:{campaign.id}:{round_.number}", Message(...))
    db.session.commit()
    notices.send_told()          # after the commit: deliver now (else deliver_due within a minute)

A person's key is f"{event}:{user_id}": the notice's and the message's unique key, so an event
told again (a replayed payment notice, a job run twice) adds no row to either. A fan-out to a
campaign's donors is one INSERT … ON CONFLICT DO NOTHING per chunk for each table.

Who belongs to a campaign's audience is known by the features that hold them (donations knows
its donors): each registers `register_campaign_audience(app, name, fn)`, so the campaign's own
services can tell its donors without importing them.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import quote

from flask import Flask
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from app.auth import legal
from app.auth.models import User
from app.core import pii
from app.core.plugins import registry
from app.extensions import db
from app.notices.models import CampaignMute, Notice
from app.wechat import messages

CHUNK = 500
TOLD_KEYS = "xiangzhu.told_keys"   # session.info: keys owed in this transaction, for send_told
LOGIN_PATH = "/auth/login"


@dataclass(frozen=True)
class Message:
    """What one event tells: the in-app notice and its WeChat template message."""

    kind: str                   # the notice's kind, e.g. "campaign", "withdrawal"
    title: str                  # ≤ 60
    body: str                   # ≤ 300; personal data in it is masked (app/core/pii.py),
                                #   as it is in the template message's words
    url: str                    # the page it opens, a path on this site, e.g. "/c/12"
    template: str | None = None  # the WeChat template (app/notices/templates.py); None: in-app only
    values: dict[str, str] = field(default_factory=dict)


def signed_in_link(path: str) -> str:
    """A link for a WeChat message: through the sign-in (silent inside WeChat, at once for
    someone signed in), then to `path`."""
    return f"{LOGIN_PATH}?next={quote(path, safe='/')}"


def tell(user_id: int | None, event: str, message: Message) -> list[str]:
    """Tell one person of `event`, in the caller's transaction. Returns the key owed."""
    if user_id is None:
        return []
    return tell_many([user_id], event, message)


def tell_many(user_ids: Iterable[int], event: str, message: Message,
              unless_muted: int | None = None) -> list[str]:
    """Tell each person of `event` (the same message), in the caller's transaction; with
    `unless_muted` (a campaign id), not those who muted that campaign. Returns the keys."""
    wanted = sorted(set(user_ids))
    keys: list[str] = []
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start:start + CHUNK]
        deleted = set(db.session.scalars(select(User.id).where(   # 注销账号: told no more
            User.id.in_(chunk), User.deleted_at.is_not(None))))
        if deleted:
            chunk = [user_id for user_id in chunk if user_id not in deleted]
        if unless_muted is not None:
            muted = set(db.session.scalars(select(CampaignMute.user_id).where(
                CampaignMute.campaign_id == unless_muted, CampaignMute.user_id.in_(chunk))))
            muted |= legal.users_without(legal.OptionalPurpose.CAMPAIGN_NEWS, set(chunk))
            chunk = [user_id for user_id in chunk if user_id not in muted]
        if chunk:
            keys += _tell_chunk(chunk, event, message)
    db.session.info.setdefault(TOLD_KEYS, []).extend(keys)
    return keys


def _tell_chunk(user_ids: list[int], event: str, message: Message) -> list[str]:
    keyed = {user_id: f"{event}:{user_id}"[:120] for user_id in user_ids}
    db.session.execute(_insert_ignore(Notice, "dedupe_key"), [
        {"user_id": user_id, "dedupe_key": key, "kind": message.kind[:32],
         "title": pii.mask(message.title)[:60], "body": pii.mask(message.body)[:300],
         "url": message.url[:200]}
        for user_id, key in keyed.items()])
    if message.template:
        openids = dict(db.session.execute(select(User.id, User.openid).where(
            User.id.in_(user_ids))).all())
        messages.queue_messages(message.template, message.values, signed_in_link(message.url),
                                [(key, openids.get(user_id)) for user_id, key in keyed.items()])
    return list(keyed.values())


def _insert_ignore(model, *unique: str):
    """INSERT … ON CONFLICT (unique) DO NOTHING in the session's dialect."""
    dialect = db.session.connection().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(model).on_conflict_do_nothing(index_elements=list(unique))


def send_told() -> None:
    """After the commit: deliver the messages this session owed (a no-op when none)."""
    keys = db.session.info.pop(TOLD_KEYS, [])
    if keys:
        messages.enqueue_delivery(keys)


def forget_told() -> None:
    """After a rollback: nothing of what was owed was kept."""
    db.session.info.pop(TOLD_KEYS, None)


# --- audiences -----------------------------------------------------------------------------------

def register_campaign_audience(app: Flask, name: str,
                               members: Callable[[int], list[int]]) -> None:
    """`members(campaign_id)` lists the user ids of e.g. a campaign's "donors"."""
    registry("campaign_audiences", dict, app)[name] = members


def campaign_audience(name: str, campaign_id: int) -> list[int]:
    members = registry("campaign_audiences", dict).get(name)
    return members(campaign_id) if members else []


# --- muting --------------------------------------------------------------------------------------

def set_muted(user_id: int, campaign_id: int, muted: bool) -> bool:
    """不再接收此筹款的消息, or receive them again. Idempotent; one transaction. False when
    there is no such campaign."""
    campaigns = db.metadata.tables["campaigns"]   # by name: campaigns imports this package
    if db.session.scalar(select(campaigns.c.id).where(campaigns.c.id == campaign_id)) is None:
        db.session.rollback()
        return False
    if muted:
        db.session.execute(_insert_ignore(CampaignMute, "user_id", "campaign_id"),
                           [{"user_id": user_id, "campaign_id": campaign_id}])
    else:
        db.session.execute(delete(CampaignMute).where(CampaignMute.user_id == user_id,
                                                      CampaignMute.campaign_id == campaign_id))
    db.session.commit()
    return True

