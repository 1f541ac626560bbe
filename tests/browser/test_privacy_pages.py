"""Screenshots at 375 px of the pages the rules ask for: 用户协议, 隐私政策, the campaign page's
个人求助 notice, 我的 → 个人信息 and the staff 失信名单 (tests/screenshots/rules-*.png)."""
from __future__ import annotations

import re

from app.auth.models import StaffRole
from tests.browser.conftest import phone_context
from tests.factories import StaffFactory


def test_the_rules_pages_on_a_phone(browser, live_server, db, live_campaign, screenshot):
    StaffFactory(username="reviewer6", display_name="审核员小周", role=StaffRole.reviewer,
                 password="review-pass-606")
    phone = phone_context(browser)
    page = phone.new_page()
    for path, name in (("/terms", "rules-terms"), ("/privacy", "rules-privacy")):
        page.goto(f"{live_server}{path}")
        assert page.locator("h1").first.is_visible()
        screenshot(page, name)
    page.goto(f"{live_server}/c/{live_campaign.id}")
    notice = page.locator(".legal-notice")
    notice.scroll_into_view_if_needed()
    assert "不属于慈善募捐" in notice.inner_text()
    screenshot(page, "rules-campaign-notice")

    page.goto(f"{live_server}/auth/login?next=/me/privacy/")
    page.get_by_text("在本设备上用微信登录").click()
    page.wait_for_load_state()
    page.locator("input[name=openid][value=new]").check()
    page.locator("input[name=nickname]").fill("想注销的人")
    page.get_by_role("button", name="允许").click()
    page.wait_for_url(re.compile(r".*/me/privacy/$"))
    assert "下载我的数据" in page.content()
    screenshot(page, "rules-my-privacy")

    staff = phone_context(browser).new_page()
    staff.goto(f"{live_server}/auth/staff/login")
    staff.fill("input[name=username]", "reviewer6")
    staff.fill("input[name=password]", "review-pass-606")
    staff.locator("form button[type=submit]").click()
    staff.wait_for_load_state()
    staff.goto(f"{live_server}/staff/blacklist/")
    staff.fill("input[name=id_number]", "110101")
    staff.fill("textarea[name=reason]", "测试")
    staff.get_by_role("button", name="列入失信名单").click()
    staff.wait_for_load_state()
    assert "身份证号" in staff.content()
    screenshot(staff, "rules-staff-blacklist")
