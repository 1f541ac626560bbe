"""WeChat template messages (模板消息) of the service account, each sent once.

A feature tells someone of a change by `queue_message(key, openid, template, fields, url)` in
the transaction that makes the change: the message row commits with it or not at all, and its
unique key makes a second telling of the same change (a replayed notice, a twin job) a no-op.
After the commit, `enqueue_delivery(ids)`; `deliver_due` (periodic) sends whatever is still
pending and takes back messages whose sender died while sending.

Sending is at least once only in one narrow case: a sender that dies after WeChat accepted the
message but before `sent` was committed (WeChat has no idempotency key for template messages).
Every other retry — a failed call, a stalled job, a second job — is refused by the row's state.

Templates are the 类目模板 a deployment applies for in the 公众平台; a feature declares each
with `register_message_template` (our name, its title, its keyword fields in WeChat's names, e.g.
`thing1`, `amount2`, `time3`); the deployment gives each one's template id in
`WECHAT_TEMPLATE_IDS` (docs/DEPLOYMENT.md). Without one, real WeChat is not asked (`skipped`);
the stand-in accepts `xiangzhu_<name>`.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from flask import Flask, current_app
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from wechatpy.exceptions import WeChatClientException

from app.core import pii
from app.core.plugins import registry
from app.extensions import db, jobs
from app.models_base import utcnow
from app.wechat.clients import api_client
from app.wechat.models import MessageStatus, WechatMessage
from app.wechat.token_cache import TokenUnavailable, token_cache

log = logging.getLogger(__name__)
S = MessageStatus
MAX_ATTEMPTS = 8
STALE_SENDING = timedelta(minutes=10)   # a sender this quiet has died
RETRY_AFTER = timedelta(minutes=1)
QUEUE_CHUNK = 500      # rows per INSERT of a fan-out
DELIVERY_CHUNK = 100   # messages per delivery job
# WeChat's answers that no retry can change: unfollowed or blocked (43004, 43101), bad openid
# (40003), template deleted or not ours (40037), field invalid (47003).
PERMANENT_ERRCODES = frozenset({40003, 40037, 43004, 43101, 47003})
# A class template's field values are at most 20 characters (thing) and 32 (character_string).
FIELD_LIMITS = {"thing": 20, "character_string": 32, "phrase": 5, "amount": 20, "time": 32}
# Fields that carry words (a title, an update's first line, a reason): personal data typed into
# them is masked as on public pages. Amounts, times and codes are left as they are.
FREE_TEXT_FIELDS = frozenset({"thing", "phrase"})


@dataclass(frozen=True)
class MessageTemplate:
    name: str                  # ours, ≤ 32 characters, e.g. "transfer_waiting"
    title: str                 # what to apply for, e.g. 待领取款项提醒
    fields: tuple[str, ...]    # WeChat's keyword names, in order


def register_message_template(app: Flask, template: MessageTemplate) -> None:
    registry("message_templates", dict, app)[template.name] = template


def message_templates() -> list[MessageTemplate]:
    return list(registry("message_templates", dict).values())


def _template(name: str) -> MessageTemplate:
    return registry("message_templates", dict)[name]


def template_id(name: str) -> str | None:
    configured = (current_app.config.get("WECHAT_TEMPLATE_IDS") or {}).get(name)
    if configured:
        return configured
    return f"xiangzhu_{name}" if current_app.config.get("WECHAT_STANDIN") else None


def _clip(field: str, value: str) -> str:
    """The value as sent: masked first (so clipping cannot leave a number too short to be
    recognised, yet readable), then cut to the field's limit."""
    kind = field.rstrip("0123456789")
    limit = FIELD_LIMITS.get(kind, 20)
    value = str(value)
    if kind in FREE_TEXT_FIELDS:
        value = pii.mask(value)
    return value if len(value) <= limit else value[:limit - 1] + "…"


def queue_message(key: str, openid: str | None, template: str, values: dict[str, str],
                  url: str = "") -> None:
    """Owe `openid` one message about `key`, in the caller's transaction (which commits it).
    Nobody to send to (no openid): nothing owed, the in-app notice is the record."""
    if not openid:
        return
    spec = _template(template)
    unknown = set(values) - set(spec.fields)
    if unknown:
        raise ValueError(f"template {template} has no fields {sorted(unknown)}")
    fields = {field: _clip(field, values[field]) for field in spec.fields if field in values}
    if db.session.scalar(select(WechatMessage.id).where(WechatMessage.dedupe_key == key)):
        return
    db.session.add(WechatMessage(dedupe_key=key[:120], openid=openid, template=template,
                                 fields=fields, url=url[:300]))


def queue_messages(template: str, values: dict[str, str], url: str,
                   recipients: list[tuple[str, str | None]]) -> None:
    """The same message owed to many, as (key, openid) pairs, in the caller's transaction: one
    INSERT … ON CONFLICT DO NOTHING per chunk, so keys owed before are left as they were."""
    spec = _template(template)
    unknown = set(values) - set(spec.fields)
    if unknown:
        raise ValueError(f"template {template} has no fields {sorted(unknown)}")
    fields = {field: _clip(field, values[field]) for field in spec.fields if field in values}
    rows = [{"dedupe_key": key[:120], "openid": openid, "template": template, "fields": fields,
             "url": url[:300]} for key, openid in recipients if openid]
    conn = db.session.connection()
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = insert(WechatMessage).on_conflict_do_nothing(index_elements=["dedupe_key"])
    for start in range(0, len(rows), QUEUE_CHUNK):
        db.session.execute(statement, rows[start:start + QUEUE_CHUNK])


