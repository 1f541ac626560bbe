"""Page views wait in Redis and are written in batches; the rest of the funnel, and views while
Redis is away, are written at once."""
import pytest
from redis import Redis
from sqlalchemy import func, select

from app.extensions import db, jobs
from app.mutual_aid import funnel, view_buffer
from app.mutual_aid.models import FunnelEvent
from app.sharing import services as sharing
from app.sharing.models import ShareChannel
from tests.mutual_aid.test_funnel import share_link

VISITOR = "e" * 32


@pytest.fixture()
def buffered(app):
    if jobs.inline:
        pytest.skip("the buffer is a Redis list: needs REDIS_URL")
    app.config["FUNNEL_BUFFER_VIEWS"] = True
    jobs.redis.delete(view_buffer.KEY)
    yield
    app.config.pop("FUNNEL_BUFFER_VIEWS")
    jobs.redis.delete(view_buffer.KEY)


def views(campaign_id):
    return db.session.scalars(select(FunnelEvent).where(
        FunnelEvent.campaign_id == campaign_id, FunnelEvent.step == "campaign_view")
        .order_by(FunnelEvent.id)).all()


def test_a_page_view_waits_in_redis_until_the_flush(buffered, client, live_campaign, patient):
    link = share_link(live_campaign, patient)
    sharing.record_visit(link.token, ShareChannel.moments, None, VISITOR)
    funnel.record_step("campaign_view", live_campaign.id, visitor_id=VISITOR)
    assert client.get(f"/c/{live_campaign.id}").status_code == 200
    assert views(live_campaign.id) == [] and view_buffer.pending() == 2
    # A visit after the view does not change the channel the view came through.
    sharing.record_visit(link.token, ShareChannel.chat, None, VISITOR)

    assert funnel.flush_buffered_views(batch_size=1) == 2
    recorded = views(live_campaign.id)
    assert len(recorded) == 2 and view_buffer.pending() == 0
    assert recorded[0].visitor_id == VISITOR and recorded[0].channel == "moments"
    assert recorded[0].day == funnel.china_today()
    assert funnel.flush_buffered_views() == 0


def test_other_steps_are_never_buffered(buffered, live_campaign, donor):
    funnel.record_step("donate_started", live_campaign.id, user_id=donor.id)
    assert view_buffer.pending() == 0
    assert db.session.scalar(select(func.count()).select_from(FunnelEvent).where(
        FunnelEvent.step == "donate_started")) == 1


def test_with_redis_away_a_view_is_written_at_once(buffered, live_campaign, monkeypatch):
    # Nothing listens on port 1: the connection is refused, as when Redis is down.
    monkeypatch.setattr(jobs, "redis", Redis(host="127.0.0.1", port=1,
                                             socket_connect_timeout=0.2))
    funnel.record_step("campaign_view", live_campaign.id, visitor_id=VISITOR)
    assert [event.visitor_id for event in views(live_campaign.id)] == [VISITOR]
