"""The whole platform walked as people would, through the real pages only: a patient launches a
campaign, staff verify it, a sharer makes a QR poster, a donor arrives through the sharer's link,
pays at the stand-in's cashier and joins the mutual-aid plan, the organizer withdraws to the
hospital, the campaign ends at its target, and the recipient pledges and repays.

Every page passed is kept at 375 px and at 1280 px as
tests/screenshots/journey-NN-<page>-375.png / -1280.png. With REDIS_URL set the live server
queues its background jobs in Redis; `settle()` then runs them, as a worker would."""
from __future__ import annotations

import re

from app.auth.models import StaffRole
from app.mutual_aid.services import seed_demo_plan
from tests.browser.conftest import SCREENSHOTS, phone_context
from tests.browser.documents import write
from tests.browser.test_launch_journey import _cover_jpeg
from tests.factories import StaffFactory
from tests.review.helpers import ORGANIZER_ID, PATIENT_ID

TITLE = "救救我六岁的女儿小雨"
TARGET_YUAN = 3000
PAPERS = [("diagnosis", "诊断证明书"), ("patient_id", "居民身份证"),
          ("organizer_id", "居民身份证"), ("relation_proof", "出生医学证明")]
MEMBER_ID = "110101199003071233"  # a valid check digit


class Journey:
    """The live server's address, the screenshot counter and the worker stand-in."""

    def __init__(self, base: str, two_widths, run_jobs):
        self.base = base
        self._take = two_widths
        self.settle = run_jobs
        self.count = 0

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def shot(self, page, name: str) -> None:
        self.count += 1
        self._take(page, f"journey-{self.count:02d}-{name}")


def _wechat_sign_in(journey: Journey, page, nickname: str, shot_names=()) -> None:
    """From our login page through the stand-in's OAuth page as a new WeChat user."""
    page.wait_for_url(re.compile(r".*/auth/login.*"))
    if shot_names:
        journey.shot(page, shot_names[0])
    page.get_by_text("在本设备上用微信登录").click()
    page.wait_for_load_state()
    if shot_names:
        journey.shot(page, shot_names[1])
    page.locator("input[name=nickname]").fill(nickname)
    page.get_by_role("button", name="允许").click()
    page.wait_for_url(lambda url: journey.base in url and "/auth/" not in url)


def _staff_sign_in(journey: Journey, page, username: str, password: str) -> None:
    page.goto(journey.url("/auth/staff/login"))
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.locator("form button[type=submit]").click()
    page.wait_for_load_state()


def _pay_at_cashier(journey: Journey, page, name: str, amount_text: str) -> None:
    """Our order page → the stand-in's cashier → 确认支付 → back to us once notified."""
    page.wait_for_url(re.compile(r".*/pay/[^/]+$"))
    assert amount_text in page.locator(".order-amount").inner_text()
    journey.shot(page, f"{name}-order")
    page.locator("[data-standin-cashier]").click()
    page.wait_for_load_state()
    assert "确认支付" in page.content()
    journey.shot(page, f"{name}-cashier")
    page.get_by_role("button", name="确认支付").click()
    page.wait_for_load_state()
    assert "支付成功" in page.content()
    journey.settle()
    page.get_by_role("link", name="返回商户").click()
    # The order page polls the payment and moves on to the success page by itself.
    page.wait_for_url(lambda url: "/pay/" not in url, timeout=15_000)
    journey.settle()


