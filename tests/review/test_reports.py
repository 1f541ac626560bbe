"""Reports: filed by signed-in people with evidence, limited per day; staff dismiss, ask for
documents, freeze (donations paused, the page says why) or terminate; the reporter sees it."""
from app.auth.models import StaffRole
from app.core.plugins import registry
from app.campaigns.models import CampaignStatus
from app.review import reports
from app.review.reports import Report, ReportStatus
from app.review.services import ReviewError
from tests.factories import StaffFactory, UserFactory
from tests.review.files import SVG, jpeg_bytes, upload


def body(response) -> str:
    return response.get_data(as_text=True)


def file(client, campaign, **extra):
    data = {"category": "false_illness", "details": "我认识这家人，患者上周已经出院在家了。"}
    data.update(extra)
    return client.post(f"/c/{campaign.id}/report", data=data,
                       content_type="multipart/form-data", follow_redirects=True)


def test_reporting_needs_sign_in_and_not_the_organizer(db, client, patient_client,
                                                       live_campaign):
    response = client.get(f"/c/{live_campaign.id}/report")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    assert "不能举报自己" in body(file(patient_client, live_campaign))
    assert db.session.query(Report).count() == 0


def test_report_with_evidence_and_a_daily_limit(db, donor, donor_client, live_campaign):
    response = file(donor_client, live_campaign, evidence=[upload(jpeg_bytes(), "chat.jpg")])
    assert "举报已提交" in body(response)
    report = db.session.query(Report).one()
    assert len(report.evidence) == 1
    evidence_url = f"/reports/evidence/{report.evidence[0].id}"
    assert donor_client.get(evidence_url).status_code == 200
    bad = file(donor_client, live_campaign, evidence=[upload(SVG, "x.svg")])
    assert "无法识别" in body(bad) and db.session.query(Report).count() == 1
    for _ in range(reports.REPORTS_PER_DAY - 1):
        file(donor_client, live_campaign)
    response = file(donor_client, live_campaign)
    assert response.status_code == 422 and "每人每天最多举报" in body(response)
    assert db.session.query(Report).count() == reports.REPORTS_PER_DAY


def test_report_to_freeze_and_the_reporter_sees_the_outcome(
        app, db, donor, donor_client, staff_client, patient_client, client, live_campaign):
    file(donor_client, live_campaign)
    other = app.test_client(user=UserFactory())
    file(other, live_campaign, category="hidden_assets", details="他们家在城里还有两套房子没有说。")
    first = db.session.query(Report).order_by(Report.id).first()
    queue = body(staff_client.get("/staff/reports"))
    assert "虚假病情" in queue and "隐瞒家庭财产" in queue
    assert "我认识这家人" in body(staff_client.get(f"/staff/reports/{first.id}"))

    response = staff_client.post(f"/staff/reports/{first.id}/freeze", follow_redirects=True,
                                 data={"text": "收到多条举报，平台正在核实患者病情"})
    assert "筹款已冻结" in body(response)
    db.session.refresh(live_campaign)
    assert live_campaign.status == CampaignStatus.frozen and not live_campaign.accepts_donations
    page = body(client.get(f"/c/{live_campaign.id}"))
    assert "本筹款已暂停接受捐款" in page and "平台正在核实患者病情" in page
    assert all(r.status == ReportStatus.frozen for r in db.session.query(Report))
    mine = body(donor_client.get("/me/reports"))
    assert "筹款已冻结" in mine and "平台正在核实患者病情" in mine


def test_request_documents_dismiss_and_terminate(app, db, donor_client, staff, staff_client,
                                                 patient_client, live_campaign):
    file(donor_client, live_campaign)
    report = db.session.query(Report).one()
    staff_client.post(f"/staff/reports/{report.id}/request-documents",
                      data={"text": "请上传最近一周的住院费用清单"})
    assert "请上传最近一周的住院费用清单" in body(
        patient_client.get(f"/c/{live_campaign.id}/documents"))
    assert "已要求发起人补充材料" in body(donor_client.get("/me/reports"))
    # Reviewers cannot terminate; admins can.
    assert staff_client.post(f"/staff/reports/{report.id}/terminate",
                             data={"text": "骗捐"}).status_code == 403
    admin = StaffFactory(role=StaffRole.admin)
    called = []
    hooks = registry("termination_hooks", list, app)
    hooks.append(called.append)
    try:
        app.test_client(user=admin).post(f"/staff/reports/{report.id}/terminate",
                                         data={"text": "经核实患者已康复，终止筹款"})
    finally:
        hooks.remove(called.append)
    db.session.refresh(live_campaign)
    assert live_campaign.status == CampaignStatus.terminated and called == [live_campaign.id]
    assert "筹款已终止" in body(donor_client.get("/me/reports"))
    try:
        reports.dismiss_report(report.id, staff, "晚了")
    except ReviewError as error:
        assert "已处理" in error.message


def test_dismiss(db, donor_client, staff_client, live_campaign):
    file(donor_client, live_campaign)
    report = db.session.query(Report).one()
    staff_client.post(f"/staff/reports/{report.id}/dismiss", data={"text": "经核实病情属实"})
    db.session.refresh(report)
    assert report.status == ReportStatus.dismissed
    assert "经核实病情属实" in body(donor_client.get("/me/reports"))
    db.session.refresh(live_campaign)
    assert live_campaign.status == CampaignStatus.live


def test_a_reporter_who_writes_a_phone_number_is_told_only_staff_read_it(db, donor_client,
                                                                         live_campaign):
    response = file(donor_client, live_campaign, details="他留的电话是 13812345678，已打不通。")
    assert "举报已提交" in body(response)
    assert "举报内容中含有手机号" in body(response) and "不会公开" in body(response)
    assert "13812345678" in db.session.query(Report).one().details  # staff need what was written
    quiet = file(donor_client, live_campaign)
    assert "举报内容中含有" not in body(quiet)
