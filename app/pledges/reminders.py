"""Reminders before each instalment's due date: a WeChat template message (模板消息) through
`wechatpy`'s `client.message.send_template`, and an in-app notice.

When a pledge is made, one rq job per instalment is scheduled for REMIND_DAYS_BEFORE days
before its due date at 09:00 China time (`enqueue_at`; a worker run with the scheduler moves it
to its queue on time). The periodic `pledge_tick` also sends whatever is due, so reminders go
out without Redis too, and none is lost if a scheduled job is. Sending is idempotent: one
Reminder row per instalment (unique), its notice in the same transaction, and the WeChat
message marked sent once it was accepted; a WeChat failure raises RetryLater for rq to retry.
"""
from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta, timezone

import requests
from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from wechatpy.exceptions import WeChatClientException

from app.core.chinatime import CHINA, china_today
from app.extensions import db, jobs
from app.models_base import as_utc, format_yuan, utcnow
from app.payouts.errors import RetryLater
from app.payouts.models import add_notice
from app.pledges.models import Instalment, Pledge, PledgeStatus, Reminder
from app.wechat import messages
from app.wechat.token_cache import TokenUnavailable

log = logging.getLogger(__name__)
REMIND_DAYS_BEFORE = 3
REMIND_AT = time(9, 0)
DEFAULT_TEMPLATE_ID = "xiangzhu_pledge_due"


def remind_at(due_on: date) -> datetime:
    """When to remind, in UTC: 09:00 China time, REMIND_DAYS_BEFORE days before."""
    day = due_on - timedelta(days=REMIND_DAYS_BEFORE)
    return datetime.combine(day, REMIND_AT, tzinfo=CHINA).astimezone(timezone.utc)


def job_id(instalment_id: int) -> str:
    return f"xz-pledge-reminder-{instalment_id}"


def schedule(pledge_id: int, now: datetime | None = None) -> int:
    """Schedule the reminder of every unpaid instalment on rq (nothing to do in-process: the
    periodic tick sends them). Returns how many were scheduled."""
    if jobs.inline:
        return 0
    from rq import Retry

    now = now or utcnow()
    queue = jobs.queue("notifications")
    count = 0
    for instalment_id, due_on in db.session.execute(
            select(Instalment.id, Instalment.due_on).where(
                Instalment.pledge_id == pledge_id, Instalment.paid_fen < Instalment.amount_fen)):
        when = remind_at(due_on)
        options = {"job_id": job_id(instalment_id), "retry": Retry(max=3, interval=[60, 300, 900])}
        if when <= now:
            queue.enqueue(send, instalment_id, **options)
        else:
            queue.enqueue_at(when, send, instalment_id, **options)
        count += 1
    return count


def due(now: datetime | None = None) -> list[int]:
    """Unpaid instalments of active pledges inside their reminder window, not yet reminded."""
    today = china_today(now)
    window_end = today + timedelta(days=REMIND_DAYS_BEFORE)
    sent = select(Reminder.instalment_id).where(Reminder.wechat_sent_at.is_not(None))
    return list(db.session.scalars(
        select(Instalment.id).join(Pledge, Pledge.id == Instalment.pledge_id)
        .where(Pledge.status == PledgeStatus.active, Instalment.due_on <= window_end,
               Instalment.due_on >= today, Instalment.paid_fen < Instalment.amount_fen,
               Instalment.id.not_in(sent))
        .order_by(Instalment.id)))


def send(instalment_id: int, now: datetime | None = None) -> str:
    """Remind once: the in-app notice, then the WeChat template message. Also the scheduled
    rq job (it takes an id and is idempotent)."""
    now = now or utcnow()
    instalment = db.session.get(Instalment, instalment_id)
    if instalment is None:
        return "missing"
    pledge = db.session.get(Pledge, instalment.pledge_id)
    if pledge.is_closed or instalment.is_paid:
        db.session.rollback()
        return "skipped"
    if remind_at(instalment.due_on) > as_utc(now):
        db.session.rollback()
        return "early"
    amount = instalment.amount_fen - instalment.paid_fen
    due_text = f"{instalment.due_on:%Y年%m月%d日}"
    url = f"/pledges/{pledge.id}"
    reminder = db.session.scalar(select(Reminder).where(Reminder.instalment_id == instalment_id))
    if reminder is None:
        reminder = Reminder(instalment_id=instalment_id)
        db.session.add(reminder)
        add_notice(pledge.user_id, "pledge_reminder", "诺言还款提醒",
                   f"第 {instalment.seq} 期 ¥{format_yuan(amount)} 将于 {due_text} 到期。"
                   "按时还款，让善意继续传递。", url)
        try:
            db.session.commit()
        except IntegrityError:  # a twin job got here first
            db.session.rollback()
            reminder = db.session.scalar(select(Reminder).where(
                Reminder.instalment_id == instalment_id))
    if reminder.wechat_sent_at is not None:
        db.session.rollback()
        return "sent"
    openid, reminder_id = pledge.user.openid, reminder.id
    db.session.rollback()
    data = {"first": {"value": "您的诺言还款日临近"},
            "keyword1": {"value": f"第 {instalment.seq} 期 ¥{format_yuan(amount)}"},
            "keyword2": {"value": due_text},
            "remark": {"value": "点击查看诺言并还款，感谢您把善意传递下去。"}}
    base = current_app.config.get("PUBLIC_BASE_URL", "").rstrip("/")
    try:
        msgid = send_template(openid, data, base + url)
    except (WeChatClientException, requests.RequestException, TokenUnavailable) as error:
        db.session.execute(update(Reminder).where(Reminder.id == reminder_id)
                           .values(wechat_error=str(error)[:300]))
        db.session.commit()
        raise RetryLater(f"template message for instalment {instalment_id}: {error}") from error
    db.session.execute(update(Reminder).where(Reminder.id == reminder_id).values(
        wechat_sent_at=utcnow(), wechat_msgid=msgid[:32], wechat_error=""))
    db.session.commit()
    return "sent"


def send_template(openid: str, data: dict, url: str) -> str:
    template_id = (current_app.config.get("WECHAT_TEMPLATE_IDS") or {}).get("pledge_due") \
        or DEFAULT_TEMPLATE_ID
    return messages.send_template(openid, template_id, data, url)
