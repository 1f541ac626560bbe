"""Screenshots of the staff review page (phone and desktop) and of a verified campaign page
with badges, updates and attestations at 375 px, in tests/screenshots/."""
from __future__ import annotations

from app.auth.models import StaffRole
from app.campaigns import trust
from app.campaigns.photos import process_image
from app.review import decisions, services
from app.review.models import DocumentKind
from app.core.uploads import check_bytes
from tests.browser.conftest import DESKTOP, phone_context
from tests.browser.documents import paper_jpeg
from tests.factories import CampaignFactory, StaffFactory, UserFactory
from tests.factories_plugin import add_cover
from tests.review.files import pdf_bytes
from tests.review.helpers import add_identity

PAPERS = [(DocumentKind.diagnosis, "诊断证明书"), (DocumentKind.medical_record, "入院记录"),
          (DocumentKind.patient_id, "居民身份证"), (DocumentKind.organizer_id, "居民身份证"),
          (DocumentKind.relation_proof, "出生医学证明"), (DocumentKind.payee, "对公账户证明")]


def _campaign_in_review(organizer):
    campaign = add_cover(CampaignFactory(
        organizer=organizer, title="六岁乐乐急性白血病，恳请帮助", patient_name="陈乐乐"), organizer)
    for kind, title in PAPERS:
        services.upload_documents(campaign, organizer, kind, [check_bytes(paper_jpeg(title))])
    services.upload_documents(campaign, organizer, DocumentKind.costs,
                              [check_bytes(pdf_bytes(2))])
    add_identity(campaign, organizer, patient_name="陈乐乐")
    services.save_payee(campaign, organizer, kind="hospital", account_name="北京儿童医院",
                        bank_name="中国工商银行北京南礼士路支行",
                        account_number="0200001409014400123")
    services.submit_for_review(campaign, organizer)
    return campaign


def _sign_in(page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/auth/staff/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.locator("form button[type=submit]").click()
    page.wait_for_load_state()


def test_review_page_and_verified_campaign(browser, live_server, db, screenshot):
    reviewer = StaffFactory(username="reviewer2", display_name="审核员小周",
                            role=StaffRole.admin, password="review-pass-456")
    organizer = UserFactory(nickname="乐乐妈妈")
    campaign = _campaign_in_review(organizer)
    docs = services.current_documents(campaign.id)
    decisions.decide_document(docs[0].id, reviewer, True)
    decisions.decide_document(docs[1].id, reviewer, False, ["unclear", "no_stamp"],
                              "请重新拍摄，保证公章清晰")

    phone = phone_context(browser)
    page = phone.new_page()
    _sign_in(page, live_server, "reviewer2", "review-pass-456")
    page.goto(f"{live_server}/staff/")
    assert "已等待" in page.content()
    screenshot(page, "review-01-queue")
    page.goto(f"{live_server}/staff/campaigns/{campaign.id}")
    assert page.locator(".doc-zoom").count() >= 5
    screenshot(page, "review-02-review-page-phone")
    page.locator(".doc-zoom").first.click()
    page.locator("[data-zoom-act=in]").click()
    assert page.locator("[data-zoom]").is_visible()
    screenshot(page, "review-02b-zoomed-document")
    page.locator("[data-zoom-act=close]").click()
    phone.close()

    desktop = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    wide = desktop.new_page()
    _sign_in(wide, live_server, "reviewer2", "review-pass-456")
    wide.goto(f"{live_server}/staff/campaigns/{campaign.id}")
    screenshot(wide, "review-03-review-page-desktop")
    desktop.close()

    # Approve everything, verify the payee, then people vouch and the organizer posts.
    decisions.decide_document(docs[1].id, reviewer, True)
    for document in docs[2:]:
        decisions.decide_document(document.id, reviewer, True)
    decisions.verify_identity(campaign.id, reviewer, True)
    decisions.verify_payee(campaign.id, reviewer, True, "医院对公账户，已电话核实")
    decisions.approve_review(campaign.id, reviewer, "材料齐全")
    for nickname, relation, statement in [
            ("张医生", "medical", "我是乐乐的主治医生，孩子确诊急性淋巴细胞白血病，需要尽快移植。"),
            ("乐乐舅舅", "relative", "我是乐乐的舅舅，家里为了治病已经卖了车，情况属实。"),
            ("王老师", "classmate", "乐乐是我们幼儿园大班的孩子，大家都盼着他早日康复。"),
            ("李阿姨", "neighbour", "住在乐乐家楼下十年了，这家人老实本分。")]:
        trust.attest(campaign.id, UserFactory(nickname=nickname), relation, statement)
    trust.post_update(campaign.id, organizer, "今天完成了第二次化疗，乐乐精神不错，谢谢每一位帮助我们的好心人。",
                      [process_image(paper_jpeg("化疗日记", lines=4, size=(800, 600)))])

    public = phone_context(browser)
    view = public.new_page()
    view.goto(f"{live_server}/c/{campaign.id}")
    content = view.content()
    for text in ("诊断证明已核实", "就诊医院已核实", "身份已核实", "收款账户已核实",
                 "医护人员 <strong>1</strong>", "第二次化疗"):
        assert text in content, text
    assert "/documents/" not in content
    screenshot(view, "review-04-verified-campaign")
    public.close()
