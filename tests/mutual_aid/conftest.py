"""Fixtures of the mutual-aid tests: the demo plan, members made through the join service
(then moved in time where a test needs an old membership), items owed, a round run to the end.
"""
from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from sqlalchemy import update

from app.core import idcard
from app.extensions import db as _db
from app.extensions import limiter
from app.models_base import utcnow
from app.mutual_aid import rounds, services
from app.mutual_aid.models import Membership, MembershipStatus
from app.mutual_aid.money_models import ItemKind, Round, RoundItem
from tests.clock import next_day_of_month, years_ago
from tests.factories import UserFactory

_sequence = itertools.count(1)


@pytest.fixture(autouse=True)
def _reset_rate_limits(app):
    limiter.reset()
    yield


@pytest.fixture()
def plan(db):
    return services.seed_demo_plan()


def round_day() -> date:
    """The next 7th (China time), today included: an announce day of the demo plan, and its
    round closes (14 days on) within the same month, so one year's cap covers both rounds."""
    return next_day_of_month(7)


def id_number(birth: date | None = None) -> str:
    """A valid ID number; by default of someone aged 36."""
    return idcard.make_number("110101", birth or years_ago(36), next(_sequence) % 1000)


def join(plan, user, relation: str = "self", birth: date | None = None,
         name: str = "张三丰", source_campaign_id: int | None = None) -> Membership:
    return services.join(services.JoinRequest(
        plan_id=plan.id, user_id=user.id, real_name=name, id_number=id_number(birth),
        relation=relation, answers=dict.fromkeys(range(len(plan.health_questions)), False),
        accepted_rules=True, accepted_notice=True, source_campaign_id=source_campaign_id))


def age_membership(membership: Membership, days: int = 200) -> Membership:
    """Pretend the member joined `days` ago (their waiting period is over after 180)."""
    joined = utcnow() - timedelta(days=days)
    _db.session.execute(update(Membership).where(Membership.id == membership.id).values(
        joined_at=joined, waiting_until=joined + timedelta(days=180)))
    _db.session.commit()
    services.end_waiting_periods()
    _db.session.refresh(membership)
    return membership


def members(plan, n: int, aged: bool = True) -> list[Membership]:
    out = []
    for _ in range(n):
        m = join(plan, UserFactory())
        out.append(age_membership(m) if aged else m)
    return out


def owe(plan, *amounts: int, kind: ItemKind = ItemKind.claim, membership=None) -> list[RoundItem]:
    """Items owed by the next round (without going through claims)."""
    membership = membership or _db.session.query(Membership).first()
    items = [RoundItem(plan_id=plan.id, kind=kind, membership_id=membership.id,
                       beneficiary_user_id=membership.user_id, requested_fen=amount)
             for amount in amounts]
    _db.session.add_all(items)
    _db.session.commit()
    return items


def announce(plan, run_jobs, today: date | None = None) -> Round:
    round_ = rounds.announce_round(plan.id, today or round_day())
    assert round_ is not None
    run_jobs()
    _db.session.expire_all()
    return _db.session.get(Round, round_.id)


@pytest.fixture()
def member_status():
    def read(membership_id: int) -> MembershipStatus:
        _db.session.expire_all()
        return _db.session.get(Membership, membership_id).status

    return read
