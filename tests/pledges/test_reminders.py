"""Reminders before each due date: a WeChat template message through the stand-in and an
in-app notice, once each; scheduled on rq and moved on time by a worker's scheduler."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from wechatpy.exceptions import WeChatClientException

from app.campaigns.services import end_campaign
from app.extensions import db, jobs
from app.payouts.errors import RetryLater
from app.payouts.models import PayoutNotice
from app.pledges import reminders
from app.pledges import services as pledges
from app.pledges.models import Instalment, Reminder
from app.pledges.tasks import pledge_tick
from app.wechat_standin.messages import sent_messages
from tests.clock import china_time, days_ahead, now, travel_to


@pytest.fixture()
def pledge(funded, patient, staff):
    end_campaign(funded, "筹款期限已到", by_staff=staff)
    return pledges.create_pledge(funded.id, patient, total_fen=1_000_00, schedule="monthly",
                                 instalments=2, first_due=days_ahead(45), destination="donors")


def _messages(standin, openid):
    """The pledge reminders `openid` was sent (the campaign behind the pledge told them more)."""
    return [m for m in sent_messages(standin.wsgi_app) if m["touser"] == openid
            and m["template_id"] == "xiangzhu_pledge_due"]


def _notices(user_id):
    return db.session.scalars(select(PayoutNotice.body).where(
        PayoutNotice.user_id == user_id, PayoutNotice.kind == "pledge_reminder")).all()


def test_reminded_three_days_before_once(pledge, patient, standin):
    first_due, second_due = (i.due_on for i in pledge.instalments)
    reminder_day = first_due - timedelta(days=3)
    assert reminders.remind_at(first_due) == china_time(reminder_day, 9)
    with travel_to(china_time(reminder_day, 8, 59)):   # 08:59 in China: not yet
        assert pledge_tick()["reminded"] == 0
    with travel_to(china_time(reminder_day, 9)):
        assert pledge_tick()["reminded"] == 1
        assert pledge_tick()["reminded"] == 0   # the next run sends nothing again
    sent = _messages(standin, patient.openid)
    assert len(sent) == 1
    assert sent[0]["data"]["keyword1"]["value"] == "第 1 期 ¥500"
    assert sent[0]["data"]["keyword2"]["value"] == f"{first_due:%Y年%m月%d日}"
    assert sent[0]["url"].endswith(f"/pledges/{pledge.id}")
    assert _notices(patient.id) == [
        f"第 1 期 ¥500 将于 {first_due:%Y年%m月%d日} 到期。按时还款，让善意继续传递。"]
    with travel_to(china_time(second_due - timedelta(days=3), 10)):   # the second one's turn
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
    first = db.session.scalars(select(Instalment).where(Instalment.seq == 1)).one()
    instalment_id = first.id
    with travel_to(china_time(first.due_on - timedelta(days=2), 11)):
        with pytest.raises(RetryLater):
            reminders.send(instalment_id)
        assert "45009" in db.session.scalar(select(Reminder.wechat_error))
        assert reminders.send(instalment_id) == "sent"
        assert reminders.send(instalment_id) == "sent"
    assert calls["n"] == 2 and len(_messages(standin, patient.openid)) == 1
    assert len(_notices(patient.id)) == 1


def test_scheduled_on_rq_and_sent_by_a_worker_with_its_scheduler(funded, patient, staff,
                                                                 standin):
    """Made (in frozen time) four months ago; the worker runs in real time, well past the
    reminder times, so its scheduler moves both scheduled jobs to the queue and the worker
    sends them."""
    if jobs.inline:
        pytest.skip("needs REDIS_URL: rq schedules only on Redis")
    from rq import SimpleWorker
    from rq.registry import ScheduledJobRegistry

    made = now() - timedelta(days=120)
    with travel_to(made):
        end_campaign(funded, "筹款期限已到", by_staff=staff)
        pledge = pledges.create_pledge(funded.id, patient, total_fen=600_00,
                                       schedule="monthly", instalments=2,
                                       first_due=days_ahead(31), destination="forward")
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
