"""Staff closing a round before its grace period ends (结束缴费并打款): the reason is recorded,
nobody is suspended until close_on, late payments still reach the claimant, an underpaid claim
says so; and the footer of the plan's pages states the plan's fee, not the campaigns' promise."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.auth.models import StaffRole, User
from app.core.audit import AuditEntry
from app.extensions import db
from app.ledger.verify import verify
from app.models_base import format_yuan, utcnow
from app.mutual_aid import claims, rounds, tasks
from app.mutual_aid.models import Claim, MemberNotice, MembershipStatus
from app.mutual_aid.money_models import (ChargeStatus, Distribution, Round, RoundItem,
                                         RoundStatus, ShareCharge)
from app.mutual_aid.services import MutualAidError
from tests.clock import travel_to
from tests.factories import StaffFactory
from tests.mutual_aid.conftest import announce, members
from tests.mutual_aid.test_claims import submit
from tests.mutual_aid.test_rounds import pay_by_wechat

REASON = "医院催缴手术费，先按已收金额打款"


@pytest.fixture()
def finance(db):
    return StaffFactory(role=StaffRole.finance)


@pytest.fixture()
def finance_client(app, finance):
    return app.test_client(user=finance)


@pytest.fixture()
def half_paid_round(app, plan, staff, run_jobs, client, standin):
    """A claimant and three others share an approved case; two of the others have paid."""
    claimant = members(plan, 1)[0]
    submit(app, claimant)
    claim = db.session.scalars(select(Claim)).one()
    claims.approve_claim(claim.id, staff, "材料齐全")
    assert claims.confirm_noticed_claims(utcnow() + timedelta(days=6)) == 1
    others = members(plan, 3)
    round_ = announce(plan, run_jobs)
    assert round_.close_on > round_.due_on > round_.announced_on
    for person in others[:2]:
        pay_by_wechat(client, person.user_id, plan)
    return round_, claim, claimant, others


def statuses(*memberships) -> list[MembershipStatus]:
    db.session.expire_all()
    return [db.session.get(type(m), m.id).status for m in memberships]


def claim_item(claim) -> RoundItem:
    db.session.expire_all()
    return db.session.scalars(select(RoundItem).where(RoundItem.claim_id == claim.id)).one()


def round_audit() -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(
        AuditEntry.action.startswith("mutual_aid.round_closed")).order_by(AuditEntry.id)))


def member_client(app, membership):
    return app.test_client(user=db.session.get(User, membership.user_id))


def test_closing_early_suspends_nobody_and_records_the_reason(half_paid_round, finance,
                                                             finance_client):
    round_, claim, claimant, others = half_paid_round
    response = finance_client.post(f"/staff/mutual-aid/rounds/{round_.id}/close",
                                   data={"reason": REASON})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Round, round_.id).status == RoundStatus.closed
    assert statuses(claimant, *others) == [MembershipStatus.active] * 4   # claimant included
    unpaid = db.session.scalars(select(ShareCharge).where(
        ShareCharge.round_id == round_.id, ShareCharge.status != ChargeStatus.paid)).all()
    assert {c.membership_id for c in unpaid} == {claimant.id, others[2].id}
    assert {c.status for c in unpaid} == {ChargeStatus.due}                # still payable
    assert db.session.scalars(select(MemberNotice).where(
        MemberNotice.kind == "suspended")).all() == []
    (row,) = round_audit()
    assert row.action == "mutual_aid.round_closed_early" and row.actor_staff_id == finance.id
    assert row.reason.startswith(f"提前结束缴费：{REASON}") and "宽限期结束" not in row.reason
    history = finance_client.get(f"/staff/mutual-aid/rounds/{round_.id}").get_data(as_text=True)
    assert REASON in history and "分摊宽限期结束" not in history
    # what was collected is paid out now
    assert claim_item(claim).distributed_fen > 0
    assert verify() == []


@pytest.mark.parametrize("reason", ["", "   "])
def test_closing_early_without_a_reason_is_refused_and_changes_nothing(half_paid_round,
                                                                       finance_client, reason):
    round_, claim, claimant, others = half_paid_round
    response = finance_client.post(f"/staff/mutual-aid/rounds/{round_.id}/close",
                                   data={"reason": reason})
    assert response.status_code == 422
    assert "请填写提前结束缴费的原因" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Round, round_.id).status == RoundStatus.announced
    assert round_audit() == []
    assert db.session.scalars(select(Distribution)).all() == []
    assert claim_item(claim).distributed_fen == 0
    assert statuses(claimant, *others) == [MembershipStatus.active] * 4
    with pytest.raises(MutualAidError, match="原因"):
        rounds.close_round(round_.id, staff=StaffFactory(role=StaffRole.finance))


def test_the_grace_end_suspends_the_still_unpaid_and_late_money_reaches_the_claimant(
        app, plan, half_paid_round, finance, client):
    round_, claim, claimant, others = half_paid_round
    rounds.close_round(round_.id, staff=finance, reason=REASON)
    first = claim_item(claim).distributed_fen
    assert 0 < first < claim_item(claim).granted_fen

    # The claimant pays late, within the grace period: the next tick pays it out to the case.
    pay_by_wechat(client, claimant.user_id, plan)
    summary = tasks.tick()
    assert summary["distributed"] == 1 and summary["grace_ended"] == 0
    assert claim_item(claim).distributed_fen > first
    assert statuses(claimant, *others) == [MembershipStatus.active] * 4

    # At close_on the job suspends whoever still has not paid, with the usual notice, once.
    with travel_to(round_.close_on):
        assert tasks.tick()["grace_ended"] == 1
        assert tasks.tick()["grace_ended"] == 0
    assert statuses(claimant, *others) == [MembershipStatus.active] * 3 + [
        MembershipStatus.suspended]
    notices = db.session.scalars(select(MemberNotice).where(
        MemberNotice.kind == "suspended")).all()
    assert [n.user_id for n in notices] == [others[2].user_id]
    assert "宽限期" in notices[0].body
    early, grace_end = round_audit()
    assert early.action == "mutual_aid.round_closed_early"
    assert grace_end.action == "mutual_aid.round_closed" and "1 名会员" in grace_end.reason
    assert verify() == []


def test_an_underpaid_claim_says_so_on_the_claim_and_the_public_notice(
        app, plan, half_paid_round, finance, client):
    round_, claim, claimant, others = half_paid_round
    rounds.close_round(round_.id, staff=finance, reason=REASON)
    item = claim_item(claim)
    paid, owed = item.distributed_fen, item.granted_fen - item.distributed_fen
    assert paid and owed
    claim_page = member_client(app, claimant).get(f"/mutual-aid/claims/{claim.id}")
    notice = client.get(f"/mutual-aid/rounds/{round_.id}")
    for page in (claim_page.get_data(as_text=True), notice.get_data(as_text=True)):
        assert "ma-shortfall" in page
        assert f"¥{format_yuan(paid)}，尚欠 ¥{format_yuan(owed)}" in page
        assert "会员仍可在宽限期内" in page and "收到后续付" in page

    # After close_on, with one member suspended, more can still come (a late 补缴)…
    with travel_to(round_.close_on):
        tasks.tick()
        page = client.get(f"/mutual-aid/rounds/{round_.id}").get_data(as_text=True)
    assert "ma-shortfall" in page and "宽限期已于" in page and "暂停后 30 天内补缴" in page
    # …until nobody can pay any more: the shortfall is then final, and said to be.
    for person in (claimant, others[2]):
        for charge in db.session.scalars(select(ShareCharge).where(
                ShareCharge.membership_id == person.id,
                ShareCharge.status != ChargeStatus.paid)):
            charge.status = ChargeStatus.waived
    db.session.commit()
    page = member_client(app, claimant).get(f"/mutual-aid/claims/{claim.id}")
    assert "不再补付" in page.get_data(as_text=True)


def test_a_fully_paid_claim_shows_no_shortfall(app, plan, half_paid_round, finance, client):
    round_, claim, claimant, others = half_paid_round
    for person in (claimant, others[2]):
        pay_by_wechat(client, person.user_id, plan)
    rounds.close_round(round_.id, staff=finance, reason="全部会员已缴费")
    item = claim_item(claim)
    assert item.distributed_fen == item.granted_fen
    assert "ma-shortfall" not in client.get(f"/mutual-aid/rounds/{round_.id}").get_data(
        as_text=True)
    assert "ma-shortfall" not in member_client(app, claimant).get(
        f"/mutual-aid/claims/{claim.id}").get_data(as_text=True)


def footer(html: str) -> str:
    return html.split('<footer class="footer">', 1)[1].split("</footer>", 1)[0]


def test_the_footer_states_what_is_true_for_each_page(app, plan, half_paid_round, staff_client,
                                                      finance_client, client, live_campaign):
    round_, claim, claimant, others = half_paid_round
    pages = {"plan": client.get(f"/mutual-aid/plans/{plan.slug}"),
             "notices": client.get(f"/mutual-aid/plans/{plan.slug}/notices"),
             "round": client.get(f"/mutual-aid/rounds/{round_.id}"),
             "me": member_client(app, claimant).get("/mutual-aid/me"),
             "claim": member_client(app, claimant).get(f"/mutual-aid/claims/{claim.id}"),
             "join": member_client(app, others[0]).get(f"/mutual-aid/plans/{plan.slug}/join"),
             "claim form": member_client(app, claimant).get(
                 f"/mutual-aid/memberships/{claimant.id}/claim"),
             "staff index": staff_client.get("/staff/mutual-aid/"),
             "staff claim": staff_client.get(f"/staff/mutual-aid/claims/{claim.id}"),
             "staff member": staff_client.get(f"/staff/mutual-aid/members/{claimant.id}"),
             "staff round": finance_client.get(f"/staff/mutual-aid/rounds/{round_.id}"),
             "staff audit": staff_client.get("/staff/mutual-aid/audit"),
             "staff funnel": staff_client.get("/staff/mutual-aid/funnel")}
    for name, response in pages.items():
        assert response.status_code == 200, name
        html = response.get_data(as_text=True)
        assert "平台不收取服务费" not in html, name
        assert f"管理费：病例互助金的 {plan.fee_percent}%" in footer(html), name
        assert "第三方机构的监管账户" in footer(html), name
        assert "mutual_aid.css" in html, name          # the layout keeps the plan's stylesheet
    campaign = client.get(f"/c/{live_campaign.id}").get_data(as_text=True)
    assert "平台不收取服务费" in footer(campaign) and "管理费" not in footer(campaign)
