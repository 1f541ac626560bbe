"""In Chromium at 375 px: forms answer with the app's own Chinese message, never the browser's
bubble (the mutual-aid join form sent empty reaches the server); the campaign form uploads a
photo the moment it is picked, keeps it across a refused submission and focuses the first
error; 我的筹款 as a dashboard. Screenshots go to tests/screenshots/."""
from __future__ import annotations

import io
import re
from datetime import timedelta

from PIL import Image
from sqlalchemy import select

from app.auth.models import StaffRole, User
from app.campaigns.models import Campaign, CampaignStatus
from app.extensions import db as _db
from app.models_base import utcnow
from tests.browser.conftest import phone_context
from tests.campaigns.helpers import STORY
from tests.factories import CampaignFactory, StaffFactory, UserFactory


def sign_in(page, live_server, next_path: str, nickname: str) -> User:
    page.goto(f"{live_server}/auth/login?next={next_path}")
    page.get_by_text("在本设备上用微信登录").click()
    page.wait_for_load_state()
    page.locator("input[name=openid][value=new]").check()
    page.locator("input[name=nickname]").fill(nickname)
    page.get_by_role("button", name="允许").click()
    page.wait_for_url(re.compile(rf".*{re.escape(next_path)}$"))
    _db.session.expire_all()
    return _db.session.scalars(select(User).where(User.nickname == nickname)).one()


def photo_file(tmp_path, name: str = "cover.jpg", color=(120, 190, 160)) -> str:
    path = tmp_path / name
    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), color).save(buffer, "JPEG", quality=85)
    path.write_bytes(buffer.getvalue())
    return str(path)


def test_the_join_form_sent_empty_reaches_the_server_and_answers_in_chinese(
        browser, live_server, db, screenshot):
    from app.mutual_aid import services

    plan = services.seed_demo_plan()
    context = phone_context(browser)
    page = context.new_page()
    join = f"/mutual-aid/plans/{plan.slug}/join"
    sign_in(page, live_server, join, "想加入的人")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name=re.compile("确认加入")).click()
    assert posted.value.status == 422          # no bubble stopped it: the server answered
    page.wait_for_load_state()
    alert = page.locator(".flash-error")
    assert "请阅读并同意计划规则" in alert.inner_text()
    assert page.evaluate("document.querySelector('form[novalidate]') !== null")
    screenshot(page, "form-join-empty-375")
    context.close()


def test_the_campaign_form_keeps_a_photo_across_a_refused_submission(browser, live_server, db,
                                                                    screenshot, tmp_path):
    context = phone_context(browser)
    page = context.new_page()
    organizer = sign_in(page, live_server, "/campaigns/new", "小雨妈妈")
    page.fill("input[name=title]", "救命")                     # too short: refused
    page.fill("input[name=patient_name]", "李小雨")
    page.select_option("select[name=relation]", "parent")
    page.fill("input[name=diagnosis]", "急性淋巴细胞白血病")
    page.fill("input[name=hospital]", "北京儿童医院")
    page.fill("input[name=target_yuan]", "-1")                  # out of range: refused
    page.fill("textarea[name=story]", STORY)
    page.select_option("select[name=house]", "none")
    page.select_option("select[name=car]", "none")
    page.select_option("select[name=savings]", "lt10k")
    page.locator("input[name=medical_insurance][value=yes]").check()
    page.locator("input[name=commercial_insurance][value=no]").check()
    page.set_input_files("input[name=cover]", photo_file(tmp_path))
    # Uploaded at once: its thumbnail appears and the file input is emptied.
    page.locator('[data-held-list="held_cover"] img').wait_for()
    assert page.locator("input[name=cover]").evaluate("input => input.files.length") == 0

    with page.expect_response(lambda r: r.request.method == "POST"
                              and r.url.endswith("/campaigns/new")) as posted:
        page.locator("form.campaign-form button[type=submit]").last.click()
    assert posted.value.status == 422
    page.wait_for_load_state()
    content = page.content()
    assert "标题需要 5 到 60 个字" in content
    assert "目标金额需在 ¥1,000 – ¥500,000 之间" in content
    assert page.locator('input[name=held_cover]:checked').count() == 1
    assert page.locator('[data-held-list="held_cover"] img').count() == 1
    # The page went to the first error and put the cursor in it.
    assert page.evaluate("document.activeElement && document.activeElement.name") == "title"
    assert page.evaluate("window.scrollY") > 0
    page.evaluate("window.scrollTo(0, 0)")   # a full-page shot while scrolled paints the top bar midway
    screenshot(page, "form-campaign-refused-375")

    page.fill("input[name=title]", "救救我六岁的女儿小雨")
    page.fill("input[name=target_yuan]", "300000")
    page.locator("form.campaign-form button[type=submit]").last.click()
    page.wait_for_url(re.compile(r".*/c/\d+$"))
    _db.session.expire_all()
    campaign = _db.session.scalars(select(Campaign).where(
        Campaign.organizer_id == organizer.id)).unique().one()
    assert len(campaign.photos) == 1 and campaign.cover.width == 800
    context.close()


def test_my_campaigns_dashboard_at_375(browser, live_server, db, screenshot, tmp_path):
    from app.review import decisions
    from app.review import services as review_services
    from app.review.models import DocumentKind
    from tests.payouts.helpers import donate, verified_campaign
    from tests.review.helpers import patient_id, submitted_ready

    context = phone_context(browser)
    page = context.new_page()
    organizer = sign_in(page, live_server, "/me/campaigns", "小雨妈妈")
    reviewer = StaffFactory(role=StaffRole.reviewer)
    finance = StaffFactory(role=StaffRole.finance)

    live = verified_campaign(organizer, reviewer, finance, title="救救我六岁的女儿小雨")
    from flask import current_app

    client = current_app.test_client()
    for amount in (200_00, 50_00):
        donate(client, live, UserFactory(), amount)

    rejected = submitted_ready(organizer, patient_id=patient_id(11),
                               title="爸爸突发脑出血，恳请帮助", patient_name="李大山",
                               relation="child")
    for document in review_services.current_documents(rejected.id):
        bad = document.kind == DocumentKind.diagnosis
        decisions.decide_document(document.id, reviewer, approve=not bad,
                                  reasons=["no_stamp"] if bad else None,
                                  note="请上传盖有医院公章的诊断证明" if bad else "")
    decisions.verify_identity(rejected.id, reviewer, ok=True)
    decisions.reject_review(rejected.id, reviewer, note="诊断证明缺少医院公章")
    now = utcnow()
    CampaignFactory(organizer=organizer, status=CampaignStatus.ended, title="妈妈的手术已完成",
                    live_at=now - timedelta(days=40), ends_at=now - timedelta(days=10),
                    ended_at=now - timedelta(days=10), raised_fen=86_000_00)

    page.goto(f"{live_server}/me/campaigns")
    content = page.content()
    assert "转发给亲友" in content and "今日帮助" in content
    assert "诊断证明：未通过" in content and "缺少医院公章或医生签字" in content
    assert "许下诺言" in content
    # Nothing wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "dashboard-375")
    context.close()