def launch(journey: Journey, page, tmp_path) -> int:
    """1. The patient signs in with WeChat, fills the form, uploads documents and submits."""
    page.goto(journey.url("/"))
    journey.shot(page, "home")
    page.goto(journey.url("/campaigns/new"))
    _wechat_sign_in(journey, page, "小雨妈妈", ("login", "wechat-authorize"))
    page.fill("input[name=title]", TITLE)
    page.fill("input[name=patient_name]", "李小雨")
    page.select_option("select[name=relation]", "parent")
    page.fill("input[name=diagnosis]", "急性淋巴细胞白血病")
    page.fill("input[name=hospital]", "北京儿童医院")
    page.fill("input[name=target_yuan]", str(TARGET_YUAN))
    page.fill("textarea[name=story]",
              "小雨今年六岁，上个月在北京儿童医院确诊急性淋巴细胞白血病。\n\n"
              "第一期化疗还差三千元，家里已经拿出了全部积蓄。恳请大家帮帮她。")
    page.select_option("select[name=house]", "one")
    page.select_option("select[name=car]", "none")
    page.select_option("select[name=savings]", "lt10k")
    page.locator("input[name=medical_insurance][value=yes]").check()
    page.locator("input[name=commercial_insurance][value=no]").check()
    page.set_input_files("input[name=cover]", _cover_jpeg(tmp_path))
    journey.shot(page, "campaign-form")
    page.locator("form.campaign-form button[type=submit]").last.click()
    page.wait_for_load_state()

    page.goto(journey.url("/me/campaigns"))
    assert "草稿" in page.content() or "待提交" in page.content()
    journey.shot(page, "my-campaigns-draft")
    page.get_by_role("button", name="提交审核").first.click()
    page.wait_for_url(re.compile(r".*/c/\d+/documents$"))
    campaign_id = int(re.search(r"/c/(\d+)/documents", page.url).group(1))
    for kind, title in PAPERS:
        form = page.locator(f"#kind-{kind} form.upload-row")
        form.locator("input[type=file]").set_input_files(write(tmp_path, f"{kind}.jpg", title))
        form.get_by_role("button", name="上传").click()
        page.wait_for_load_state()
    page.fill("input[name=patient_name]", "李小雨")
    page.fill("input[name=patient_id]", PATIENT_ID)
    page.fill("input[name=organizer_name]", "王芳")
    page.fill("input[name=organizer_id]", ORGANIZER_ID)
    page.get_by_role("button", name="保存实名信息").click()
    page.wait_for_load_state()
    payee = page.locator("#payee")
    payee.locator("input[name=kind][value=hospital]").check()
    payee.locator("input[name=account_name]").fill("北京儿童医院")
    payee.locator("input[name=bank_name]").fill("中国工商银行北京南礼士路支行")
    payee.locator("input[name=account_number]").fill("0200001409014400123")
    payee.get_by_role("button", name="保存收款人").click()
    page.wait_for_load_state()
    assert "医院" in page.locator("#payee").inner_text()
    journey.shot(page, "documents")
    page.locator("form[action$='/documents/submit'] input[name=accept_legal]").check()
    page.locator("form[action$='/documents/submit'] button").click()
    page.wait_for_load_state()
    page.goto(journey.url("/me/campaigns"))
    assert "审核中" in page.content()
    journey.shot(page, "my-campaigns-submitted")
    return campaign_id


def review(journey: Journey, reviewer_page, finance_page, campaign_id: int) -> None:
    """2. The reviewer checks every paper and the names and takes the campaign live; finance
    verifies the hospital's account."""
    _staff_sign_in(journey, reviewer_page, "journey-reviewer", "review-pass-123")
    reviewer_page.goto(journey.url("/staff/"))
    assert TITLE in reviewer_page.content()
    journey.shot(reviewer_page, "staff-queue")
    reviewer_page.get_by_text(TITLE).first.click()
    reviewer_page.wait_for_url(re.compile(rf".*/staff/campaigns/{campaign_id}$"))
    journey.shot(reviewer_page, "staff-review")
    while reviewer_page.locator(".doc-pending").count():
        reviewer_page.locator(".doc-pending").first.get_by_role("button", name="通过此材料").click()
        reviewer_page.wait_for_load_state()
    reviewer_page.get_by_role("button", name="实名一致").click()
    reviewer_page.wait_for_load_state()
    reviewer_page.get_by_role("button", name="通过，上线筹款").click()
    reviewer_page.wait_for_load_state()
    assert "筹款中" in reviewer_page.content()
    journey.shot(reviewer_page, "staff-approved")

    _staff_sign_in(journey, finance_page, "journey-finance", "finance-pass-123")
    finance_page.goto(journey.url(f"/staff/campaigns/{campaign_id}"))
    finance_page.get_by_role("button", name="收款人核实通过").click()
    finance_page.wait_for_load_state()
    assert "已核实" in finance_page.locator("#payee").inner_text()
    journey.shot(finance_page, "staff-payee-verified")


def share(journey: Journey, page, campaign_id: int) -> str:
    """3. A sharer opens the live campaign, makes a QR poster and copies their link."""
    page.goto(journey.url(f"/c/{campaign_id}"))
    journey.shot(page, "campaign-live-visitor")
    page.locator("header").get_by_role("link", name="登录").click()
    _wechat_sign_in(journey, page, "热心的张阿姨")
    page.goto(journey.url(f"/c/{campaign_id}"))
    assert "已筹" in page.content() and f"{TARGET_YUAN:,}" in page.content()
    page.locator("[data-share-panel]").get_by_role("button", name="生成海报").click()
    page.wait_for_url(re.compile(r".*/posters/.*"))
    if "/posters/jobs/" in page.url:  # queued for a worker: the page shows progress first
        assert "正在生成海报" in page.content()
        journey.shot(page, "poster-progress")
        journey.settle()
    page.wait_for_url(re.compile(r".*/posters/[0-9a-f]+\?.*"), timeout=20_000)
    page.wait_for_function("() => { const img = document.querySelector('.poster-view img');"
                           " return img && img.complete && img.naturalWidth === 750; }")
    assert "长按图片保存" in page.content()
    journey.shot(page, "poster")

    page.goto(journey.url(f"/c/{campaign_id}"))
    page.locator("[data-share-copy]").click()
    status = page.locator("[data-share-status]")
    status.filter(has_text=re.compile("链接")).wait_for()
    link = page.evaluate("navigator.clipboard.readText()") if "已复制" in status.inner_text() \
        else status.inner_text().split("：", 1)[1]
    assert re.search(r"/s/[^/]+/[a-z]+$", link), link
    return link


