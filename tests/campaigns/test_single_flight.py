"""Single flight: when the campaign page's key changes, one request renders the new page while
the others are served the previous one (or wait for the new one when there is none); with Redis
the page one process rendered is taken by the others instead of rendered again. Renders are
counted with Flask's template_rendered signal; requests run on threads, released together."""
from __future__ import annotations

import threading
import time

import pytest
from flask import before_render_template, template_rendered

from app.campaigns import page_cache
from app.extensions import jobs
from tests.factories import UserFactory
from tests.payments.helpers import acknowledged, notice_for, post_notice, start

PAGE = "campaigns/detail.html"
CONCURRENT = 8


@pytest.fixture(autouse=True)
def _cache_on(app, monkeypatch):
    monkeypatch.setitem(app.config, "CAMPAIGN_PAGE_CACHE_SECONDS", 15)
    page_cache.clear()
    yield
    page_cache.clear()


@pytest.fixture()
def renders(app):
    """How many times the campaign page was rendered; each render made slow enough (0.3 s)
    that the concurrent requests all arrive while it is under way."""
    counted = []

    def slow(sender, template, context, **extra):
        if template.name == PAGE:
            time.sleep(0.3)

    def count(sender, template, context, **extra):
        if template.name == PAGE:
            counted.append(1)

    before_render_template.connect(slow, app)
    template_rendered.connect(count, app)
    yield counted
    before_render_template.disconnect(slow, app)
    template_rendered.disconnect(count, app)


def at_once(clients, path: str) -> list[str]:
    barrier = threading.Barrier(len(clients))
    pages: list[str | None] = [None] * len(clients)

    def get(index: int, client) -> None:
        barrier.wait()
        reply = client.get(path)
        assert reply.status_code == 200
        pages[index] = reply.get_data(as_text=True)

    threads = [threading.Thread(target=get, args=(i, c)) for i, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert all(page is not None for page in pages)
    return pages


def test_concurrent_misses_render_once(app, live_campaign, renders):
    pages = at_once([app.test_client() for _ in range(CONCURRENT)], f"/c/{live_campaign.id}")
    assert len(renders) == 1
    assert all("¥<strong>0</strong>" in page for page in pages)


def test_after_a_donation_one_renders_and_the_others_get_the_page_before(
        app, client, live_campaign, donor, renders):
    app.test_client().get(f"/c/{live_campaign.id}")
    assert acknowledged(post_notice(client, notice_for(start(live_campaign, donor, 88_00))))
    renders.clear()
    pages = at_once([app.test_client() for _ in range(CONCURRENT)], f"/c/{live_campaign.id}")
    assert len(renders) == 1
    old = [page for page in pages if "¥<strong>0</strong>" in page]
    new = [page for page in pages if "¥<strong>88</strong>" in page]
    assert len(old) + len(new) == CONCURRENT and old and new
    after = app.test_client().get(f"/c/{live_campaign.id}").get_data(as_text=True)
    assert "¥<strong>88</strong>" in after and len(renders) == 1


def test_signed_in_donors_render_once_too(app, live_campaign, renders):
    donors = [UserFactory(nickname=f"捐款人{i}") for i in range(CONCURRENT)]
    pages = at_once([app.test_client(user=d) for d in donors], f"/c/{live_campaign.id}")
    assert len(renders) == 1
    assert all('name="checkout_key"' in page for page in pages)


def test_a_page_another_process_rendered_is_taken_not_rendered(app, live_campaign, renders):
    if jobs.redis is None:
        pytest.skip("pages are shared between processes through Redis")
    app.test_client().get(f"/c/{live_campaign.id}")
    page_cache._pages.clear()          # this process forgets it, as another process never had it
    assert "¥<strong>0</strong>" in app.test_client().get(f"/c/{live_campaign.id}").get_data(
        as_text=True)
    assert len(renders) == 1
