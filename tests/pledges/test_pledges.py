"""诺言 pledges: made after the end, repaid by WeChat Pay, distributed exactly, kept or broken
over (travelled) time, and shown on the person's later campaigns."""
from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.campaigns.services import end_campaign
from app.extensions import db
from app.ledger.services import balance, campaign_custody
from app.payouts.errors import PayoutError
from app.pledges import distribution
from app.pledges import services as pledges
from app.pledges.accounts import FORWARD_FUND, pledge_custody
from app.pledges.models import (FundEntryKind, Pledge, Repayment, Share, ShareRoute,
                                ShareStatus)
from app.pledges.tasks import pledge_tick
from tests.clock import china_today, days_ahead, month_end, next_date, travel_to
from tests.payouts.helpers import donate, ledger_count
from tests.pledges.helpers import repay


def _pledge(campaign, organizer, total=1_000_00, schedule="monthly", count=2,
            first_due=None, destination="donors"):
    return pledges.create_pledge(campaign.id, organizer, total_fen=total, schedule=schedule,
                                 instalments=count, first_due=first_due or days_ahead(44),
                                 destination=destination, words="谢谢大家，我会努力回报。")


@pytest.fixture()
def ended(funded, staff):
    end_campaign(funded, "筹款期限已到", by_staff=staff)
    return funded


def test_a_pledge_needs_an_ended_campaign_and_at_most_what_was_raised(funded, patient, staff):
    january_31 = next_date(1, 31)   # monthly from the 31st: the end of February, then the 31st
    with pytest.raises(PayoutError, match="筹款结束后才能许下诺言"):
        _pledge(funded, patient)
    end_campaign(funded, "已筹满", by_staff=staff)
    with pytest.raises(PayoutError, match=r"诺言金额不能超过已筹金额 ¥2,000"):
        _pledge(funded, patient, total=2_000_01)
    with pytest.raises(PayoutError, match="还款日期需在明天之后"):
        _pledge(funded, patient, first_due=china_today())
    pledge = _pledge(funded, patient, total=1_000_01, count=3, first_due=january_31)
    with pytest.raises(PayoutError, match="不能重复创建"):
        _pledge(funded, patient)
    year = january_31.year
    assert [(i.due_on, i.amount_fen) for i in pledge.instalments] == [
        (january_31, 333_34), (month_end(year, 2), 333_34), (month_end(year, 3), 333_33)]
    assert db.session.scalar(select(Pledge.id)) == pledge.id


def test_repayments_are_distributed_exactly_and_donors_may_pass_theirs_on(
        client, ended, patient, donors, run_jobs):
    pledge = _pledge(ended, patient)
    pledges.set_pass_on(pledge.id, donors[0], True)
    with pytest.raises(PayoutError, match="只有这笔筹款的捐款人"):
        pledges.set_pass_on(pledge.id, patient, True)
    repay(client, pledge, patient)  # the first instalment: ¥500 (donors gave 300/500/1200)
    run_jobs()
    db.session.expire_all()
    shares = db.session.scalars(select(Share).order_by(Share.user_id)).all()
    assert [(s.user_id, s.route, s.amount_fen, s.status) for s in shares] == [
        (donors[0].id, ShareRoute.forward, 75_00, ShareStatus.paid),
        (donors[1].id, ShareRoute.back, 125_00, ShareStatus.paid),
        (donors[2].id, ShareRoute.back, 300_00, ShareStatus.paid)]
    assert balance(pledge_custody(pledge.id)) == 0
    assert balance(FORWARD_FUND) == 75_00 and ledger_count("pledge_return") == 2
    repay(client, pledge, patient, amount=1_00)  # ¥0.15/0.25/0.60: too small to send back
    run_jobs()
    assert balance(FORWARD_FUND) == 76_00
    repay(client, pledge, patient)  # the rest of the second instalment: ¥499
    run_jobs()
    db.session.expire_all()
    pledge = db.session.get(Pledge, pledge.id)
    assert pledge.status.value == "kept" and pledge.repaid_fen == 1_000_00
    assert pledges.standing(pledge) == "kept"
    with pytest.raises(PayoutError, match="这份诺言已兑现，不再接受还款"):
        pledges.start_repayment(pledge.id, patient, None, secrets.token_hex(12), "NATIVE",
                                "127.0.0.1")
    assert db.session.scalar(select(Repayment.id).where(Repayment.paid_at.is_(None))) is None


