"""Updates told at most once a day per campaign per donor and never to one who muted it (from
the campaign page, CSRF-protected); reporters told each outcome, and their page reading the
current state after a freeze is lifted; a termination and each refund told once."""
from __future__ import annotations

from datetime import timedelta

import time_machine

from app.campaigns import moderation, trust
from app.extensions import db
from app.models_base import utcnow
from app.review import reports
from app.wechat import messages
from tests.clock import now
from tests.notices.conftest import drain_jobs, notices_of, owed, received
from tests.payouts.helpers import donate


def test_updates_once_a_day_and_never_to_who_muted(app, client, campaign, patient, donors,
                                                   standin):
    for donor in donors:
        donate(client, campaign, donor, 100_00)
    trust.post_update(campaign.id, patient, "今天做完了第一次化疗，孩子精神不错。")
    trust.post_update(campaign.id, patient, "晚上复查，各项指标正常。")   # same day: no more
    assert received(standin, "campaign_update") == {d.openid: 1 for d in donors}
    assert [len(notices_of(d.id, "campaign_update")) for d in donors] == [1, 1, 1]
    first = [m for m in _sent(standin) if m["template_id"] == "xiangzhu_campaign_update"][0]
    assert first["data"]["thing2"]["value"].startswith("今天做完了第一次化疗")
    assert first["url"].endswith(f"/auth/login?next=/c/{campaign.id}")
    # the page the message opens offers 不再接收此筹款的消息
    quiet = app.test_client(user=donors[2])
    assert "不再接收此筹款的消息" in quiet.get(f"/c/{campaign.id}").get_data(as_text=True)
    assert quiet.post(f"/c/{campaign.id}/mute").status_code == 302
    assert "您已不再接收此筹款的消息" in quiet.get(f"/c/{campaign.id}").get_data(as_text=True)
    with time_machine.travel(now() + timedelta(days=1), tick=True):   # the next day
        trust.post_update(campaign.id, patient, "出院了，谢谢大家。")
        assert received(standin, "campaign_update") == {
            donors[0].openid: 2, donors[1].openid: 2, donors[2].openid: 1}
        assert len(notices_of(donors[2].id, "campaign_update")) == 1
        assert quiet.post(f"/c/{campaign.id}/unmute").status_code == 302
    with time_machine.travel(now() + timedelta(days=2), tick=True):
        trust.post_update(campaign.id, patient, "回家休养中。")
        assert received(standin, "campaign_update") == {d.openid: 3 - (d == donors[2])
                                                        for d in donors}
    assert set(owed("campaign_update").values()) == {"sent"}


def test_the_mute_button_needs_its_token_and_a_campaign(make_app, campaign, donors):
    guarded = make_app(WTF_CSRF_ENABLED=True)
    with guarded.app_context():
        browser = guarded.test_client(user=donors[0])
        assert browser.post(f"/c/{campaign.id}/mute").status_code == 400
    open_app = make_app(WTF_CSRF_ENABLED=False)
    with open_app.app_context():
        assert open_app.test_client(user=donors[0]).post("/c/999999/mute").status_code == 404
    assert open_app.test_client().post(f"/c/{campaign.id}/mute").status_code in (302, 401)


def _sent(standin) -> list[dict]:
    from app.wechat_standin.messages import sent_messages

    drain_jobs()
    return list(sent_messages(standin.wsgi_app))


def test_the_reporters_page_after_a_freeze_is_lifted(app, campaign, patient, staff, donors,
                                                      standin):
    reporter = donors[0]
    report = reports.file_report(campaign.id, reporter, "exaggerated_costs",
                                 "费用清单与医院公示价格不一致，请核实。")
    reports.freeze_from_report(report.id, staff, "核实治疗费用期间暂停捐款")
    mine = app.test_client(user=reporter)
    assert "筹款已冻结" in mine.get("/me/reports").get_data(as_text=True)
    moderation.unfreeze_campaign(campaign.id, staff, "医院出具了费用证明，与筹款金额一致")
    page = mine.get("/me/reports").get_data(as_text=True)
    assert "冻结已解除" in page and "医院出具了费用证明" in page
    assert "筹款已冻结" not in page
    assert [n.title for n in notices_of(reporter.id, "report_")] == [
        "举报处理结果：筹款已冻结", "举报处理结果：冻结已解除"]
    organizer = [n.title for n in notices_of(patient.id) if n.kind in ("report", "campaign")]
    assert organizer == ["您的筹款收到一条举报", "筹款已暂停", "筹款已恢复"]
    assert all(reporter.nickname not in n.body for n in notices_of(patient.id))
    assert received(standin, "report_result") == {reporter.openid: 2, patient.openid: 1}
    assert received(standin, "campaign_status") == {patient.openid: 2}


def test_a_dismissed_report_is_told_to_both_sides(campaign, patient, staff, donors, standin):
    report = reports.file_report(campaign.id, donors[1], "other", "照片看起来像是网上找的。")
    reports.dismiss_report(report.id, staff, "照片为患者住院期间本人所拍，举报不成立")
    reporter = notices_of(donors[1].id, "report_")
    assert [n.title for n in reporter] == ["举报处理结果：经核实不成立"]
    assert "本人所拍" in reporter[0].body
    assert [n.title for n in notices_of(patient.id, "report_")] == [
        "您的筹款收到一条举报", "举报经核实不成立"]
    assert received(standin, "report_result") == {donors[1].openid: 1, patient.openid: 2}


def test_a_termination_and_each_refund_told_once(app, live_server, client, campaign, patient,
                                                 donors, admin, standin, run_jobs):
    import time

    from app.payouts.models import DonationRefund, RefundStatus

    for donor, amount in zip(donors, (300_00, 500_00, 1_200_00)):
        donate(client, campaign, donor, amount)
    app.test_client(user=donors[0]).post(f"/c/{campaign.id}/mute")  # muted: still told money
    moderation.terminate_campaign(campaign, admin, "患者已康复，发起人申请终止")
    run_jobs()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        db.session.expire_all()
        rows = db.session.query(DonationRefund).all()
        if rows and all(r.status == RefundStatus.succeeded for r in rows):
            break
        time.sleep(0.05)
    messages.deliver_due(utcnow() + timedelta(minutes=2))   # refund notices commit in payments
    messages.deliver_due(utcnow() + timedelta(hours=1))
    assert received(standin, "campaign_status") == {
        patient.openid: 1, **{d.openid: 1 for d in donors}}
    assert received(standin, "refund_done") == {d.openid: 1 for d in donors}
    for donor in donors:
        assert [n.title for n in notices_of(donor.id)] == ["您帮助的筹款已终止", "捐款已按比例退回"]


def test_a_campaign_without_updates_still_offers_the_mute(app, campaign, donors):
    page = app.test_client(user=donors[0]).get(f"/c/{campaign.id}").get_data(as_text=True)
    assert "不再接收此筹款的消息" in page
    anonymous = app.test_client().get(f"/c/{campaign.id}").get_data(as_text=True)
    assert "不再接收此筹款的消息" not in anonymous
