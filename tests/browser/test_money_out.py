"""Money out in a phone browser (375 px): the withdrawal form, the fund disclosure on the
campaign page (live, then ended with the organizer's statement), a pledge page, and finance's
withdrawal review. Screenshots in tests/screenshots/money-*.png."""
from __future__ import annotations

import secrets

import requests
from sqlalchemy import select

from app.auth.models import StaffRole
from app.campaigns.services import end_campaign
from app.payouts import documents, withdrawal_decisions, withdrawals
from app.pledges import distribution
from app.pledges import services as pledges
from app.pledges.models import Repayment
from app.core.uploads import check_bytes
from tests.browser.conftest import SCREENSHOTS, phone_context
from tests.browser.documents import paper_jpeg
from tests.clock import days_ahead
from tests.factories import StaffFactory, UserFactory
from tests.payments.helpers import acknowledged, notice_for, post_notice
from tests.payouts.helpers import donate, verified_campaign


CLIP = """(selector) => { const r = document.querySelector(selector).getBoundingClientRect();
  return {x: r.left + scrollX, y: r.top + scrollY, width: r.width, height: r.height}; }"""


LOAD_IMAGES = """async (selector) => {
  const images = [...document.querySelectorAll(selector + " img")];
  images.forEach((image) => { image.loading = "eager"; });
  await Promise.all(images.map((image) => image.complete ? null
    : new Promise((done) => { image.onload = image.onerror = done; })));
}"""


def _section(page, selector: str, name: str) -> None:
    """A screenshot of one section, cut from the full page (no sticky bar over it); lazy
    images are loaded first, as scrolling down to them would."""
    page.evaluate(LOAD_IMAGES, selector)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True,
                    clip=page.evaluate(CLIP, selector))


def _signed_in(browser, app, base: str, principal):
    """A phone context carrying the principal's session cookie (made by the test client)."""
    cookie = app.test_client(user=principal).get_cookie("session")
    context = phone_context(browser)
    context.add_cookies([{"name": "session", "value": cookie.value, "url": base}])
    return context


def _paid(run_jobs, campaign, organizer, reviewer, finance, amount, purpose,
          receipt_title=None):
    withdrawal = withdrawals.request_withdrawal(
        campaign.id, organizer, amount, purpose,
        invoices=[check_bytes(paper_jpeg("住院费用清单"))])
    withdrawal_decisions.approve_withdrawal(withdrawal.id, reviewer, "票据与金额一致")
    withdrawal_decisions.release_withdrawal(withdrawal.id, finance)
    run_jobs()
    if receipt_title:
        doc = documents.upload_receipts(withdrawal.id, organizer,
                                        [check_bytes(paper_jpeg(receipt_title, lines=6))])[0]
        documents.decide_document(doc.id, finance, True)
    return withdrawal


def test_withdrawal_disclosure_and_pledge_pages(app, browser, live_server, db, screenshot,
                                                run_jobs):
    organizer = UserFactory(nickname="小雨妈妈")
    reviewer = StaffFactory(role=StaffRole.reviewer, display_name="审核员小周")
    finance = StaffFactory(role=StaffRole.finance, display_name="财务小李")
    campaign = verified_campaign(organizer, reviewer, finance, title="救救我六岁的女儿小雨",
                                 patient_name="李小雨", target_fen=300_000_00)
    client = app.test_client()
    for nickname, amount in [("张三丰", 10_000_00), ("李四", 5_000_00), ("王五", 20_000_00),
                             ("赵六", 1_800_00), ("孙七", 500_00)]:
        donate(client, campaign, UserFactory(nickname=nickname), amount)
    _paid(run_jobs, campaign, organizer, reviewer, finance, 20_000_00, "支付第一期化疗费用", "住院收费票据")
    _paid(run_jobs, campaign, organizer, reviewer, finance, 6_000_00, "骨髓穿刺检查及药费", "门诊收费票据")
    waiting = withdrawals.request_withdrawal(campaign.id, organizer, 3_000_00, "购买靶向药物",
                                             invoices=[check_bytes(paper_jpeg("处方笺"))])

    phone = _signed_in(browser, app, live_server, organizer)
    page = phone.new_page()
    page.goto(f"{live_server}/c/{campaign.id}/withdraw")
    # ¥37,300 given less WeChat Pay's 0.6% (¥223.80), ¥26,000 paid out, ¥3,000 asked for
    assert "可提现" in page.content() and "¥8,076.20" in page.content()
    page.fill("#amount", "2000")
    page.fill("textarea[name=purpose]", "支付复查与康复费用")
    screenshot(page, "money-01-withdraw-form")
    page.goto(f"{live_server}/c/{campaign.id}#funds")
    funds = page.locator("#funds")
    assert funds.locator(".payout").count() == 2 and funds.locator("img").count() == 2
    assert "微信支付通道费 ¥223.80" in funds.inner_text()
    _section(page, "#funds", "money-02-disclosure")
    phone.close()

    staff_phone = _signed_in(browser, app, live_server, reviewer)
    review = staff_phone.new_page()
    review.goto(f"{live_server}/staff/payouts/withdrawals/{waiting.id}")
    assert "审核通过（核对票据与金额）" in review.content()
    screenshot(review, "money-03-finance-withdrawal")
    staff_phone.close()

    withdrawal_decisions.reject_withdrawal(waiting.id, reviewer, "请补充医生处方原件")
    end_campaign(campaign, "筹款期限已到", by_staff=reviewer)
    documents.save_statement(campaign.id, organizer,
                             "剩余 ¥11,076.20 将继续用于小雨出院后的复查和康复治疗，每一笔都会上传票据公示。")
    pledge = pledges.create_pledge(campaign.id, organizer, total_fen=12_000_00,
                                   schedule="monthly", instalments=12,
                                   first_due=days_ahead(30), destination="donors",
                                   words="谢谢每一位帮助过小雨的人。等她康复，我们每个月还一点，把这份善意传下去。")
    payment = pledges.start_repayment(pledge.id, organizer, None, secrets.token_hex(12),
                                      "NATIVE", "127.0.0.1")
    paid = requests.post(f"{app.config['WECHAT_API_BASE']}standin/pay/{payment.out_trade_no}/pay",
                         timeout=5).json()
    assert acknowledged(post_notice(client, notice_for(payment, transaction_id=paid["transaction_id"])))
    distribution.distribute(db.session.scalar(select(Repayment.id)))

    viewer = phone_context(browser)
    page = viewer.new_page()
    page.goto(f"{live_server}/c/{campaign.id}")
    assert "诺言 · 承诺回馈 ¥12,000" in page.content()
    _section(page, "#funds", "money-04-disclosure-ended")
    _section(page, ".pledge-badge", "money-04b-pledge-badge")
    page.goto(f"{live_server}/pledges/{pledge.id}")
    assert "第 12 期" in page.content()
    screenshot(page, "money-05-pledge")
    viewer.close()
