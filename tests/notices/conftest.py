"""Fixtures of the notification tests: a verified campaign and its donors (through the real
services), and readers of what was owed (the outbox, the 通知 rows) and what the stand-in got."""
from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from app.auth.models import StaffRole
from app.core.jobs import QUEUE_NAMES
from app.extensions import db, jobs, limiter
from app.notices.models import Notice
from app.payouts import standin_custodian
from app.wechat.models import WechatMessage
from app.wechat_standin.messages import sent_messages
from tests.factories import StaffFactory, UserFactory
from tests.payouts.helpers import verified_campaign


@pytest.fixture(autouse=True)
def _clean(app, standin):
    """Openids repeat from test to test (the factories' sequences): forget what the stand-in
    was sent before."""
    limiter.reset()
    standin_custodian.clear_faults()
    sent_messages(standin.wsgi_app).clear()
    yield
    standin_custodian.clear_faults()


@pytest.fixture()
def finance(db):
    return StaffFactory(role=StaffRole.finance, display_name="财务小李")


@pytest.fixture()
def campaign(db, patient, staff, finance):
    return verified_campaign(patient, staff, finance)


@pytest.fixture()
def donors(db):
    return [UserFactory(nickname=name) for name in ("张三丰", "李四", "王五")]


def owed(prefix: str) -> dict[str, str]:
    """{dedupe key: status} of the WeChat messages whose key starts with `prefix`."""
    db.session.expire_all()
    return {key: status.value for key, status in db.session.execute(
        select(WechatMessage.dedupe_key, WechatMessage.status)
        .where(WechatMessage.dedupe_key.like(f"{prefix}%")))}


def notices_of(user_id: int, kind_prefix: str = "") -> list[Notice]:
    db.session.expire_all()
    return list(db.session.scalars(select(Notice).where(
        Notice.user_id == user_id, Notice.dedupe_key.like(f"{kind_prefix}%"))
        .order_by(Notice.id)))


def drain_jobs() -> None:
    """Run the queued jobs as a worker would (with Redis; in-process jobs have run already)."""
    if jobs.inline:
        return
    from rq import SimpleWorker

    SimpleWorker([jobs.queue(name) for name in QUEUE_NAMES], connection=jobs.redis).work(
        burst=True)


def received(standin, template: str) -> Counter:
    """How many `template` messages the stand-in accepted, per openid (once the queued
    deliveries ran)."""
    drain_jobs()
    return Counter(m["touser"] for m in sent_messages(standin.wsgi_app)
                   if m["template_id"] == f"xiangzhu_{template}")