def test_schedule_over_time_on_track_late_broken(client, ended, patient, donors, admin):
    pledge = _pledge(ended, patient, total=600_00, count=3, first_due=days_ahead(39))
    first_due, second_due = (i.due_on for i in pledge.instalments[:2])
    with travel_to(first_due - timedelta(days=1)):
        assert pledges.standing(pledge) == "on_track"
    with travel_to(first_due + timedelta(days=1)):
        assert pledges.standing(pledge) == "late"
        repay(client, pledge, patient)
        db.session.expire_all()
        assert pledges.standing(db.session.get(Pledge, pledge.id)) == "on_track"
    with travel_to(second_due + timedelta(days=38)):   # the second instalment is 38 days late
        assert pledge_tick()["broken"] == 0
        assert pledges.standing(db.session.get(Pledge, pledge.id)) == "late"
    with travel_to(second_due + timedelta(days=61)):   # …and now 61: broken, closed
        assert pledge_tick()["broken"] == 1
        db.session.expire_all()
        assert pledges.standing(db.session.get(Pledge, pledge.id)) == "broken"
        with pytest.raises(PayoutError, match="已结束（未兑现），不再接受还款"):
            repay(client, pledge, patient)
    assert ledger_count("payment") == 4  # three donations and one repayment: nothing more


def test_the_record_follows_the_person_to_a_later_campaign(client, ended, patient, staff,
                                                           finance):
    from tests.payouts.helpers import verified_campaign
    from tests.review.helpers import patient_id

    pledge = _pledge(ended, patient, total=300_00, count=1, schedule="once",
                     first_due=days_ahead(18))
    repay(client, pledge, patient)
    later = verified_campaign(patient, staff, finance, patient_id=patient_id(7))
    page = client.get(f"/c/{later.id}").get_data(as_text=True)
    assert "发起人过往的诺言" in page and "已兑现" in page and "¥300" in page
    own = client.get(f"/c/{ended.id}").get_data(as_text=True)
    assert "诺言 · 承诺回馈 ¥300" in own
    public = client.get(f"/pledges/{pledge.id}").get_data(as_text=True)
    assert "已兑现" in public and "谢谢大家" in public and "诺言基金的公开规则" in public


def test_pay_it_forward_fund_tops_up_live_campaigns_then_the_plan(
        client, ended, patient, staff, finance, donors, monkeypatch):
    from app.mutual_aid.accounts import plan_custody
    from app.mutual_aid.services import seed_demo_plan
    from tests.payouts.helpers import verified_campaign
    from tests.review.helpers import patient_id

    monkeypatch.setattr(distribution, "GRANT_CAP_FEN", 1_000_00)
    pledge = _pledge(ended, patient, total=2_000_00, count=1, schedule="once",
                     first_due=days_ahead(181), destination="forward")
    repay(client, pledge, patient)  # ¥2,000, all of it into the fund
    distribution.distribute(db.session.scalar(select(Repayment.id)))
    assert balance(FORWARD_FUND) == 2_000_00
    plan = seed_demo_plan()
    near = verified_campaign(donors[0], staff, finance, patient_id=patient_id(8),
                             target_fen=1_000_00)
    donate(client, near, donors[1], 600_00)          # 60 %: ¥400 short of its target
    far = verified_campaign(donors[2], staff, finance, patient_id=patient_id(9),
                            target_fen=100_000_00)   # 0 %
    grants = distribution.allocate_fund()
    assert [(g.kind, g.campaign_id or g.plan_id, g.amount_fen) for g in grants] == [
        (FundEntryKind.campaign, far.id, 1_000_00),   # lowest progress first, up to the cap
        (FundEntryKind.campaign, near.id, 400_00),    # no more than its gap
        (FundEntryKind.plan, plan.id, 600_00)]        # the rest to the mutual-aid plan
    assert balance(FORWARD_FUND) == 0 and balance(campaign_custody(far.id)) == 1_000_00
    assert balance(campaign_custody(near.id)) == 1_000_00 - 3_60  # less WeChat's fee on ¥600
    assert balance(plan_custody(plan.id)) == 600_00
    assert distribution.allocate_fund() == []
    page = client.get("/pledges/fund").get_data(as_text=True)
    assert "注入互助计划" in page and "资助筹款" in page
    near_page = client.get(f"/c/{near.id}").get_data(as_text=True)
    assert "其中 ¥400 来自" in near_page
