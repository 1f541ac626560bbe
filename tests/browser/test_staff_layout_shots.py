"""Screenshots (375 px and 1280 px) of the plan's staff pages on the console's own layout —
the staff tab bar with 互助 current, the plan's pages as a second row, styled inputs — and of
the review page's warning when one file was uploaded as two kinds, and the payment notices
page; in tests/screenshots/."""
from __future__ import annotations

from sqlalchemy import select

from app.auth.models import StaffRole
from app.core.uploads import check_bytes
from app.extensions import db as database
from app.mutual_aid import claims, funnel
from app.mutual_aid.models import Claim
from app.review import services
from app.review.models import DocumentKind
from tests.browser.conftest import phone_context
from tests.browser.documents import paper_jpeg
from tests.factories import CampaignFactory, StaffFactory, UserFactory
from tests.factories_plugin import add_cover
from tests.mutual_aid.conftest import announce, members, owe, plan  # noqa: F401 (fixture)
from tests.mutual_aid.test_claims import submit

PAGES = [("index", "/staff/mutual-aid/"), ("audit", "/staff/mutual-aid/audit"),
         ("funnel", "/staff/mutual-aid/funnel"), ("payouts", "/staff/mutual-aid/payouts/")]


def _sign_in(page, base: str) -> None:
    page.goto(f"{base}/auth/staff/login")
    page.fill("input[name=username]", "admin7")
    page.fill("input[name=password]", "admin-pass-777")
    page.locator("form button[type=submit]").click()
    page.wait_for_load_state()


def test_the_plans_staff_pages_on_the_staff_layout(browser, live_server, app, plan, staff,
                                                   run_jobs, two_widths):
    StaffFactory(username="admin7", display_name="管理员小吴", role=StaffRole.admin,
                 password="admin-pass-777")
    first, second = members(plan, 2)
    submit(app, first)
    submit(app, second)
    noticed, waiting = database.session.scalars(select(Claim).order_by(Claim.id)).all()
    claims.approve_claim(noticed.id, staff, "材料齐全")
    claims.file_objection(noticed.id, UserFactory().id, "此人确诊早于加入日期，请核实")
    owe(plan, 100_000_00, membership=first)
    members(plan, 2)
    for step in funnel.STEPS:
        funnel.record_step(step, None, "moments", first.user_id)
    round_ = announce(plan, run_jobs)
    pages = PAGES + [("claim", f"/staff/mutual-aid/claims/{waiting.id}"),
                     ("objection", f"/staff/mutual-aid/claims/{noticed.id}"),
                     ("member", f"/staff/mutual-aid/members/{first.id}"),
                     ("round", f"/staff/mutual-aid/rounds/{round_.id}"),
                     ("payment-notices", "/staff/payments/notices?verdict=all")]

    phone = phone_context(browser)
    page = phone.new_page()
    _sign_in(page, live_server)
    for name, url in pages:
        page.goto(live_server + url)
        assert page.locator("nav.staff-nav").count() == 1, url
        current = page.locator("nav.staff-nav a[aria-current=page]").inner_text()
        assert current == {"funnel": "转化漏斗", "payment-notices": "支付通知"}.get(name, "互助"), url
        assert page.locator(".staff-wide").count() == 1, url
        # nothing wider than the phone
        assert page.evaluate("document.documentElement.scrollWidth") <= 375, url
        two_widths(page, f"staff-mutual-aid-{name}")
    phone.close()


def test_the_review_page_warns_of_one_file_as_two_kinds(browser, live_server, db, patient,
                                                        two_widths):
    StaffFactory(username="admin7", display_name="管理员小吴", role=StaffRole.admin,
                 password="admin-pass-777")
    campaign = add_cover(CampaignFactory(organizer=patient, relation="parent"), patient)
    scan = check_bytes(paper_jpeg("居民身份证"))
    services.upload_documents(campaign, patient, DocumentKind.patient_id, [scan])
    services.upload_documents(campaign, patient, DocumentKind.organizer_id, [scan])
    services.upload_documents(campaign, patient, DocumentKind.diagnosis,
                              [check_bytes(paper_jpeg("诊断证明书"))])
    phone = phone_context(browser)
    page = phone.new_page()
    _sign_in(page, live_server)
    page.goto(f"{live_server}/staff/campaigns/{campaign.id}")
    assert "同一个文件被上传为患者身份证、发起人身份证" in page.inner_text("#duplicates")
    assert page.locator(".duplicate-of").count() == 2
    two_widths(page, "staff-review-duplicate-upload")
    phone.close()
