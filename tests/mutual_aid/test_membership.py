"""Joining, leaving, the waiting period, suspension and rejoining."""
import secrets
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, update

from app.auth.models import User
from app.core import crypto
from app.extensions import db
from app.ledger.verify import verify
from app.models_base import utcnow
from app.mutual_aid import rounds, services, shares
from app.core.audit import AuditEntry
from app.mutual_aid.models import MemberNotice, Membership, MembershipStatus
from app.mutual_aid.money_models import ChargeStatus, ShareCharge
from app.mutual_aid.services import JoinRequest, MutualAidError
from tests.factories import UserFactory
from tests.payments.helpers import acknowledged, notice_for, post_notice
from tests.clock import years_ago
from tests.mutual_aid.conftest import announce, id_number, join, members, owe


def request_for(plan, user, **overrides) -> JoinRequest:
    values = dict(plan_id=plan.id, user_id=user.id, real_name="李四", id_number=id_number(),
                  relation="self", answers=dict.fromkeys(range(4), False), accepted_rules=True,
                  accepted_notice=True)
    return JoinRequest(**(values | overrides))


def test_joining_stores_the_id_encrypted_and_starts_the_waiting_period(plan, donor):
    number = id_number(years_ago(38))
    membership = services.join(request_for(plan, donor, id_number=number, real_name="王 小 明"))
    assert membership.status == MembershipStatus.waiting
    assert number not in (membership.id_enc, membership.id_index)
    assert crypto.decrypt(membership.id_enc) == number and services.real_name(membership) == "王小明"
    assert membership.name_masked == "王**"
    assert membership.id_masked == number[:4] + "*" * 10 + number[-4:]
    assert (membership.waiting_until - membership.joined_at) == timedelta(days=180)
    assert membership.declaration["answers"] == [False] * 4
    record = db.session.scalars(select(AuditEntry)).one()
    assert (record.action, record.actor_user_id) == ("mutual_aid.join", donor.id)


@pytest.mark.parametrize("overrides, code", [
    ({"answers": {0: False, 1: True, 2: False, 3: False}}, "not_eligible_health"),
    ({"answers": {0: False}}, "declaration_incomplete"),
    ({"accepted_notice": False}, "not_accepted"),
    ({"id_number": "110105194912310021"}, "id_invalid"),
    ({"real_name": "abc123"}, "name_invalid"),
    ({"relation": "cousin"}, "relation_invalid"),
])
def test_joining_is_refused_with_the_reason(plan, donor, overrides, code):
    with pytest.raises(MutualAidError) as refused:
        services.join(request_for(plan, donor, **overrides))
    assert refused.value.code == code
    assert db.session.scalar(select(func.count()).select_from(Membership)) == 0


def test_a_yes_in_the_declaration_names_the_question(plan, donor):
    with pytest.raises(MutualAidError, match="第 2 题.*恶性肿瘤"):
        services.join(request_for(plan, donor, answers={0: False, 1: True, 2: False, 3: False}))


def test_age_limits(plan, donor):
    today = services.china_today()
    too_old = id_number(date(today.year - 61, 1, 1))
    newborn = id_number(today - timedelta(days=10))
    for number in (too_old, newborn):
        with pytest.raises(MutualAidError) as refused:
            services.join(request_for(plan, donor, id_number=number))
        assert refused.value.code == "not_eligible_age"


def test_one_live_membership_per_person_but_rejoining_after_leaving(plan, donor):
    number = id_number()
    first = services.join(request_for(plan, donor, id_number=number))
    with pytest.raises(MutualAidError, match="已经是本计划的会员"):
        services.join(request_for(plan, UserFactory(), id_number=number))
    services.leave(first.id, donor.id)
    second = services.join(request_for(plan, donor, id_number=number))
    assert second.status == MembershipStatus.waiting and second.id != first.id


def test_family_members_join_under_one_payer(plan, donor):
    join(plan, donor)
    join(plan, donor, relation="child", birth=years_ago(11), name="王小宝")
    assert [m.relation_label for m in services.memberships_of(donor.id)] == ["本人", "子女"]


def test_the_waiting_period_ends(plan, donor, member_status):
    membership = join(plan, donor)
    assert services.end_waiting_periods() == 0
    db.session.execute(update(Membership).values(waiting_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert services.end_waiting_periods() == 1
    assert member_status(membership.id) == MembershipStatus.active


def test_leaving_waives_what_is_due_and_is_recorded(plan, run_jobs, member_status):
    people = members(plan, 3)
    owe(plan, 3_00)
    round_ = announce(plan, run_jobs)
    services.leave(people[0].id, people[0].user_id)
    assert member_status(people[0].id) == MembershipStatus.left
    charge = db.session.scalar(select(ShareCharge).where(ShareCharge.membership_id == people[0].id))
    assert charge.status == ChargeStatus.waived
    with pytest.raises(MutualAidError):
        services.leave(people[0].id, people[0].user_id)
    assert round_.members == 3


def test_unpaid_after_grace_suspends_then_paying_brings_the_member_back(plan, run_jobs, client,
                                                                         member_status, standin):
    payer, other = members(plan, 2)
    owe(plan, 10_00)
    round_ = announce(plan, run_jobs)
    with pytest.raises(MutualAidError, match="宽限期"):
        rounds.close_round(round_.id, today=round_.close_on - timedelta(days=1))
    rounds.close_round(round_.id, today=round_.close_on)
    assert member_status(payer.id) == member_status(other.id) == MembershipStatus.suspended
    notices = db.session.scalars(select(MemberNotice).where(MemberNotice.kind == "suspended"))
    assert {n.user_id for n in notices} == {payer.user_id, other.user_id}

    # A suspended member shares no new round…
    owe(plan, 4_00)
    third = members(plan, 1)[0]
    second = announce(plan, run_jobs, today=round_.announced_on + timedelta(days=14))
    assert second.members == 1
    # …and comes back by paying what is overdue, by WeChat Pay.
    payment = shares.start_share_payment(db.session.get(User, payer.user_id), plan.id,
                                         secrets.token_hex(12), "NATIVE", "127.0.0.1")
    assert payment.amount_fen == db.session.get(ShareCharge, payment_charge(payment)).amount_fen
    assert acknowledged(post_notice(client, notice_for(payment)))
    assert member_status(payer.id) == MembershipStatus.active
    assert member_status(other.id) == MembershipStatus.suspended
    assert third.status == MembershipStatus.active
    assert any(n.kind == "rejoined" for n in db.session.scalars(select(MemberNotice)))
    # The late payment is distributed to the closed round's case.
    assert rounds.rounds_with_money_waiting() == [round_.id]
    assert rounds.distribute(round_.id).items_fen > 0
    assert rounds.rounds_with_money_waiting() == []
    assert verify() == []


def payment_charge(payment) -> int:
    from app.mutual_aid.money_models import ShareBatch

    (charge_id,) = db.session.get(ShareBatch, payment.payable_id).charge_ids
    return charge_id


def test_suspended_too_long_is_removed_and_must_join_anew(plan, run_jobs, member_status):
    person = members(plan, 1)[0]
    owe(plan, 1_00)
    round_ = announce(plan, run_jobs)
    rounds.close_round(round_.id, today=round_.close_on)
    assert services.remove_unpaid() == 0
    db.session.execute(update(Membership).values(suspended_at=utcnow() - timedelta(days=31)))
    db.session.commit()
    assert services.remove_unpaid() == 1
    assert member_status(person.id) == MembershipStatus.removed
    charge = db.session.scalar(select(ShareCharge))
    assert charge.status == ChargeStatus.waived
