"""Withdrawing consent to 筹款动态消息 (我的 → 个人信息) stops every campaign's news for that person —
updates, as if each campaign were muted — while money owed back to them is still told."""
from __future__ import annotations

from app.campaigns import trust
from app.extensions import db
from app.payouts.telling import refunded
from tests.notices.conftest import drain_jobs, notices_of
from tests.payouts.helpers import donate


def test_campaign_news_stop_for_who_withdrew_and_money_is_still_told(app, client, campaign,
                                                                    patient, donors):
    for donor in donors[:2]:
        donate(client, campaign, donor, 100_00)
    response = app.test_client(user=donors[0]).post(
        "/me/privacy/consents", data={"purpose": "campaign_news", "allowed": "0"},
        follow_redirects=True)
    assert "已撤回同意：筹款动态消息" in response.get_data(as_text=True)

    trust.post_update(campaign.id, patient, "第二次化疗顺利结束，谢谢大家")
    drain_jobs()
    assert notices_of(donors[0].id, "campaign_update") == []
    assert len(notices_of(donors[1].id, "campaign_update")) == 1

    refunded(donors[0].id, 1, campaign.id, 50_00)
    db.session.commit()
    assert len(notices_of(donors[0].id, "refund_paid")) == 1

    app.test_client(user=donors[0]).post("/me/privacy/consents",
                                         data={"purpose": "campaign_news", "allowed": "1"})
    trust.post_update(campaign.id, patient, "今天出院了")
    drain_jobs()
    assert len(notices_of(donors[0].id, "campaign_update")) == 1
