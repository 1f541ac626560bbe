"""我的筹款 as a dashboard: each campaign's state and what happens next, its to-do list, money,
updates and the organizer's notices; a few queries whatever the number of campaigns."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import event

from app.campaigns import services as campaign_services
from app.campaigns.models import CampaignStatus
from app.models_base import utcnow
from app.notices.models import add_notice
from app.review import decisions
from app.review import services as review_services
from app.review.models import DocumentKind
from tests.factories import CampaignFactory
from tests.payouts.helpers import donate, verified_campaign
from tests.review.helpers import add_documents, submitted_ready


def page_of(client) -> str:
    response = client.get("/me/campaigns")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def panel(html: str, campaign_id: int) -> str:
    """The card of one campaign on the page."""
    match = re.search(rf'<article[^>]*id="campaign-{campaign_id}".*?</article>', html, re.S)
    assert match, f"no panel for campaign {campaign_id}"
    return match.group(0)


def test_a_draft_lists_what_is_missing_and_not_a_state_of_30_days(patient_client, patient,
                                                                  draft_campaign):
    html = panel(page_of(patient_client), draft_campaign.id)
    assert "草稿：" in html
    assert "待办" in html
    for kind in review_services.required_kinds(draft_campaign):
        assert f"上传{kind.label}" in html
    assert "填写患者和发起人的实名信息" in html
    assert "填写收款人" in html
    assert f'action="/c/{draft_campaign.id}/submit"' in html
    assert "状态" not in html and "剩余" not in html
    assert "审核通过后开始计算" in html


def test_the_draft_page_says_its_duration_not_a_state(patient_client, draft_campaign):
    html = patient_client.get(f"/c/{draft_campaign.id}").get_data(as_text=True)
    assert "<dt>筹款天数</dt>" in html
    assert "<dt>状态</dt>" not in html


def test_in_review_shows_pending_documents(patient_client, patient):
    campaign = submitted_ready(patient)
    html = panel(page_of(patient_client), campaign.id)
    assert "审核中：" in html
    assert "份待审核" in html
    assert "提交审核" not in html


def test_a_rejected_document_shows_with_the_reviewers_reasons(patient_client, patient, staff):
    campaign = submitted_ready(patient)
    documents = review_services.current_documents(campaign.id)
    diagnosis = next(d for d in documents if d.kind == DocumentKind.diagnosis)
    for document in documents:
        decisions.decide_document(document.id, staff, approve=document.id != diagnosis.id,
                                  reasons=["unclear", "no_stamp"] if document.id == diagnosis.id
                                  else None, note="请拍清楚医院公章" if document.id == diagnosis.id
                                  else "")
    decisions.verify_identity(campaign.id, staff, ok=True)
    decisions.reject_review(campaign.id, staff, note="诊断证明看不清")
    html = panel(page_of(patient_client), campaign.id)
    assert "未通过审核" in html
    assert "诊断证明：未通过" in html
    assert "图片模糊或不完整，无法辨认" in html and "缺少医院公章或医生签字" in html
    assert "请拍清楚医院公章" in html
    assert "诊断证明看不清" in html          # the round's note, as the campaign's reason
    assert "上传诊断证明" in html             # and what to do about it
    assert "需重新上传" in html


def test_a_live_campaign_puts_sharing_first_with_days_left_and_todays_helps(
        client, app, patient, staff, donor):
    from tests.factories import StaffFactory
    from app.auth.models import StaffRole

    finance = StaffFactory(role=StaffRole.finance)
    campaign = verified_campaign(patient, staff, finance)
    donate(client, campaign, donor, 88_00)
    donate(client, campaign, donor, 12_00)
    html = panel(page_of(app.test_client(user=patient)), campaign.id)
    assert "筹款中：" in html
    assert html.index("转发给亲友") < html.index("今日帮助") < html.index("申请提现")
    assert f'action="/c/{campaign.id}/poster"' in html
    assert "<dt>剩余</dt><dd>30 天</dd>" in html
    assert "<dt>今日帮助</dt><dd>2 次 · ¥100</dd>" in html
    assert "¥100" in html
    assert "收款人" in html and "已核实" in html
    assert "发布动态" in html and "动态 0 条" in html


def test_helps_before_china_midnight_are_not_todays(client, app, patient, staff, donor, db):
    from app.auth.models import StaffRole
    from app.donations.dashboard import china_midnight
    from app.donations.models import Donation
    from tests.factories import StaffFactory

    campaign = verified_campaign(patient, staff, StaffFactory(role=StaffRole.finance))
    donate(client, campaign, donor, 50_00)
    paid = db.session.query(Donation).one()
    paid.paid_at = china_midnight() - timedelta(minutes=1)
    db.session.commit()
    html = panel(page_of(app.test_client(user=patient)), campaign.id)
    assert "<dt>今日帮助</dt><dd>还没有，转发试试</dd>" in html


def test_an_ended_campaign_offers_withdrawal_statement_and_the_pledge(patient_client, patient,
                                                                      live_campaign, staff):
    campaign_services.end_campaign(live_campaign, "筹款期限已到")
    html = panel(page_of(patient_client), live_campaign.id)
    assert "已结束：" in html
    assert "申请提现" in html
    assert "公示剩余善款说明" in html
    assert f'href="/c/{live_campaign.id}#funds"' in html and "资金公示" in html
    assert f'href="/c/{live_campaign.id}/pledge"' in html and "许下诺言" in html
    assert "转发给亲友" not in html


def test_a_paid_withdrawal_asks_for_the_hospitals_receipt(client, app, patient, staff, donor,
                                                          run_jobs):
    from app.auth.models import StaffRole
    from app.payouts import withdrawals
    from tests.factories import StaffFactory
    from tests.payouts.helpers import invoice, pay_out

    finance = StaffFactory(role=StaffRole.finance)
    campaign = verified_campaign(patient, staff, finance)
    donate(client, campaign, donor, 2_000_00)
    withdrawal = withdrawals.request_withdrawal(campaign.id, patient, 1_000_00, "支付住院押金",
                                                invoices=[invoice()])
    pay_out(withdrawal.id, staff, finance)
    run_jobs()   # with Redis the transfer runs in a worker
    html = panel(page_of(app.test_client(user=patient)), campaign.id)
    assert "上传 ¥1,000 提现的医院收据" in html
    assert "支付住院押金" in html and "已打款" in html


def test_the_organizers_latest_notices_are_listed(patient_client, patient, draft_campaign, db):
    add_notice(patient.id, "review_result", "审核结果", "您的筹款已通过审核", "/me/campaigns")
    db.session.commit()
    html = page_of(patient_client)
    assert "1 条未读" in html and "您的筹款已通过审核" in html
    assert 'href="/me/notices"' in html or "查看全部通知" in html


def test_only_my_campaigns(patient_client, draft_campaign, db):
    other = CampaignFactory(title="别人的筹款标题")
    html = page_of(patient_client)
    assert draft_campaign.title in html and other.title not in html


def _campaigns_of_every_kind(organizer, count: int) -> None:
    now = utcnow()
    for _ in range(count):
        draft = CampaignFactory(organizer=organizer)
        add_documents(draft, organizer, [DocumentKind.diagnosis])
        CampaignFactory(organizer=organizer, status=CampaignStatus.submitted, submitted_at=now)
        CampaignFactory(organizer=organizer, status=CampaignStatus.rejected)
        CampaignFactory(organizer=organizer, status=CampaignStatus.live, live_at=now,
                        ends_at=now + timedelta(days=20))
        CampaignFactory(organizer=organizer, status=CampaignStatus.ended, live_at=now,
                        ends_at=now, ended_at=now)


def _queries_for_page(app, db, organizer) -> int:
    client = app.test_client(user=organizer)
    client.get("/me/campaigns")   # warm: sign-in look-ups are the same either way
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert client.get("/me/campaigns").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(seen)


@pytest.mark.parametrize("many", [4])
def test_the_page_costs_the_same_queries_for_one_campaign_of_each_kind_or_many(app, db, many):
    from tests.factories import UserFactory

    one, several = UserFactory(), UserFactory()
    _campaigns_of_every_kind(one, 1)
    _campaigns_of_every_kind(several, many)
    assert _queries_for_page(app, db, one) == _queries_for_page(app, db, several)


def test_a_live_campaign_offers_its_self_service(patient_client, live_campaign):
    html = panel(page_of(patient_client), live_campaign.id)
    cid = live_campaign.id
    assert f'href="/c/{cid}/changes/new"' in html and "修改筹款信息" in html
    assert f'href="/c/{cid}/target"' in html and "追加目标" in html
    assert f'href="/c/{cid}/end"' in html and "申请提前结束" in html
    assert f'href="/c/{cid}/changes"' in html and "修改记录" in html


def test_a_change_waiting_for_review_is_shown_instead_of_another(patient_client, patient,
                                                                 live_campaign):
    from app.campaigns import changes

    changes.propose_edit(live_campaign.id, patient, {"hospital": "北京协和医院"},
                         "转院到协和继续治疗")
    html = panel(page_of(patient_client), live_campaign.id)
    assert "修改筹款信息" in html and "待审核" in html
    assert f'href="/c/{live_campaign.id}/changes/new"' not in html
    assert f'href="/c/{live_campaign.id}/target"' not in html
    assert "申请提前结束" in html


def test_a_campaign_ended_early_says_why(patient_client, patient, live_campaign):
    from app.campaigns import ending

    ending.end_early(live_campaign.id, patient, "recovered", "孩子已经出院", "withdraw")
    html = panel(page_of(patient_client), live_campaign.id)
    assert "已提前结束" in html and "患者已康复：孩子已经出院" in html
    assert "许下诺言" in html and "申请提前结束" not in html
