"""Rounds against the database: charges sum exactly, the cap binds across rounds, shares are paid
by WeChat Pay (there is no wallet), payouts leave custody through the ledger, and
`ledger verify` stays clean."""
import secrets
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.auth.models import User
from app.extensions import db
from app.ledger.services import balance
from app.ledger.verify import verify
from app.mutual_aid import apportionment, paybacks, rounds, shares, tasks
from app.mutual_aid.accounts import (FEE_CLEARING, PAYBACK_DUE, PAYOUT_CLEARING,
                                     plan_custody)
from app.mutual_aid.money_models import (ChargeStatus, Round, RoundItem, RoundStatus,
                                         PayBack, ShareBatch, ShareCharge)
from app.mutual_aid.services import MutualAidError
from tests.clock import travel_to
from tests.mutual_aid.conftest import announce, members, owe, round_day
from tests.payments.helpers import acknowledged, notice_for, post_notice


def charges(round_id):
    return db.session.scalars(select(ShareCharge).where(ShareCharge.round_id == round_id)
                              .order_by(ShareCharge.position)).all()


def pay_by_wechat(client, user_id, plan):
    payment = shares.start_share_payment(db.session.get(User, user_id), plan.id,
                                         secrets.token_hex(12), "NATIVE", "127.0.0.1")
    assert acknowledged(post_notice(client, notice_for(payment)))
    return payment


def test_a_round_charges_every_sharing_member_exactly(plan, run_jobs):
    people = members(plan, 7) + members(plan, 2, aged=False)   # waiting members share too
    owe(plan, 1_000_01, 50_00)
    day = round_day()
    round_ = announce(plan, run_jobs, day)
    assert round_.status == RoundStatus.announced and round_.members == 9
    assert round_.fee_fen == (1_000_01 + 50_00) * 800 // 10_000
    rows = charges(round_.id)
    assert sum(c.amount_fen for c in rows) == round_.total_fen
    assert sorted(c.membership_id for c in rows) == sorted(p.id for p in people)
    assert [c.position for c in rows] == list(range(9))
    for c in rows:
        assert c.amount_fen == apportionment.share_at(c.position, 9, round_.base_share_fen,
                                                      round_.remainder, round_.remainder_offset)
    assert (round_.due_on, round_.close_on) == (day + timedelta(days=7),
                                                day + timedelta(days=14))
    assert rounds.announce_round(plan.id, day).id == round_.id          # idempotent per day
    assert rounds.announce_round(plan.id, day + timedelta(days=1)) is None  # nothing owed
    assert verify() == []


def test_the_remainder_offset_rotates_between_rounds(plan, run_jobs):
    members(plan, 5)
    owe(plan, 7)   # 7 fen + 0 fee over 5 members: 1 each, 2 members pay 2
    first = announce(plan, run_jobs)
    owe(plan, 8)
    second = announce(plan, run_jobs, first.announced_on + timedelta(days=14))
    assert (first.remainder, first.remainder_offset) == (2, 0)
    assert (second.remainder, second.remainder_offset) == (3, 2)
    assert [c.amount_fen for c in charges(first.id)] == [2, 2, 1, 1, 1]
    assert [c.amount_fen for c in charges(second.id)] == [1, 1, 2, 2, 2]


def test_the_yearly_cap_binds_and_nobody_pays_past_it(plan, run_jobs):
    members(plan, 4)
    owe(plan, 300_00)                                  # ¥75 each + fee: ¥81 each
    first = announce(plan, run_jobs)
    owe(plan, 400_00)                                  # would be ¥108 each: only ¥107 left
    second = announce(plan, run_jobs, first.announced_on + timedelta(days=14))
    assert not first.capped and first.max_share_fen == 81_00
    assert second.capped and second.cap_room_fen == 188_00 - 81_00
    assert second.total_fen == 4 * 107_00 and second.max_share_fen == 107_00
    item = db.session.scalars(select(RoundItem).where(RoundItem.round_id == second.id)).one()
    assert item.granted_fen < item.requested_fen and item.granted_fen + second.fee_fen == 428_00
    per_member = db.session.execute(
        select(ShareCharge.membership_id, func.sum(ShareCharge.amount_fen))
        .group_by(ShareCharge.membership_id)).all()
    assert all(total == 188_00 for _, total in per_member)
    owe(plan, 1_00)
    assert rounds.announce_round(plan.id, first.announced_on + timedelta(days=7)) is None  # full
    assert rounds.year_to_date_fen(plan.id, first.year + 1) == 0


