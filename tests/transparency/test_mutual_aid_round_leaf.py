"""A mutual-aid round's inputs are a leaf of the log once computed, and a member's share is
recomputed from that leaf alone; the leaf is re-encoded unchanged by `ledger verify`'s check."""
from __future__ import annotations

import json

from sqlalchemy import select

from app.extensions import db
from app.mutual_aid.money_models import ShareCharge
from app.transparency import integrator
from app.transparency.checks import log_problems
from app.transparency.models import Leaf
from tests.mutual_aid.conftest import announce, members, owe, plan  # noqa: F401 (fixture)


def _round_leaves() -> list[dict]:
    return [json.loads(text) for text in db.session.scalars(
        select(Leaf.leaf).where(Leaf.source_type == "mutual_aid_round").order_by(Leaf.index))]


def test_a_members_share_is_recomputed_from_the_round_leaf(plan, run_jobs):  # noqa: F811
    members(plan, 5)
    owe(plan, 7_01, 3_00)
    round_ = announce(plan, run_jobs)
    integrator.integrate_all()
    [leaf] = _round_leaves()
    assert leaf["round"] == round_.id and leaf["members_sharing"] == 5
    assert [case["requested_fen"] for case in leaf["cases"]] == [7_01, 3_00]
    assert leaf["total_fen"] == sum(c["granted_fen"] for c in leaf["cases"]) + leaf["fee_fen"]
    for charge in db.session.scalars(select(ShareCharge).where(ShareCharge.round_id == round_.id)):
        extra = (charge.position - leaf["remainder_offset"]) % leaf["members_sharing"] \
            < leaf["remainder"]
        assert charge.amount_fen == leaf["share_fen"] + (1 if extra else 0)
    text = db.session.scalar(select(Leaf.leaf).where(Leaf.source_type == "mutual_aid_round"))
    assert "张三丰" not in text and "user" not in text
    assert integrator.integrate().added == 0          # once
    assert log_problems() == []
