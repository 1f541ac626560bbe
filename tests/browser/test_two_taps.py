"""Two taps inside WeChat, counted in Chromium with WeChat's user agent: a first-time donor opens
a friend's share link, picks an amount, taps 立即捐款 — signed in silently (snsapi_base, no
consent page) — WeChat's pay sheet opens on the campaign page (the stand-in's WeixinJSBridge),
支付, and the thank-you page. The campaign's total moves by exactly the amount. When the bridge
does not answer, the order page takes over, naming the campaign and leading back.

Screenshots at 375 px: tests/screenshots/two-taps-*.png."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from app.campaigns.models import Campaign
from app.extensions import db
from app.payments.models import Payment
from app.sharing.models import ShareAttribution
from tests.browser.conftest import PHONE, SCREENSHOTS
from tests.payments.helpers import WECHAT_UA, fresh
from tests.sharing.conftest import Person, share

OURS = "ours"
STANDIN = "stand-in"


def wechat_phone(browser):
    return browser.new_context(viewport=PHONE, device_scale_factor=2, locale="zh-CN",
                               is_mobile=True, has_touch=True, user_agent=WECHAT_UA)


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"two-taps-{name}.png"), full_page=False)


def test_a_first_time_donor_inside_wechat_pays_in_two_taps(browser, live_server, live_campaign,
                                                           patient, run_jobs):
    link = share(live_campaign, Person(patient.id))
    raised_before = fresh(Campaign, live_campaign.id).raised_fen
    taps: list[tuple[str, str]] = []

    def tap(locator, whose: str, what: str) -> None:
        taps.append((whose, what))
        locator.click()

    context = wechat_phone(browser)
    page = context.new_page()
    page.goto(f"{live_server}/s/{link.token}")
    page.wait_for_url(re.compile(rf".*/c/{live_campaign.id}$"))
    panel = page.locator("#donate-panel")
    panel.scroll_into_view_if_needed()
    shot(page, "01-campaign-panel")

    tap(panel.get_by_text("50 元", exact=True), OURS, "50 元")
    tap(panel.get_by_role("button", name="立即捐款"), OURS, "立即捐款")
    sheet = page.locator("#wx-standin-paysheet")
    sheet.wait_for(timeout=15_000)
    assert "/auth/" not in page.url and f"/c/{live_campaign.id}" in page.url
    assert "¥50.00" in sheet.inner_text() and "相助大病筹款" in sheet.inner_text()
    assert panel.locator("input[name=preset][value='50']").is_checked()  # the order's amount
    shot(page, "02-pay-sheet")
    tap(sheet.get_by_role("button", name="支付"), STANDIN, "支付")
    page.wait_for_url(re.compile(r".*/donations/\d+/thanks$"), timeout=20_000)
    shot(page, "03-thanks")
    assert "感谢" in page.inner_text("main")
    context.close()

    assert [t for t in taps if t[0] == OURS] == [(OURS, "50 元"), (OURS, "立即捐款")]
    assert [t for t in taps if t[0] == STANDIN] == [(STANDIN, "支付")]
    assert fresh(Campaign, live_campaign.id).raised_fen - raised_before == 50_00
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 1
    run_jobs()
    assert db.session.scalar(select(ShareAttribution.share_id)) == link.id


def test_a_bridge_that_never_answers_falls_back_to_the_order_page(browser, live_server,
                                                                  live_campaign):
    context = wechat_phone(browser)
    context.route("**/standin/bridge.js", lambda route: route.abort())
    page = context.new_page()
    page.goto(f"{live_server}/c/{live_campaign.id}")
    panel = page.locator("#donate-panel")
    panel.get_by_text("20 元", exact=True).click()
    panel.get_by_role("button", name="立即捐款").click()
    page.wait_for_url(re.compile(r".*/pay/XZ\w+$"), timeout=20_000)
    main = page.inner_text("main")
    assert live_campaign.title in main and "筹款编号" not in main and "¥20" in main.replace(" ", "")
    assert "微信支付没有自动打开" in main
    shot(page, "04-order-fallback")
    page.get_by_role("link", name=re.compile("返回修改金额")).click()
    page.wait_for_url(re.compile(rf".*/c/{live_campaign.id}#donate$"))
    context.close()


def test_cancelling_the_pay_sheet_keeps_the_donor_on_the_page(browser, live_server,
                                                               live_campaign):
    context = wechat_phone(browser)
    page = context.new_page()
    page.goto(f"{live_server}/c/{live_campaign.id}")
    panel = page.locator("#donate-panel")
    panel.get_by_role("button", name="立即捐款").click()
    sheet = page.locator("#wx-standin-paysheet")
    sheet.wait_for(timeout=15_000)
    sheet.get_by_role("button", name="关闭").click()
    panel.get_by_text("已取消支付").wait_for()
    assert f"/c/{live_campaign.id}" in page.url
    # Choose again: a new order for the new amount, paid from the same page.
    panel.get_by_text("100 元", exact=True).click()
    panel.get_by_role("button", name="立即捐款").click()
    sheet.wait_for()
    assert "¥100.00" in sheet.inner_text()
    sheet.get_by_role("button", name="支付").click()
    page.wait_for_url(re.compile(r".*/donations/\d+/thanks$"), timeout=20_000)
    context.close()
    assert fresh(Campaign, live_campaign.id).raised_fen == 100_00
