"""Everyone told what happened, once (issue 16): each kind of the "who hears what" list lands as
one 通知 and one WeChat message per (event, person) at the stand-in — under a replayed payment
notice, a worker that died mid-send and a second delivery job too."""
from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import func, select

from app.campaigns.services import end_campaign
from app.extensions import db
from app.models_base import utcnow
from app.payouts import withdrawals
from app.review import decisions, services
from app.review.models import DocumentStatus
from app.wechat import messages
from app.wechat.models import WechatMessage
from tests.factories import CampaignFactory, UserFactory
from tests.notices.conftest import drain_jobs, notices_of, owed, received
from tests.payments.helpers import acknowledged, notice_for, post_notice, start
from tests.payouts.helpers import donate, invoice, pay_out
from tests.review.helpers import add_documents, add_identity
from tests.factories_plugin import add_cover


def _all_sent(prefix: str) -> dict[str, str]:
    statuses = owed(prefix)
    assert statuses and set(statuses.values()) == {"sent"}, statuses
    return statuses


def test_the_organizer_hears_each_review_outcome_with_its_reasons(patient, staff, standin):
    from app.campaigns.services import submit_campaign

    campaign = add_cover(CampaignFactory(organizer=patient), patient)
    documents = add_documents(campaign, patient)
    add_identity(campaign, patient)
    submit_campaign(campaign, by_user=patient)
    decisions.decide_document(documents[0].id, staff, approve=False, reasons=["unclear"])
    decisions.reject_review(campaign.id, staff, "请补充清晰的诊断证明")
    [rejected] = notices_of(patient.id, "campaign_rejected")
    assert "请补充清晰的诊断证明" in rejected.body and rejected.url.endswith("/documents")
    # fixed and submitted again: the second round's approval is its own event
    services.remove_document(campaign, patient, documents[0].id)
    services.upload_documents(campaign, patient, documents[0].kind, [invoice()])
    submit_campaign(campaign, by_user=patient)
    for document in services.current_documents(campaign.id):
        if document.status == DocumentStatus.pending:
            decisions.decide_document(document.id, staff, approve=True)
    decisions.verify_identity(campaign.id, staff, ok=True)
    decisions.approve_review(campaign.id, staff)
    assert [n.title for n in notices_of(patient.id, "campaign_")] == ["筹款审核未通过", "筹款审核通过"]
    drain_jobs()
    assert len(_all_sent("campaign_")) == 2
    told = [m for m in _stand_in(standin) if m["touser"] == patient.openid]
    assert [m["data"]["phrase2"]["value"] for m in told] == ["未通过", "已通过"]
    # WeChat's field holds 20 characters: the reasons begin there, the 通知 has them all
    assert told[0]["data"]["thing3"]["value"].startswith("诊断证明：")
    assert told[0]["url"].endswith(f"/auth/login?next=/c/{campaign.id}/documents")


def _stand_in(standin) -> list[dict]:
    from app.wechat_standin.messages import sent_messages

    drain_jobs()
    return list(sent_messages(standin.wsgi_app))


def test_money_in_and_out_is_told_once_to_each(app, client, campaign, patient, donors, staff,
                                               finance, standin, run_jobs):
    for donor, amount in zip(donors, (300_00, 500_00, 1_200_00)):
        donate(client, campaign, donor, amount)
    withdrawal = withdrawals.request_withdrawal(campaign.id, patient, 800_00, "支付住院押金",
                                                invoices=[invoice()])
    pay_out(withdrawal.id, staff, finance)
    run_jobs()
    end_campaign(campaign.id, "发起人提前结束", by_staff=staff)
    run_jobs()
    messages.deliver_due(utcnow() + timedelta(hours=1))   # a later sweep sends nothing again
    organizer = [n.title for n in notices_of(patient.id)]
    assert organizer == ["收款人已核实", "提现审核通过", "提现已到账", "筹款已结束"]
    for donor in donors:
        assert [n.title for n in notices_of(donor.id)] == ["善款已拨付", "您帮助的筹款已结束"]
    assert len(_all_sent("")) == 4 + 2 * len(donors)
    assert received(standin, "funds_disbursed") == {d.openid: 1 for d in donors}
    assert received(standin, "withdrawal_status") == {patient.openid: 2}
    assert received(standin, "campaign_status") == {
        patient.openid: 1, **{d.openid: 1 for d in donors}}
    disbursed = [m for m in _stand_in(standin) if m["template_id"] == "xiangzhu_funds_disbursed"]
    assert disbursed[0]["data"]["amount2"]["value"] == "¥800"
    assert disbursed[0]["data"]["thing3"]["value"] == "医院对公账户"
    # the link opens the campaign page through the sign-in (silent inside WeChat)
    assert disbursed[0]["url"] == f"{app.config['PUBLIC_BASE_URL']}/auth/login?next=/c/{campaign.id}"
    signed_in = app.test_client(user=donors[0]).get(f"/auth/login?next=/c/{campaign.id}")
    assert signed_in.status_code == 302 and signed_in.headers["Location"].endswith(
        f"/c/{campaign.id}")
    page = app.test_client(user=donors[0]).get("/me/notices").get_data(as_text=True)
    assert "善款已拨付" in page and "您帮助的筹款已结束" in page


