"""The first page a newcomer sees, at 375 px: the embedded default's demo campaign (its cover,
the trust at the top, donors with avatars and relative times, the 资金公示), and the thank-you
page of a donor who came through a friend's link. Screenshots in
tests/screenshots/first-impression-*.png."""
from __future__ import annotations

from sqlalchemy import select

from app.auth.models import User
from app.campaigns.models import Campaign, CampaignStatus
from app.demo import seed_demo_data
from app.donations.models import Donation
from app.extensions import db
from app.sharing.services import share_link_for
from tests.browser.conftest import SCREENSHOTS, phone_context

WECHAT_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
             "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI")
LOAD_IMAGES = """() => Promise.all([...document.images].map((image) => {
  image.loading = "eager";
  return image.complete ? null : new Promise((done) => { image.onload = image.onerror = done; });
}))"""


def _signed_in(browser, app, base: str, user):
    cookie = app.test_client(user=user).get_cookie("session")
    context = phone_context(browser)
    context.add_cookies([{"name": "session", "value": cookie.value, "url": base}])
    return context


def _shot(page, name: str) -> None:
    page.evaluate("window.scrollTo(0, 0)")
    page.evaluate(LOAD_IMAGES)
    page.screenshot(path=str(SCREENSHOTS / f"first-impression-{name}.png"), full_page=True)


def test_the_demo_campaign_and_a_thank_you_page_at_375(app, browser, live_server, db):
    SCREENSHOTS.mkdir(exist_ok=True)
    seed_demo_data()
    live = db.session.scalar(select(Campaign).where(Campaign.status == CampaignStatus.live))
    teacher = db.session.scalar(select(User).where(User.openid == "o_demo_donor_1"))
    jie = db.session.scalar(select(User).where(User.openid == "o_demo_donor_2"))

    visitor = phone_context(browser)
    page = visitor.new_page()
    page.goto(f"{live_server}/c/{live.id}")
    head = page.locator(".campaign-head").inner_text()
    assert "已核实" in head and "人证实" in head and "最新动态" in head
    assert "已筹 ¥0" not in head.replace("\n", " ")
    _shot(page, "demo-campaign-375")
    visitor.close()

    own = _signed_in(browser, app, live_server, teacher).new_page()
    own.goto(f"{live_server}/c/{live.id}")
    assert "热心的张老师" in own.locator(".attestations").inner_text()
    own.context.close()

    link = share_link_for(live, teacher.id, None)
    context = _signed_in(browser, app, live_server, jie)
    page = context.new_page()
    page.goto(f"{live_server}/s/{link.token}/f")            # 阿杰 opens 张老师's link
    donation = db.session.scalar(select(Donation).where(Donation.user_id == jie.id))
    page.goto(f"{live_server}/donations/{donation.id}/thanks")
    step = page.locator(".next-step").inner_text()
    assert "热心的张老师邀请你一起帮助 TA" in step.replace("\n", "")
    assert "下一步：转发给朋友" in step
    _shot(page, "thanks-375")
    context.close()