def ids_for(keys: list[str]) -> list[int]:
    found: list[int] = []
    for start in range(0, len(keys), QUEUE_CHUNK):
        found += db.session.scalars(select(WechatMessage.id).where(
            WechatMessage.dedupe_key.in_(keys[start:start + QUEUE_CHUNK]),
            WechatMessage.status == S.pending))
    return found


def enqueue_delivery(keys: list[str]) -> None:
    """After the commit that owed them: send these messages (by their keys) now, a job per
    DELIVERY_CHUNK of them."""
    ids = ids_for(keys)
    db.session.rollback()
    for start in range(0, len(ids), DELIVERY_CHUNK):
        chunk = ids[start:start + DELIVERY_CHUNK]
        if len(chunk) == 1:
            jobs.enqueue(deliver, chunk[0], queue="notifications")
        else:
            jobs.enqueue(deliver_batch, chunk, queue="notifications")


def deliver_batch(message_ids: list[int]) -> dict[str, int]:
    """Send a chunk of owed messages (the rq job of a fan-out; each message is claimed alone)."""
    counts: dict[str, int] = {}
    for message_id in message_ids:
        outcome = deliver(message_id)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def _claim(message_id: int) -> WechatMessage | None:
    """pending → sending, by one sender only (a guarded UPDATE)."""
    claimed = db.session.execute(
        update(WechatMessage).where(WechatMessage.id == message_id,
                                    WechatMessage.status == S.pending)
        .values(status=S.sending, attempts=WechatMessage.attempts + 1, updated_at=utcnow()))
    db.session.commit()
    if claimed.rowcount != 1:
        return None
    return db.session.get(WechatMessage, message_id, populate_existing=True)


def _finish(message_id: int, **values) -> None:
    db.session.execute(update(WechatMessage).where(WechatMessage.id == message_id,
                                                   WechatMessage.status == S.sending)
                       .values(updated_at=utcnow(), **values))
    db.session.commit()


def deliver(message_id: int) -> str:
    """Send one owed message (the rq job; takes an id, safe to run twice)."""
    message = _claim(message_id)
    if message is None:
        status = db.session.scalar(select(WechatMessage.status).where(
            WechatMessage.id == message_id))
        db.session.rollback()
        return status.value if status else "missing"
    template = template_id(message.template)
    if template is None:
        log.warning("wechat message %s: no template id configured for %s", message_id,
                    message.template)
        _finish(message_id, status=S.skipped, last_error="未配置模板 ID")
        return S.skipped.value
    openid, fields, url, attempts = message.openid, dict(message.fields), message.url, \
        message.attempts
    db.session.rollback()
    data = {field: {"value": value} for field, value in fields.items()}
    base = current_app.config.get("PUBLIC_BASE_URL", "").rstrip("/")
    try:
        msgid = send_template(openid, template, data, base + url if url else "")
    except WeChatClientException as error:
        permanent = error.errcode in PERMANENT_ERRCODES or attempts >= MAX_ATTEMPTS
        _finish(message_id, status=S.failed if permanent else S.pending,
                last_error=f"{error.errcode} {error.errmsg}"[:300])
        return S.failed.value if permanent else S.pending.value
    except (requests.RequestException, TokenUnavailable) as error:
        status = S.failed if attempts >= MAX_ATTEMPTS else S.pending
        _finish(message_id, status=status, last_error=str(error)[:300])
        return status.value
    _finish(message_id, status=S.sent, msgid=msgid[:32], sent_at=utcnow(), last_error="")
    return S.sent.value


def deliver_due(now: datetime | None = None) -> dict[str, int]:
    """Periodic: send what is still owed, and take back messages whose sender died."""
    now = now or utcnow()
    db.session.execute(update(WechatMessage).where(
        WechatMessage.status == S.sending, WechatMessage.updated_at < now - STALE_SENDING)
        .values(status=S.pending, updated_at=now - RETRY_AFTER))   # due at once
    db.session.commit()
    due = list(db.session.scalars(select(WechatMessage.id).where(
        WechatMessage.status == S.pending, WechatMessage.updated_at <= now - RETRY_AFTER)
        .order_by(WechatMessage.id).limit(500)))
    db.session.rollback()
    return deliver_batch(due)


def send_template(openid: str, template_id_: str, data: dict, url: str) -> str:
    """One template message through wechatpy, with the shared cached access token.
    Raises WeChatClientException (WeChat's errcode), requests' errors or TokenUnavailable."""
    token = token_cache().access_token()
    client = api_client()
    client.session.set(client.access_token_key, token)
    result = client.message.send_template(openid, template_id_, data, url=url or None)
    return str(result.get("msgid", ""))
