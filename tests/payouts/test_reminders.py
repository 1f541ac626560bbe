"""Reminders before each due date: a WeChat template message through the stand-in and an
in-app notice, once each; scheduled on rq and moved on time by a worker's scheduler."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from freezegun import freeze_time
from sqlalchemy import select
from wechatpy.exceptions import WeChatClientException

from app.campaigns.services import end_campaign
from app.extensions import db, jobs
from app.payouts import pledges, reminders
from app.payouts.errors import RetryLater
from app.payouts.models import PayoutNotice
from app.payouts.pledge_models import Instalment, Reminder
from app.payouts.tasks import pledge_tick
from app.wechat_standin.messages import sent_messages


@pytest.fixture()
def pledge(funded, patient, staff):
    with freeze_time("2026-12-01 02:00:00"):
        end_campaign(funded, "筹款期限已到", by_staff=staff)
        return pledges.create_pledge(funded.id, patient, total_fen=1_000_00, schedule="monthly",
                                     instalments=2, first_due=date(2027, 1, 15),
                                     destination="donors")


def _messages(standin, openid):
    return [m for m in sent_messages(standin.wsgi_app) if m["touser"] == openid]


def _notices(user_id):
    return db.session.scalars(select(PayoutNotice.body).where(
        PayoutNotice.user_id == user_id, PayoutNotice.kind == "pledge_reminder")).all()


def test_reminded_three_days_before_once(pledge, patient, standin):
    assert reminders.remind_at(date(2027, 1, 15)) == datetime(2027, 1, 12, 1, tzinfo=timezone.utc)
    with freeze_time("2027-01-12 00:59:00"):   # 08:59 in China: not yet
        assert pledge_tick()["reminded"] == 0
    with freeze_time("2027-01-12 01:00:00"):
        assert pledge_tick()["reminded"] == 1
        assert pledge_tick()["reminded"] == 0   # the next run sends nothing again
    sent = _messages(standin, patient.openid)
    assert len(sent) == 1
    assert sent[0]["data"]["keyword1"]["value"] == "第 1 期 ¥500"
    assert sent[0]["data"]["keyword2"]["value"] == "2027年01月15日"
    assert sent[0]["url"].endswith(f"/pledges/{pledge.id}")
    assert _notices(patient.id) == ["第 1 期 ¥500 将于 2027年01月15日 到期。按时还款，让善意继续传递。"]
    with freeze_time("2027-02-12 02:00:00"):   # the second instalment's turn
        assert pledge_tick()["reminded"] == 1
    assert len(_messages(standin, patient.openid)) == 2 and len(_notices(patient.id)) == 2


def test_a_wechat_failure_is_retried_without_a_second_notice(pledge, patient, standin,
                                                             monkeypatch):
    real = reminders.send_template
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise WeChatClientException(45009, "reach max api daily quota limit")
        return real(*args, **kwargs)

    monkeypatch.setattr(reminders, "send_template", flaky)
    instalment_id = db.session.scalar(select(Instalment.id).where(Instalment.seq == 1))
    with freeze_time("2027-01-13 03:00:00"):
        with pytest.raises(RetryLater):
            reminders.send(instalment_id)
        assert "45009" in db.session.scalar(select(Reminder.wechat_error))
        assert reminders.send(instalment_id) == "sent"
        assert reminders.send(instalment_id) == "sent"
    assert calls["n"] == 2 and len(_messages(standin, patient.openid)) == 1
    assert len(_notices(patient.id)) == 1


def test_scheduled_on_rq_and_sent_by_a_worker_with_its_scheduler(funded, patient, staff,
                                                                 standin):
    """Made in (frozen) 2025; the worker runs in real time, well past the reminder times, so
    its scheduler moves both scheduled jobs to the queue and the worker sends them."""
    if jobs.inline:
        pytest.skip("needs REDIS_URL: rq schedules only on Redis")
    from rq import SimpleWorker
    from rq.registry import ScheduledJobRegistry

    with freeze_time("2025-01-01 02:00:00"):
        end_campaign(funded, "筹款期限已到", by_staff=staff)
        pledge = pledges.create_pledge(funded.id, patient, total_fen=600_00,
                                       schedule="monthly", instalments=2,
                                       first_due=date(2025, 2, 1), destination="forward")
    queue = jobs.queue("notifications")
    scheduled = ScheduledJobRegistry(queue=queue).get_job_ids()
    ids = [i.id for i in pledge.instalments]
    assert sorted(scheduled) == sorted(reminders.job_id(i) for i in ids)
    SimpleWorker([queue], connection=jobs.redis).work(burst=True, with_scheduler=True)
    db.session.expire_all()
    assert db.session.scalar(select(Reminder.id).where(
        Reminder.wechat_sent_at.is_(None))) is None
    assert len(db.session.scalars(select(Reminder)).all()) == 2
    assert len(_messages(standin, patient.openid)) == 2


def test_the_standin_answers_template_messages_as_wechat_does(standin, db):
    from app.wechat.token_cache import token_cache

    url = f"{standin.base_url}cgi-bin/message/template/send"
    body = {"touser": "o_someone", "template_id": "t", "data": {"first": {"value": "x"}}}
    import requests

    assert requests.post(url, params={"access_token": "nope"}, json=body,
                         timeout=5).json()["errcode"] == 40001
    token = token_cache().access_token()
    answer = requests.post(url, params={"access_token": token}, json=body, timeout=5).json()
    assert answer["errcode"] == 0 and answer["msgid"]
    for bad, code in [({"touser": "x"}, 40003), ({"template_id": ""}, 40037),
                      ({"data": {"first": "x"}}, 47001)]:
        assert requests.post(url, params={"access_token": token}, json=body | bad,
                             timeout=5).json()["errcode"] == code
