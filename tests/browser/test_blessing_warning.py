"""In Chromium with WeChat's user agent: a blessing with a phone number is caught before the
pay sheet — signed out, on the donate form again (before the silent sign-in); signed in, beside
the blessing on the campaign page (the pay sheet's fetch gets 422) — and 不修改，继续捐款 goes on
to WeChat's pay sheet. Screenshots at 375 px: tests/screenshots/blessing-warning-*.png."""
from __future__ import annotations

import re

from sqlalchemy import select

from app.donations.models import Donation
from app.extensions import db
from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_two_taps import wechat_phone

BLESSING = "加油！需要帮忙打我电话 13812345678"


def _shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"blessing-warning-{name}.png"), full_page=False)


def _pay(page) -> None:
    sheet = page.locator("#wx-standin-paysheet")
    sheet.wait_for(timeout=15_000)
    sheet.get_by_role("button", name="支付").click()
    page.wait_for_url(re.compile(r".*/donations/\d+/thanks$"), timeout=20_000)


def test_the_donor_is_warned_before_the_pay_sheet_and_may_go_on(browser, live_server,
                                                                live_campaign):
    context = wechat_phone(browser)
    page = context.new_page()
    page.goto(f"{live_server}/c/{live_campaign.id}")
    panel = page.locator("#donate-panel")
    panel.get_by_text("20 元", exact=True).click()
    panel.locator("textarea[name=blessing]").fill(BLESSING)
    panel.get_by_role("button", name="立即捐款").click()
    warning = page.locator("[data-blessing-warning]")
    warning.wait_for(timeout=15_000)
    assert "祝福中含有手机号码" in warning.inner_text()
    assert page.locator("textarea[name=blessing]").input_value() == BLESSING
    warning.scroll_into_view_if_needed()
    _shot(page, "01-before-sign-in")
    page.get_by_role("button", name="不修改，继续捐款").click()
    _pay(page)

    # Signed in now: the pay sheet's own fetch is warned, beside the blessing, on this page.
    page.goto(f"{live_server}/c/{live_campaign.id}")
    panel = page.locator("#donate-panel")
    panel.get_by_text("50 元", exact=True).click()
    panel.locator("textarea[name=blessing]").fill(BLESSING)
    panel.get_by_role("button", name="立即捐款").click()
    warning = panel.locator("[data-blessing-warning]")
    warning.wait_for(state="visible", timeout=15_000)
    assert f"/c/{live_campaign.id}" in page.url
    button = panel.locator("[data-donate-submit]")
    assert button.inner_text() == "不修改，继续捐款"
    warning.scroll_into_view_if_needed()
    _shot(page, "02-signed-in")
    # Editing the words asks the server again; taking the number out goes straight on.
    panel.locator("textarea[name=blessing]").fill("加油！")
    assert warning.is_hidden() and button.inner_text() == "立即捐款"
    button.click()
    _pay(page)
    context.close()
    blessings = list(db.session.scalars(select(Donation.blessing).order_by(Donation.id)))
    assert blessings == [BLESSING, "加油！"]
