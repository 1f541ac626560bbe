"""The rules the platform owes on its pages: the 用户协议 and 隐私政策 exist and say what is
kept and for how long; public pages carry the 个人求助 notice and how to report; an organizer
accepts the documents in force before submitting, and a donor by paying, once per version."""
import pytest
from sqlalchemy import func, select

from app.auth import legal
from app.auth.legal import LegalAcceptance
from app.campaigns.models import CampaignStatus
from app.extensions import db
from tests.factories import UserFactory
from tests.payments.helpers import start
from tests.review.helpers import add_documents, add_identity, ready_campaign
from tests.factories import CampaignFactory
from tests.factories_plugin import add_cover


def text(response) -> str:
    return response.get_data(as_text=True)


def acceptances(user) -> list[tuple[str, str, str]]:
    return [(a.document, a.version, a.via) for a in legal.acceptances_of(user.id)]


@pytest.mark.parametrize("path, words", [
    ("/terms", ["个人求助不属于慈善募捐", "真实性由求助人", "失信名单", "举报此筹款", "版本 1.0"]),
    ("/privacy", ["openid", "真实姓名、身份证号", "医疗材料", "会计档案管理办法", "30 年",
                  "不少于 6 个月", "第三方资金监管银行", "微信支付", "注销账号", "撤回同意"]),
])
def test_the_legal_pages_render_in_plain_chinese(client, path, words):
    response = client.get(path)
    assert response.status_code == 200
    html = text(response)
    for word in words:
        assert word in html, word


def test_every_page_links_the_documents_in_its_footer(client):
    html = text(client.get("/campaigns"))
    assert 'href="/terms"' in html and 'href="/privacy"' in html


def test_public_pages_carry_the_notice_and_how_to_report(client, live_campaign):
    campaign_page = text(client.get(f"/c/{live_campaign.id}"))
    explore = text(client.get("/campaigns"))
    for html in (campaign_page, explore):
        assert "个人求助信息不属于慈善募捐" in html and "真实性由求助人负责" in html
    assert f'href="/c/{live_campaign.id}/report"' in campaign_page
    assert "举报此筹款" in explore


def test_the_campaign_form_and_the_donate_panel_show_the_documents(patient_client, client,
                                                                   live_campaign):
    form = text(patient_client.get("/campaigns/new"))
    assert "《用户协议》" in form and "《隐私政策》" in form and 'href="/privacy"' in form
    panel = text(client.get(f"/c/{live_campaign.id}"))
    assert "即表示您已阅读并同意" in panel and 'href="/terms"' in panel


def _unaccepted_ready_campaign():
    organizer = UserFactory()
    campaign = add_cover(CampaignFactory(organizer=organizer), organizer)
    add_documents(campaign, organizer)
    add_identity(campaign, organizer, accept_legal=False)
    return organizer, campaign


def test_submit_without_acceptance_is_refused_and_changes_nothing(app, db):
    organizer, campaign = _unaccepted_ready_campaign()
    browser = app.test_client(user=organizer)
    page = text(browser.get(f"/c/{campaign.id}/documents"))
    assert 'name="accept_legal"' in page
    for path in (f"/c/{campaign.id}/documents/submit", f"/c/{campaign.id}/submit"):
        html = text(browser.post(path, follow_redirects=True))
        assert "请阅读并勾选同意《用户协议》和《隐私政策》" in html
    db.session.refresh(campaign)
    assert campaign.status == CampaignStatus.draft and acceptances(organizer) == []

    html = text(browser.post(f"/c/{campaign.id}/documents/submit", data={"accept_legal": "1"},
                             follow_redirects=True))
    assert "已提交审核" in html
    db.session.refresh(campaign)
    assert campaign.status == CampaignStatus.submitted
    assert acceptances(organizer) == [("terms", "1.0", "campaign"), ("privacy", "1.0", "campaign")]
    assert all(a.accepted_at is not None for a in legal.acceptances_of(organizer.id))
    page = text(browser.get(f"/c/{campaign.id}/documents"))
    assert 'name="accept_legal"' not in page


def test_acceptance_is_kept_once_per_version_and_a_new_version_asks_again(app, db, monkeypatch):
    user = UserFactory()
    legal.accept(user, legal.VIA_CAMPAIGN)
    legal.accept(user, legal.VIA_CAMPAIGN)
    assert len(acceptances(user)) == 2 and legal.has_accepted(user)
    campaign = ready_campaign(UserFactory())  # its organizer accepts version 1.0

    monkeypatch.setitem(app.config, "LEGAL_VERSIONS", {"privacy": "1.1"})
    assert not legal.has_accepted(user)
    browser = app.test_client(user=campaign.organizer)
    html = text(browser.post(f"/c/{campaign.id}/submit", follow_redirects=True))
    assert "请阅读并勾选同意" in html and campaign.status == CampaignStatus.draft
    assert "版本 1.1" in text(browser.get("/privacy"))

    legal.accept(user, legal.VIA_CAMPAIGN)
    assert acceptances(user)[2:] == [("privacy", "1.1", "campaign")]
    assert legal.has_accepted(user)


def test_the_first_donation_accepts_by_paying_once_per_version(app, db, live_campaign,
                                                                monkeypatch):
    donor = UserFactory()
    start(live_campaign, donor, 10_00)
    start(live_campaign, donor, 20_00)
    assert acceptances(donor) == [("terms", "1.0", "donation"), ("privacy", "1.0", "donation")]
    assert db.session.scalar(select(func.count()).select_from(LegalAcceptance)) == 2
    monkeypatch.setitem(app.config, "LEGAL_VERSIONS", {"terms": "2.0"})
    start(live_campaign, donor, 30_00)
    assert acceptances(donor)[2:] == [("terms", "2.0", "donation")]
