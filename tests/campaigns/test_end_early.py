"""提前结束 over HTTP: the organizer ends a live campaign (it takes effect at once); the page says
已提前结束 with the reason; the donate endpoint refuses; what is left follows the ends already
built — withdraw to the verified payee for costs incurred and the leftover statement, or the
termination's pro-rata refunds to every donor; donors are told; bad input changes nothing."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from app.auth.models import StaffRole
from app.campaigns.change_models import EarlyEnd
from app.campaigns.models import Campaign, CampaignStatus
from app.core.audit import AuditEntry
from app.extensions import db
from app.ledger.verify import verify
from app.notices.models import Notice
from app.payouts.models import DonationRefund, LeftoverStatement, Withdrawal
from tests.factories import StaffFactory, UserFactory
from tests.payouts.helpers import donate, verified_campaign
from tests.review.files import jpeg_bytes

DESKTOP_UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15"


@pytest.fixture()
def funded(app, client, patient, staff):
    """Verified (hospital payee), two donations paid at the stand-in: ¥500 and ¥1,500."""
    campaign = verified_campaign(patient, staff, StaffFactory(role=StaffRole.finance))
    donors = [UserFactory(nickname="张三丰"), UserFactory(nickname="李四")]
    for donor, amount in zip(donors, (500_00, 1_500_00)):
        donate(client, campaign, donor, amount)
    campaign.donors = donors
    return campaign


def end(client, campaign, **data):
    form = {"reason_kind": "recovered", "note": "手术很成功，已经出院", "route": "withdraw"}
    form.update(data)
    return client.post(f"/c/{campaign.id}/end", data=form)


def notices_of(user_id: int, prefix: str) -> list[Notice]:
    db.session.expire_all()
    return list(db.session.scalars(select(Notice).where(
        Notice.user_id == user_id, Notice.dedupe_key.like(f"{prefix}%"))))


def test_ended_early_the_page_says_so_and_donations_stop(app, client, patient_client, funded,
                                                        patient):
    assert "申请提前结束" in patient_client.get(f"/c/{funded.id}/end").get_data(as_text=True)
    response = end(patient_client, funded)
    assert response.status_code == 302
    db.session.expire_all()
    campaign = db.session.get(Campaign, funded.id)
    assert campaign.status == CampaignStatus.ended and campaign.ended_at is not None
    assert campaign.events[-1].actor_user_id == patient.id
    assert campaign.events[-1].reason == "发起人申请提前结束：患者已康复：手术很成功，已经出院"

    page = client.get(f"/c/{funded.id}").get_data(as_text=True)
    assert "本筹款已提前结束" in page and "患者已康复：手术很成功，已经出院" in page
    assert "已提前结束</span>" in page and "资金公示" in page
    api = client.get(f"/api/v1/campaigns/{funded.id}/changes").json["ended_early"]
    assert api["route"] == "withdraw" and api["reason"] == "患者已康复：手术很成功，已经出院"

    donor = app.test_client(user=UserFactory(nickname="王五"))
    refused = donor.post(f"/c/{funded.id}/donate", headers={"User-Agent": DESKTOP_UA},
                         data={"preset": "10", "checkout_key": "k" * 32})
    assert refused.status_code == 409 and "暂不接受捐款" in refused.get_data(as_text=True)
    for donor_user in funded.donors:   # told once, by the end's own notice
        assert len(notices_of(donor_user.id, f"campaign_ended:{funded.id}")) == 1
    assert len(notices_of(patient.id, f"campaign_ended:{funded.id}")) == 1
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "campaign.end_early"))
    assert audit.actor_user_id == patient.id and audit.actor_name == "会员本人"
    # once only
    assert end(patient_client, funded).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(EarlyEnd)) == 1


def test_after_an_early_end_the_rest_goes_to_the_hospital_for_costs_incurred(
        patient_client, funded):
    end(patient_client, funded)
    response = patient_client.post(
        f"/c/{funded.id}/withdraw", content_type="multipart/form-data",
        data={"amount": "1200", "purpose": "支付已发生的住院和手术费用", "invoice_total": "1200",
              "invoices": [(io.BytesIO(jpeg_bytes((400, 300))), "invoice.jpg")]})
    assert response.status_code == 302
    withdrawal = db.session.scalars(select(Withdrawal)).one()
    assert withdrawal.amount_fen == 1_200_00 and withdrawal.payee_kind == "hospital"
    assert patient_client.post(f"/c/{funded.id}/statement", data={
        "body": "其余善款继续用于出院后的复查和康复治疗，票据会陆续公示。"}).status_code == 302
    assert db.session.scalars(select(LeftoverStatement)).one().campaign_id == funded.id
    db.session.rollback()
    assert verify() == []


def test_or_the_rest_is_refunded_to_every_donor_pro_rata(app, client, patient_client, funded,
                                                          patient, run_jobs):
    response = end(patient_client, funded, reason_kind="enough", note="", route="refund")
    assert response.status_code == 302
    run_jobs()
    db.session.expire_all()
    assert db.session.get(Campaign, funded.id).status == CampaignStatus.terminated
    refunds = db.session.scalars(select(DonationRefund).order_by(DonationRefund.id)).all()
    assert [r.donated_fen for r in refunds] == [500_00, 1_500_00]
    assert sum(r.amount_fen - r.channel_fee_returned_fen for r in refunds) == 2_000_00 - 12_00
    page = client.get(f"/c/{funded.id}").get_data(as_text=True)
    assert "本筹款已提前结束" in page and "治疗费用已有着落" in page
    assert "剩余善款将按捐款比例原路退还给捐款人" in page and "本筹款已终止" not in page
    for donor_user in funded.donors:
        told = notices_of(donor_user.id, f"campaign_ended_early:{funded.id}")
        assert len(told) == 1 and "原路退回" in told[0].body
    assert notices_of(patient.id, f"campaign_terminated:{funded.id}") == []
    withdraw = patient_client.post(f"/c/{funded.id}/withdraw", data={
        "amount": "100", "purpose": "复查费"})
    assert withdraw.status_code == 422 and "不能再提现" in withdraw.get_data(as_text=True)
    db.session.rollback()
    assert verify() == []


def test_bad_input_gets_the_form_again_and_changes_nothing(patient_client, donor_client,
                                                           live_campaign):
    cases = [({"reason_kind": ""}, "请选择提前结束的原因"),
             ({"reason_kind": "nonsense"}, "请选择提前结束的原因"),
             ({"route": "pocket"}, "请选择剩余善款的处理方式"),
             ({"reason_kind": "other", "note": "嗯"}, "请用至少 5 个字说明"),
             ({"note": "长" * 301}, "说明不能超过 300 字")]
    for data, message in cases:
        response = end(patient_client, live_campaign, **data)
        assert response.status_code == 422, message
        assert message in response.get_data(as_text=True)
    assert end(donor_client, live_campaign).status_code == 404
    db.session.expire_all()
    assert db.session.get(Campaign, live_campaign.id).status == CampaignStatus.live
    assert db.session.scalar(select(func.count()).select_from(EarlyEnd)) == 0


def test_only_a_live_campaign_ends_early(patient_client, submitted_campaign):
    response = end(patient_client, submitted_campaign)
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Campaign, submitted_campaign.id).status == CampaignStatus.submitted