def _target_campaign(patient, staff, finance, target_fen: int):
    from tests.payouts.helpers import verified_campaign

    return verified_campaign(patient, staff, finance, target_fen=target_fen)


def test_a_replayed_payment_notice_tells_the_end_at_target_once(client, patient, staff, finance,
                                                                 donors, standin, run_jobs):
    campaign = _target_campaign(patient, staff, finance, 500_00)
    donate(client, campaign, donors[0], 200_00)
    payment = start(campaign, donors[1], 300_00)
    notice = notice_for(payment)
    for _ in range(3):   # WeChat resends until acknowledged: each copy is taken, once counted
        assert acknowledged(post_notice(client, notice))
    run_jobs()
    assert owed("campaign_ended:") == {f"campaign_ended:{campaign.id}:{user.id}": "sent"
                                       for user in (patient, donors[0], donors[1])}
    assert received(standin, "campaign_status") == {
        patient.openid: 1, donors[0].openid: 1, donors[1].openid: 1}
    assert [n.body for n in notices_of(donors[1].id)][0].endswith("感谢您的爱心。善款的去向会在筹款页的资金公示中公开。")


def test_twin_notices_at_once_tell_once(app, patient, staff, finance, donors, standin, run_jobs):
    """Concurrent copies of the notice that fills the target (on PostgreSQL they race for the
    order's row; on SQLite they queue): one end, one message per person."""
    campaign = _target_campaign(patient, staff, finance, 300_00)
    payment = start(campaign, donors[0], 300_00)
    notice = notice_for(payment)
    answers: list[bool] = []

    def post():
        with app.app_context():
            answers.append(acknowledged(post_notice(app.test_client(), notice)))
            db.session.remove()

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [True] * 4
    run_jobs()
    messages.deliver_due(utcnow() + timedelta(hours=1))
    assert owed("campaign_ended:") == {f"campaign_ended:{campaign.id}:{user.id}": "sent"
                                       for user in (patient, donors[0])}
    assert received(standin, "campaign_status") == {patient.openid: 1, donors[0].openid: 1}


def test_a_worker_killed_mid_send_is_taken_back_after_its_lease_and_sends_once(
        db, campaign, patient, standin):
    from app.campaigns import telling

    telling.ended(campaign.id, campaign.title, patient.id, "发起人提前结束")
    db.session.commit()   # owed; its delivery job not run yet
    message_id = db.session.scalar(select(WechatMessage.id).where(
        WechatMessage.dedupe_key == f"campaign_ended:{campaign.id}:{patient.id}"))
    # A worker claims it (pending → sending) and is killed before WeChat is called.
    assert messages._claim(message_id) is not None
    db.session.rollback()
    assert messages.deliver(message_id) == "sending"          # rq's retry: refused, in flight
    assert messages.deliver_due(utcnow()) == {}                 # still within the lease
    assert received(standin, "campaign_status") == {}
    later = utcnow() + messages.STALE_SENDING + timedelta(minutes=1)
    assert messages.deliver_due(later) == {"sent": 1}            # taken back, sent
    assert messages.deliver_due(later + timedelta(hours=1)) == {}
    assert messages.deliver(message_id) == "sent"
    assert received(standin, "campaign_status") == {patient.openid: 1}


def test_one_owed_message_per_key_however_often_the_change_is_told(db, campaign, patient, staff):
    from app.campaigns import telling

    for _ in range(3):
        telling.ended(campaign.id, campaign.title, patient.id, "测试")
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(WechatMessage).where(
        WechatMessage.dedupe_key.like("campaign_ended:%"))) == 1
    assert len(notices_of(patient.id, "campaign_ended")) == 1


def test_a_notice_without_a_template_is_in_app_only(db):
    from app.notices.services import Message, tell

    someone = UserFactory()
    tell(someone.id, "test_event:1", Message("test", "标题", "内容", "/"))
    db.session.commit()
    assert [n.title for n in notices_of(someone.id, "test_event")] == ["标题"]
    assert owed("test_event") == {}
