"""The campaign page as anonymous visitors see it is served from a per-process cache while no
money moves; money shows at once, each visitor keeps their own CSRF token, and the view is
still counted (funnel) every time."""
import re

import pytest
from flask import g
from sqlalchemy import func, select

from app.campaigns import page_cache
from app.extensions import db
from app.mutual_aid.models import FunnelEvent
from tests.factories import UserFactory
from tests.payments.helpers import acknowledged, notice_for, post_notice, start

CSRF = re.compile(r'data-csrf="([^"]+)"')
CHECKOUT = re.compile(r'name="checkout_key" value="([^"]+)"')


@pytest.fixture(autouse=True)
def _cache_on(app, monkeypatch):
    monkeypatch.setitem(app.config, "CAMPAIGN_PAGE_CACHE_SECONDS", 15)
    page_cache.clear()
    yield
    page_cache.clear()


def test_off_unless_configured_under_testing(app, live_campaign, monkeypatch):
    monkeypatch.delitem(app.config, "CAMPAIGN_PAGE_CACHE_SECONDS")
    assert app.test_client().get(f"/c/{live_campaign.id}").status_code == 200
    assert page_cache._pages == {}


def _views(campaign_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(FunnelEvent).where(
        FunnelEvent.campaign_id == campaign_id, FunnelEvent.step == "campaign_view"))


def test_anonymous_visitors_share_one_render_but_not_a_csrf_token(app, live_campaign):
    first, second = app.test_client(), app.test_client()
    one = first.get(f"/c/{live_campaign.id}").get_data(as_text=True)
    assert len(page_cache._pages) == 1
    g.pop("csrf_token", None)  # the tests' app context outlives a request; a server's does not
    two = second.get(f"/c/{live_campaign.id}").get_data(as_text=True)
    token_one, token_two = CSRF.search(one).group(1), CSRF.search(two).group(1)
    assert token_one != token_two and page_cache.CSRF_PLACEHOLDER not in two
    # each gets a checkout key of their own too (the donate form's idempotency key)
    assert CHECKOUT.search(one).group(1) != CHECKOUT.search(two).group(1)
    assert (CHECKOUT.sub("", one.replace(token_one, ""))
            == CHECKOUT.sub("", two.replace(token_two, "")))
    # The token served from the cache is the visitor's own: their share card request passes.
    reply = second.post(f"/c/{live_campaign.id}/share/link", json={"url": ""},
                        headers={"X-CSRFToken": token_two})
    assert reply.status_code == 200
    assert _views(live_campaign.id) == 2   # both views counted, cached or not


def test_a_paid_donation_shows_at_once(app, client, live_campaign, donor):
    before = app.test_client().get(f"/c/{live_campaign.id}").get_data(as_text=True)
    assert "¥<strong>0</strong>" in before
    assert acknowledged(post_notice(client, notice_for(start(live_campaign, donor, 88_00))))
    after = app.test_client().get(f"/c/{live_campaign.id}").get_data(as_text=True)
    assert "¥<strong>88</strong>" in after and "1 次" in after


def test_signed_in_donors_share_a_page_rendered_for_nobody(app, live_campaign, donor):
    other = UserFactory(nickname="另一位爱心人士")
    one = app.test_client(user=donor).get(f"/c/{live_campaign.id}").get_data(as_text=True)
    g.pop("csrf_token", None)
    two = app.test_client(user=other).get(f"/c/{live_campaign.id}").get_data(as_text=True)
    assert len(page_cache._pages) == 1
    assert CHECKOUT.search(one).group(1) != CHECKOUT.search(two).group(1)
    assert page_cache.CHECKOUT_PLACEHOLDER not in two and "退出" in two
    assert "登录后证实" not in two and "我来证实" in two


def test_a_donor_the_page_names_gets_their_own(app, client, live_campaign, donor):
    assert acknowledged(post_notice(client, notice_for(start(live_campaign, donor, 88_00))))
    stranger = app.test_client(user=UserFactory(nickname="路人"))
    assert "mine-tag" not in stranger.get(f"/c/{live_campaign.id}").get_data(as_text=True)
    mine = app.test_client(user=donor).get(f"/c/{live_campaign.id}").get_data(as_text=True)
    assert "mine-tag" in mine


def test_the_organizer_and_staff_get_their_own(app, live_campaign, patient, staff):
    assert "修改信息" not in app.test_client().get(f"/c/{live_campaign.id}").get_data(
        as_text=True)
    owner = app.test_client(user=patient).get(f"/c/{live_campaign.id}").get_data(as_text=True)
    assert "这是您发起的筹款" in owner
    assert app.test_client(user=staff).get(f"/c/{live_campaign.id}").status_code == 200
    assert len(page_cache._pages) == 1   # the anonymous page only


def test_pages_not_public_are_never_cached(app, live_campaign):
    from app.campaigns.models import CampaignStatus

    live_campaign.status = CampaignStatus.submitted
    db.session.commit()
    assert app.test_client().get(f"/c/{live_campaign.id}").status_code == 404
    assert page_cache._pages == {}


def test_figures_are_reused_for_a_second_then_read_again(app, client, live_campaign, donor,
                                                          monkeypatch):
    monkeypatch.setitem(app.config, "CAMPAIGN_FIGURES_CACHE_SECONDS", 1)
    clock = {"now": 1000.0}
    monkeypatch.setattr(page_cache, "_clock", lambda: clock["now"])
    assert "¥<strong>0</strong>" in app.test_client().get(f"/c/{live_campaign.id}").get_data(
        as_text=True)
    assert acknowledged(post_notice(client, notice_for(start(live_campaign, donor, 88_00))))
    clock["now"] += 0.5   # within the second: the figures read a moment ago still stand
    assert "¥<strong>0</strong>" in app.test_client().get(f"/c/{live_campaign.id}").get_data(
        as_text=True)
    clock["now"] += 0.6   # past it: read again, and the donation shows
    after = app.test_client().get(f"/c/{live_campaign.id}").get_data(as_text=True)
    assert "¥<strong>88</strong>" in after and "1 次" in after


def test_someone_who_muted_the_campaign_gets_their_own(app, live_campaign, donor):
    from app.notices.services import set_muted

    shared = app.test_client(user=UserFactory(nickname="路人")).get(f"/c/{live_campaign.id}")
    assert "您已不再接收此筹款的消息" not in shared.get_data(as_text=True)
    set_muted(donor.id, live_campaign.id, True)
    mine = app.test_client(user=donor).get(f"/c/{live_campaign.id}").get_data(as_text=True)
    assert "您已不再接收此筹款的消息" in mine