def donate(journey: Journey, page, link: str, campaign_id: int) -> None:
    """4. A donor arrives through the sharer's link, pays 200 yuan and joins the plan."""
    page.goto(link)
    page.wait_for_url(re.compile(rf".*/c/{campaign_id}$"))
    # Outside WeChat: the amount first, then the sign-in, and the order's QR code.
    page.locator(".amount-option", has_text="200").click()
    page.fill("textarea[name=blessing]", "小雨加油，早日康复！")
    page.locator("input[name=show_profile]").check()
    journey.shot(page, "donate")
    page.get_by_role("button", name="立即捐款").click()
    _wechat_sign_in(journey, page, "路过的李先生")
    _pay_at_cashier(journey, page, "donation", "200")
    page.wait_for_url(re.compile(r".*/donations/\d+/thanks$"))
    assert "感谢您的爱心" in page.content() and "200" in page.locator(".order-amount").inner_text()
    assert "网络互助不是保险" in page.content() or "不是保险" in page.content()
    journey.shot(page, "thanks")
    page.get_by_role("link", name="了解互助计划").click()
    page.wait_for_load_state()
    journey.shot(page, "mutual-aid-plan")
    page.get_by_role("link", name=re.compile("加入")).first.click()
    page.wait_for_url(re.compile(r".*/join$"))
    assert "不是保险" in page.content()
    page.fill("#real_name", "李明")
    page.fill("#id_number", MEMBER_ID)
    for radio in page.locator("input[type=radio][value=no]").all():
        radio.check()
    page.locator("input[name=accept_rules]").check()
    page.locator("input[name=accept_notice]").check()
    journey.shot(page, "mutual-aid-join")
    page.get_by_role("button", name=re.compile("确认加入")).click()
    page.wait_for_url(re.compile(r".*/mutual-aid/me$"))
    assert "观察期" in page.content()
    journey.shot(page, "mutual-aid-me")


def sharer_results(journey: Journey, page, campaign_id: int) -> None:
    page.goto(journey.url(f"/c/{campaign_id}/share"))
    assert "200" in page.content()
    journey.shot(page, "my-shares")


def withdraw(journey: Journey, organizer, reviewer_page, finance_page, campaign_id: int,
             tmp_path) -> None:
    """5. The organizer asks to pay 150 yuan to the hospital; a reviewer approves it against
    the invoice, finance releases it (four eyes); 资金公示."""
    organizer.goto(journey.url("/me/campaigns"))
    organizer.locator("a.mine-link").first.click()
    organizer.wait_for_load_state()
    assert "¥200" in organizer.content()
    assert "转发给亲友就是最大的帮助" in organizer.content()    # not a donate form of their own
    assert organizer.locator("[data-donate-form]").count() == 0
    journey.shot(organizer, "campaign-organizer")
    organizer.get_by_role("link", name=re.compile("申请提现")).click()
    organizer.wait_for_url(re.compile(r".*/withdraw$"))
    organizer.fill("#amount", "150")
    organizer.fill("textarea[name=purpose]", "支付第一期化疗费用")
    organizer.set_input_files("input[name=invoices]", write(tmp_path, "bill.jpg", "住院费用清单"))
    journey.shot(organizer, "withdraw-form")
    organizer.get_by_role("button", name="提交提现申请").click()
    organizer.wait_for_load_state()
    assert "提现申请已提交" in organizer.content()
    journey.shot(organizer, "withdraw-requested")

    reviewer_page.goto(journey.url("/staff/payouts/"))
    assert "¥150" in reviewer_page.content()
    reviewer_page.locator(".queue-item", has_text=TITLE).first.click()
    reviewer_page.wait_for_load_state()
    journey.shot(reviewer_page, "withdrawal-review")
    reviewer_page.get_by_role("button", name="审核通过（核对票据与金额）").click()
    reviewer_page.wait_for_load_state()
    finance_page.goto(journey.url("/staff/payouts/"))
    assert "待放款 1" in finance_page.content()
    journey.shot(finance_page, "finance-queue")
    finance_page.locator(".queue-item", has_text=TITLE).first.click()
    finance_page.wait_for_load_state()
    journey.shot(finance_page, "finance-withdrawal")
    finance_page.get_by_role("button", name="放款 ¥150").click()
    finance_page.wait_for_load_state()
    journey.settle()

    organizer.goto(journey.url(f"/c/{campaign_id}#funds"))
    funds = organizer.locator("#funds")
    assert "¥150" in funds.inner_text() and "第一期化疗" in funds.inner_text()
    journey.shot(organizer, "campaign-funds")


