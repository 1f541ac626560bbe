"""On a wide screen the review page's side column (payee, 审核决定) stays in view while the
reviewer scrolls a long column of documents (position: sticky)."""
from __future__ import annotations

from app.auth.models import StaffRole
from tests.browser.conftest import DESKTOP
from tests.browser.test_review_console import _campaign_in_review, _sign_in
from tests.factories import StaffFactory, UserFactory


def test_the_decision_panel_stays_in_view(browser, live_server, db):
    StaffFactory(username="reviewer5", role=StaffRole.admin, password="review-pass-555")
    campaign = _campaign_in_review(UserFactory(nickname="乐乐妈妈"))
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    page = context.new_page()
    _sign_in(page, live_server, "reviewer5", "review-pass-555")
    page.goto(f"{live_server}/staff/campaigns/{campaign.id}")
    page.wait_for_load_state("load")
    assert page.evaluate("document.documentElement.scrollHeight") > DESKTOP["height"] * 1.5
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight / 2)")
    box = page.locator(".review-side").bounding_box()
    assert box is not None and 0 <= box["y"] < DESKTOP["height"]
    assert page.evaluate("getComputedStyle(document.querySelector('.review-side')).position") \
        == "sticky"
    context.close()
