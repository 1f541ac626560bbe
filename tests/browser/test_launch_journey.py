"""A patient signs in through the stand-in, creates and submits a campaign; staff approve it;
the live page opens. Screenshots at 375 px go to tests/screenshots/."""
from __future__ import annotations

import io
import re

from PIL import Image, ImageDraw

from app.auth.models import StaffRole
from tests.browser.conftest import phone_context
from tests.browser.documents import write
from tests.factories import StaffFactory
from tests.review.helpers import ORGANIZER_ID, PATIENT_ID


def _cover_jpeg(tmp_path) -> str:
    image = Image.new("RGB", (1200, 800), (236, 244, 240))
    draw = ImageDraw.Draw(image)
    for i in range(0, 800, 40):
        draw.rectangle([0, i, 1200, i + 20], fill=(214, 236, 226))
    draw.ellipse([450, 250, 750, 550], fill=(120, 190, 160))
    path = tmp_path / "cover.jpg"
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    path.write_bytes(buffer.getvalue())
    return str(path)


def test_patient_launches_and_staff_approves(browser, live_server, db, screenshot, tmp_path):
    StaffFactory(username="reviewer1", display_name="审核员小李", role=StaffRole.reviewer,
                 password="review-pass-123")

    patient = phone_context(browser)
    page = patient.new_page()
    page.goto(f"{live_server}/auth/login?next=/campaigns/new")
    screenshot(page, "launch-01-login")
    page.get_by_text("在本设备上用微信登录").click()
    page.wait_for_load_state()
    screenshot(page, "launch-02-standin-authorize")
    page.locator("input[name=openid][value=new]").check()
    page.locator("input[name=nickname]").fill("小雨妈妈")
    page.get_by_role("button", name="允许").click()
    page.wait_for_url(re.compile(r".*/campaigns/new$"))

    page.fill("input[name=title]", "救救我六岁的女儿小雨")
    page.fill("input[name=patient_name]", "李小雨")
    page.select_option("select[name=relation]", "parent")
    page.fill("input[name=diagnosis]", "急性淋巴细胞白血病")
    page.fill("input[name=hospital]", "北京儿童医院")
    page.fill("input[name=target_yuan]", "300000")
    page.fill("textarea[name=story]",
              "小雨今年六岁，上个月在北京儿童医院确诊急性淋巴细胞白血病。\n\n"
              "化疗和骨髓移植预计需要三十万元，家里已经拿出了全部积蓄。恳请大家帮帮她。")
    page.select_option("select[name=house]", "one")
    page.select_option("select[name=car]", "none")
    page.select_option("select[name=savings]", "lt10k")
    page.locator("input[name=medical_insurance][value=yes]").check()
    page.locator("input[name=commercial_insurance][value=no]").check()
    page.set_input_files("input[name=cover]", _cover_jpeg(tmp_path))
    screenshot(page, "launch-03-campaign-form")
    page.locator("form.campaign-form button[type=submit]").last.click()
    page.wait_for_load_state()

    # Documents and real names, then submit from the documents page.
    page.goto(f"{live_server}/me/campaigns")
    page.get_by_role("button", name="提交审核").first.click()
    page.wait_for_url(re.compile(r".*/documents$"))
    for kind, title in [("diagnosis", "诊断证明书"), ("patient_id", "居民身份证"),
                        ("organizer_id", "居民身份证"), ("relation_proof", "出生医学证明")]:
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
    page.locator("form[action$='/documents/submit'] input[name=accept_legal]").check()
    page.locator("form[action$='/documents/submit'] button").click()
    page.wait_for_load_state()
    page.goto(f"{live_server}/me/campaigns")
    screenshot(page, "launch-04-my-campaigns-submitted")
    assert "审核中" in page.content()

    staff = phone_context(browser)
    staff_page = staff.new_page()
    staff_page.goto(f"{live_server}/auth/staff/login")
    staff_page.fill("input[name=username]", "reviewer1")
    staff_page.fill("input[name=password]", "review-pass-123")
    staff_page.locator("form button[type=submit]").click()
    staff_page.goto(f"{live_server}/staff/")
    screenshot(staff_page, "launch-05-staff-queue")
    staff_page.get_by_text("救救我六岁的女儿小雨").first.click()
    staff_page.wait_for_load_state()
    screenshot(staff_page, "launch-06-staff-review")
    for _ in range(staff_page.get_by_role("button", name="通过此材料").count()):
        staff_page.locator(".doc-pending").first.get_by_role("button", name="通过此材料").click()
        staff_page.wait_for_load_state()
    assert staff_page.locator(".doc-pending").count() == 0
    staff_page.get_by_role("button", name="实名一致").click()
    staff_page.wait_for_load_state()
    staff_page.get_by_role("button", name="通过，上线筹款").click()
    staff_page.wait_for_load_state()

    page.goto(f"{live_server}/me/campaigns")
    page.locator("a.mine-link").first.click()
    page.wait_for_load_state()
    content = page.content()
    assert "救救我六岁的女儿小雨" in content
    assert "筹款中" in content or "已筹" in content
    screenshot(page, "launch-07-live-campaign")
    patient.close()
    staff.close()