def my_area(journey: Journey, organizer, donor) -> None:
    """The "我的" tabs from the top bar: the organizer's notices, the donor's refunds."""
    organizer.get_by_role("link", name="我的", exact=True).click()
    organizer.wait_for_url(re.compile(r".*/me/campaigns$"))
    organizer.locator(".me-nav").get_by_role("link", name="通知").click()
    organizer.wait_for_url(re.compile(r".*/me/notices$"))
    assert "¥150" in organizer.locator(".notice-list").inner_text()
    journey.shot(organizer, "my-notices")
    donor.goto(journey.url("/"))
    donor.get_by_role("link", name="我的", exact=True).click()
    donor.locator(".me-nav").get_by_role("link", name="退款").click()
    donor.wait_for_url(re.compile(r".*/me/refunds$"))
    assert "没有退款记录" in donor.content()
    journey.shot(donor, "my-refunds")


def reach_target(journey: Journey, page, campaign_id: int) -> None:
    """6. The sharer gives the rest; the donation that reaches the target ends the campaign."""
    page.goto(journey.url(f"/c/{campaign_id}/donate"))
    page.fill("input[name=amount]", str(TARGET_YUAN - 200))
    page.get_by_role("button", name="立即捐款").click()
    _pay_at_cashier(journey, page, "donation-last", f"{TARGET_YUAN - 200:,}")
    page.goto(journey.url(f"/c/{campaign_id}"))
    assert "已结束" in page.content()
    assert f"¥{TARGET_YUAN:,}" in page.content()
    journey.shot(page, "campaign-ended")


def home_after_the_end(journey: Journey, page) -> None:
    """No live campaign is left: the home page says so and lists the ended one below."""
    page.goto(journey.url("/"))
    assert "暂时没有正在筹款的求助" in page.content()
    assert TITLE in page.locator(".ended-campaigns").inner_text()
    journey.shot(page, "home-ended")


def pledge(journey: Journey, organizer, campaign_id: int) -> None:
    """7. The recipient pledges 1,200 yuan over 12 months and repays the first instalment."""
    organizer.goto(journey.url(f"/c/{campaign_id}"))
    organizer.get_by_role("link", name=re.compile("许下诺言")).click()
    organizer.wait_for_url(re.compile(r".*/pledge$"))
    organizer.fill("#total", "1200")
    organizer.fill("textarea[name=words]", "谢谢每一位帮助过小雨的人，我们每个月还一点。")
    journey.shot(organizer, "pledge-form")
    organizer.get_by_role("button", name="公开许下诺言").click()
    organizer.wait_for_url(re.compile(r".*/pledges/\d+$"))
    assert "承诺回馈" in organizer.content() and "¥1,200" in organizer.content()
    journey.shot(organizer, "pledge")
    organizer.get_by_role("button", name="微信支付还款").click()
    _pay_at_cashier(journey, organizer, "repayment", "100")
    organizer.wait_for_url(re.compile(r".*/pledges/\d+.*"))
    organizer.reload()
    hero = organizer.locator(".pledge-hero").inner_text()
    assert "¥100" in hero, hero
    assert "已还" in organizer.locator(".instalments li").first.inner_text()
    journey.shot(organizer, "pledge-repaid")


def test_the_whole_platform(browser, live_server, db, two_widths, run_jobs, tmp_path):
    StaffFactory(username="journey-reviewer", display_name="审核员小李",
                 role=StaffRole.reviewer, password="review-pass-123")
    StaffFactory(username="journey-finance", display_name="财务小王",
                 role=StaffRole.finance, password="finance-pass-123")
    seed_demo_plan()
    for stale in SCREENSHOTS.glob("journey-*.png"):  # numbers shift when a step is added
        stale.unlink()
    journey = Journey(live_server, two_widths, run_jobs)
    contexts = [phone_context(browser) for _ in range(5)]
    patient, reviewer, finance, sharer, donor = (c.new_page() for c in contexts)
    contexts[3].grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    try:
        campaign_id = launch(journey, patient, tmp_path)
        review(journey, reviewer, finance, campaign_id)
        patient.goto(journey.url(f"/c/{campaign_id}"))
        assert "筹款中" in patient.content() or "已筹" in patient.content()
        link = share(journey, sharer, campaign_id)
        donate(journey, donor, link, campaign_id)
        sharer_results(journey, sharer, campaign_id)
        withdraw(journey, patient, reviewer, finance, campaign_id, tmp_path)
        my_area(journey, patient, donor)
        reach_target(journey, sharer, campaign_id)
        pledge(journey, patient, campaign_id)
        home_after_the_end(journey, donor)
    finally:
        for context in contexts:
            context.close()
