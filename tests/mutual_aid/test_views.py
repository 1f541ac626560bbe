"""The pages: public rules and reports, the member's page, the staff console and its access."""
import csv
import io

from sqlalchemy import select

from app.auth.models import StaffRole, User
from app.extensions import db
from app.core.audit import AuditEntry
from app.mutual_aid.models import Claim
from app.mutual_aid.money_models import Round, ShareCharge
from tests.factories import StaffFactory, UserFactory
from tests.mutual_aid.conftest import announce, join, members, owe


def test_the_plan_page_states_the_rules_and_the_notice(client, plan):
    html = client.get("/mutual-aid/", follow_redirects=True).get_data(as_text=True)
    for text in ("网络互助不是保险", "出生满 30 天至 59 周岁", "180 天", "¥300,000", "¥100,000",
                 "8%", "¥188", "7、21", "14、28", "恶性肿瘤"):
        assert text in html, text


def test_the_member_page_and_the_public_round_report(app, plan, run_jobs, client):
    people = members(plan, 3)
    owe(plan, 100)
    round_ = announce(plan, run_jobs)
    member_client = app.test_client(user=db.session.get(User, people[0].user_id))
    me = member_client.get("/mutual-aid/me").get_data(as_text=True)
    assert "张三丰" in me and "待缴分摊" in me and "微信支付" in me
    report = member_client.get(f"/mutual-aid/rounds/{round_.id}").get_data(as_text=True)
    assert "参与分摊人数 N" in report and "我的分摊" in report and "✓" in report
    public = client.get(f"/mutual-aid/rounds/{round_.id}").get_data(as_text=True)
    assert "我的分摊" not in public and "张三丰" not in public
    shares = client.get(f"/mutual-aid/rounds/{round_.id}/shares.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(shares)))
    assert sum(int(r["share_fen"]) for r in rows) == round_.total_fen == 108
    assert {int(r["membership_number"]) for r in rows} == {p.id for p in people}


def test_staff_pages_are_for_staff_and_roles(app, plan, staff_client, donor_client, client):
    assert client.get("/staff/mutual-aid/").status_code == 302
    assert donor_client.get("/staff/mutual-aid/").status_code == 403
    assert staff_client.get("/staff/mutual-aid/").status_code == 200
    assert staff_client.get("/staff/mutual-aid/audit").status_code == 200
    # a reviewer cannot run rounds; finance can
    assert staff_client.post(f"/staff/mutual-aid/plans/{plan.id}/announce").status_code == 403
    finance = app.test_client(user=StaffFactory(role=StaffRole.finance))
    response = finance.post(f"/staff/mutual-aid/plans/{plan.id}/announce")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/staff/mutual-aid/")


def test_a_reviewer_decides_a_claim_in_the_console(app, plan, staff, staff_client, run_jobs):
    from tests.mutual_aid.test_claims import submit

    membership = members(plan, 1)[0]
    submit(app, membership)
    claim = db.session.scalars(select(Claim)).one()
    page = staff_client.get(f"/staff/mutual-aid/claims/{claim.id}").get_data(as_text=True)
    assert "张三丰" in page and "通过并公示" in page   # staff see the real name and full ID
    response = staff_client.post(f"/staff/mutual-aid/claims/{claim.id}/decide",
                                 data={"decision": "reject", "reason": ""})
    assert response.status_code == 302
    assert db.session.get(Claim, claim.id).status.value == "submitted"   # reason required
    staff_client.post(f"/staff/mutual-aid/claims/{claim.id}/decide",
                      data={"decision": "approve", "reason": "材料齐全"})
    db.session.expire_all()
    assert db.session.get(Claim, claim.id).status.value == "publicized"
    record = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "mutual_aid.claim_approved")).one()
    assert (record.actor_staff_id, record.reason) == (staff.id, "材料齐全")
    assert record.target_id == claim.id     # one row, in the platform's one log
    log = staff_client.get("/staff/mutual-aid/audit").get_data(as_text=True)
    assert "材料齐全" in log and "互助申请通过" in log


def test_the_round_job_reports_progress(app, plan, run_jobs):
    join(plan, UserFactory())
    owe(plan, 500)
    round_ = announce(plan, run_jobs)
    finance = app.test_client(user=StaffFactory(role=StaffRole.finance))
    status = finance.get(f"/staff/mutual-aid/rounds/{round_.id}/job.json").json
    assert status["status"] == "announced"
    assert finance.get(f"/staff/mutual-aid/rounds/{round_.id}").status_code == 200
    assert db.session.scalar(select(ShareCharge.amount_fen)) == 540
    assert db.session.get(Round, round_.id).members == 1
