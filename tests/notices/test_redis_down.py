"""Redis down when a change is told: the delivery jobs wait in the deferred-jobs outbox
(app/core/outbox.py), and once Redis is back each message is sent once — by the flushed job or
by the periodic sweep, whichever comes first, never by both."""
from __future__ import annotations

from datetime import timedelta

from redis import Redis
from rq import SimpleWorker

from app.campaigns.services import end_campaign
from app.core import outbox
from app.core.jobs import QUEUE_NAMES
from app.extensions import jobs
from app.models_base import utcnow
from app.wechat import messages
from app.wechat_standin.messages import sent_messages
from tests.notices.conftest import drain_jobs, owed, received
from tests.payouts.helpers import donate
from tests.test_jobs_outbox import (_free_port, deferred_rows,  # noqa: F401  (fixture)
                                    live_redis_url)


def test_told_while_redis_is_down_sent_once_when_it_is_back(
        client, campaign, patient, donors, staff, standin, monkeypatch, live_redis_url):
    for donor in donors:
        donate(client, campaign, donor, 100_00)
    drain_jobs()                               # what was told before Redis went away
    sent_messages(standin.wsgi_app).clear()
    monkeypatch.setattr(jobs, "redis", Redis(host="127.0.0.1", port=_free_port(),
                                             socket_connect_timeout=1))
    end_campaign(campaign.id, "发起人提前结束", by_staff=staff)
    assert set(owed("campaign_ended:").values()) == {"pending"}     # owed, not lost
    assert any(row.func_path.endswith("deliver_batch") for row in deferred_rows())
    assert sent_messages(standin.wsgi_app) == []

    back = Redis.from_url(live_redis_url)
    back.flushdb()
    monkeypatch.setattr(jobs, "redis", back)
    try:
        # the sweep gets there first for some, the flushed job finds them sent
        assert messages.deliver_due(utcnow() + timedelta(minutes=2))["sent"] == 4
        assert outbox.flush() >= 1
        SimpleWorker([jobs.queue(name) for name in QUEUE_NAMES], connection=back).work(
            burst=True)
    finally:
        back.flushdb()
    assert set(owed("campaign_ended:").values()) == {"sent"}
    assert received(standin, "campaign_status") == {
        patient.openid: 1, **{d.openid: 1 for d in donors}}
