"""Finance's bank console on a phone (375 px), clicked as finance would: the payouts waiting for
the bank, 生成批次文件, the stand-in bank's result file downloaded and uploaded back, the
withdrawals paid. Screenshots in tests/screenshots/bank-*.png."""
from __future__ import annotations

import pytest

from app.auth.models import StaffRole
from tests.browser.conftest import phone_context
from tests.factories import StaffFactory, UserFactory
from tests.payouts.bank_helpers import released, status_of
from tests.payouts.helpers import donate, verified_campaign


@pytest.fixture(autouse=True)
def bank(app, monkeypatch):
    monkeypatch.setitem(app.config, "PAYOUT_PROVIDER", "bank_batch")


def test_a_batch_clicked_through_the_bank_console(app, browser, live_server, db, client,
                                                  screenshot, run_jobs, tmp_path):
    organizer, reviewer = UserFactory(nickname="小雨妈妈"), StaffFactory(role=StaffRole.reviewer)
    finance = StaffFactory(role=StaffRole.finance, display_name="财务小李")
    campaign = verified_campaign(organizer, reviewer, finance)
    donate(client, campaign, UserFactory(), 1_000_00)
    refs = released(campaign, organizer, reviewer, finance, 300_00, 200_00)

    context = phone_context(browser)
    cookie = app.test_client(user=finance).get_cookie("session")
    context.add_cookies([{"name": "session", "value": cookie.value, "url": live_server}])
    page = context.new_page()
    page.goto(f"{live_server}/staff/finance/bank/")
    assert page.locator("[data-queued='2']").is_visible()
    screenshot(page, "bank-01-queued")
    page.get_by_role("button", name="生成批次文件").click()
    page.wait_for_selector("[data-line]")
    screenshot(page, "bank-02-batch")
    with page.expect_download() as download:
        page.get_by_role("button", name="模拟银行处理并下载回单").click()
    result = tmp_path / "result.txt"
    download.value.save_as(result)

    page.goto(f"{live_server}/staff/finance/bank/")
    page.locator("form[action$='/results'] input[type=file]").set_input_files(str(result))
    page.get_by_role("button", name="导入回单").click()
    page.wait_for_selector(".flash")
    assert "2 笔相符，0 项待核对" in page.locator(".flash").inner_text()
    run_jobs()
    assert [status_of(ref) for ref in refs] == ["paid", "paid"]
    screenshot(page, "bank-03-imported")
    context.close()
