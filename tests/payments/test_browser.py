"""In a phone browser: sign in through the stand-in, donate from the campaign page, pay at the
stand-in's cashier, come back and be taken to the thank-you page by the order page's polling;
the campaign page, its donations list and its public ledger show the donation.
Screenshots at 375 px go to tests/screenshots/donate-*.png."""
from __future__ import annotations

import re

from sqlalchemy import select

from app.campaigns.models import Campaign
from app.extensions import db
from app.ledger.verify import verify
from app.payments.models import Payment, PaymentState
from tests.browser.conftest import SCREENSHOTS, phone_context
from tests.payments.helpers import fresh
from tests.sharing.test_browser import _in_browser


def test_a_donation_in_a_phone_browser(live_server, live_campaign, standin):
    SCREENSHOTS.mkdir(exist_ok=True)
    campaign_id = live_campaign.id
    seen: dict = {}

    def shot(page, name: str) -> None:
        page.screenshot(path=str(SCREENSHOTS / f"donate-{name}.png"), full_page=True)

    def scenario(browser) -> None:
        context = phone_context(browser)
        page = context.new_page()
        page.goto(f"{live_server}/auth/login?next=/c/{campaign_id}")
        page.get_by_text("在本设备上用微信登录").click()
        page.locator("input[name=openid][value=new]").check()
        page.locator("input[name=nickname]").fill("爱心人士阿强")
        page.get_by_role("button", name="允许").click()
        page.wait_for_url(re.compile(rf".*/c/{campaign_id}$"))

        panel = page.locator("#donate-panel")
        panel.scroll_into_view_if_needed()
        fee = panel.locator("[data-fee-amount]")
        seen["fee_default"] = fee.inner_text()       # server-rendered: the preset chosen (¥20)
        panel.locator("input[name=amount]").fill("88.8")
        seen["fee_custom"] = fee.inner_text()        # the page's script: a custom amount
        panel.get_by_text("50 元").click()
        seen["fee_preset"] = fee.inner_text()
        seen["overflow"] = page.evaluate("document.documentElement.scrollWidth")
        panel.locator("textarea[name=blessing]").fill("小雨加油，早日康复！")
        panel.screenshot(path=str(SCREENSHOTS / "donate-01-panel.png"))
        panel.get_by_role("button", name="立即捐款").click()
        page.wait_for_url(re.compile(r".*/pay/XZ\d+$"))
        page.locator(".order-qr svg").wait_for()
        shot(page, "02-order")

        page.get_by_text("打开模拟收银台").click()
        page.get_by_role("button", name="确认支付").wait_for()
        shot(page, "03-standin-cashier")
        page.get_by_role("button", name="确认支付").click()
        page.get_by_text("支付成功").wait_for()
        page.get_by_role("link", name="返回商户").click()
        page.wait_for_url(re.compile(r".*/donations/\d+/thanks$"), timeout=20_000)
        seen["thanks"] = page.inner_text("main")
        shot(page, "04-thanks")

        page.goto(f"{live_server}/c/{campaign_id}#donate")
        seen["campaign"] = page.inner_text("main")
        page.locator(".donations-card").screenshot(
            path=str(SCREENSHOTS / "donate-05-donations-list.png"))
        page.goto(f"{live_server}/c/{campaign_id}/ledger")
        seen["ledger"] = page.inner_text("main")
        shot(page, "06-ledger")
        context.close()

    _in_browser(scenario)

    payment = db.session.scalars(select(Payment)).one()
    assert fresh(Payment, payment.id).state == PaymentState.paid
    assert fresh(Campaign, campaign_id).raised_fen == 50_00
    assert "感谢您的爱心" in seen["thanks"] and "50" in seen["thanks"]
    # the donor reads their own donation under their own name (others see it masked)
    assert "爱心人士阿强" in seen["campaign"] and "小雨加油，早日康复！" in seen["campaign"]
    assert "+50" in seen["ledger"] and "微信支付通道费" in seen["ledger"]
    # WeChat's fee for the chosen amount, shown before paying (0.6%, half up): ¥20 → ¥0.12,
    # ¥88.80 → 53.28 fen → ¥0.53, ¥50 → ¥0.30; and nothing wider than the phone
    assert (seen["fee_default"], seen["fee_custom"], seen["fee_preset"]) == (
        "¥0.12", "¥0.53", "¥0.30")
    assert seen["overflow"] <= 375
    assert verify() == []