def test_shares_paid_by_wechat_then_distributed(plan, run_jobs, client, standin):
    people = members(plan, 3)
    item = owe(plan, 300_00)[0]
    round_ = announce(plan, run_jobs)
    a, b, c = (p.user_id for p in people)
    pay_by_wechat(client, a, plan)
    pay_by_wechat(client, b, plan)
    with pytest.raises(MutualAidError, match="没有待缴"):
        shares.start_share_payment(db.session.get(User, b), plan.id, secrets.token_hex(12),
                                   "NATIVE", "127.0.0.1")
    assert verify() == []

    # c never pays: at the close, c is suspended and the case gets two thirds, pro rata.
    rounds.close_round(round_.id, today=round_.close_on)
    db.session.expire_all()
    collected = rounds.collected_fen(round_.id)
    unpaid = db.session.scalars(select(ShareCharge).where(ShareCharge.user_id == c)).one()
    assert unpaid.status == ChargeStatus.overdue
    assert collected == round_.total_fen - unpaid.amount_fen
    item = db.session.get(RoundItem, item.id)
    fee_out = balance(FEE_CLEARING)
    assert item.distributed_fen + fee_out == collected
    assert fee_out == round_.fee_fen * collected // round_.total_fen
    assert balance(plan_custody(plan.id)) == 0
    assert balance(PAYOUT_CLEARING) == item.distributed_fen
    assert item.claim is None and db.session.get(Round, round_.id).status == RoundStatus.closed
    assert verify() == []


def test_a_payment_for_shares_already_paid_is_paid_back(plan, run_jobs, client, standin):
    person = members(plan, 1)[0]
    owe(plan, 10_00)
    announce(plan, run_jobs)
    user = db.session.get(User, person.user_id)
    first = shares.start_share_payment(user, plan.id, secrets.token_hex(12), "NATIVE", "1.1.1.1")
    second = shares.start_share_payment(user, plan.id, secrets.token_hex(12), "NATIVE", "1.1.1.1")
    assert acknowledged(post_notice(client, notice_for(first)))
    assert acknowledged(post_notice(client, notice_for(second)))
    run_jobs()
    db.session.expire_all()
    batch = db.session.get(ShareBatch, second.payable_id)
    assert batch.overpaid_fen == second.amount_fen and batch.to_wallet_fen == 0
    subject = paybacks.subject_of(paybacks.OVERPAID, batch.id)
    assert paybacks.owed_fen(subject) == 0 and balance(PAYBACK_DUE) == 0
    assert db.session.scalar(select(func.sum(PayBack.amount_fen)).where(
        PayBack.subject == paybacks.OVERPAID, PayBack.status.in_(paybacks.MOVED))) == \
        second.amount_fen
    assert verify() == []


def test_the_tick_runs_the_calendar(plan, run_jobs):
    members(plan, 2)
    owe(plan, 5_00)
    with travel_to(round_day()):
        summary = tasks.tick()
        run_jobs()
    assert summary["announced"] == 1
    round_ = db.session.scalars(select(Round)).one()
    db.session.refresh(round_)
    assert round_.status == RoundStatus.announced
    with travel_to(round_.close_on):
        assert tasks.tick()["closed"] == 1
        assert tasks.tick()["closed"] == 0
    assert verify() == []
