"""The integrator: every committed ledger transaction appended once, in id order, a late
commit of a lower id still appended, idempotent runs, two integrators at once (PostgreSQL),
a checkpoint signed after each run that added leaves, and the log's `ledger verify` check."""
from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from app.extensions import db
from app.transparency.checks import log_problems
from app.transparency import integrator, notes, proofs
from app.transparency.leaves import ref_commitment, ref_salt
from app.transparency.models import Checkpoint, Leaf, TreeNode
from tests.transparency.helpers import post_transactions


def _leaf_txns() -> list[int]:
    return [json.loads(text_)["txn"] for text_ in db.session.scalars(
        select(Leaf.leaf).order_by(Leaf.index))]


def test_every_transaction_becomes_one_leaf_in_id_order(db):
    ids = post_transactions(5)
    result = integrator.integrate()
    assert (result.added, result.tree_size, result.signed) == (5, 5, True)
    assert _leaf_txns() == ids
    again = integrator.integrate()
    assert (again.added, again.tree_size, again.signed) == (0, 5, False)
    assert db.session.scalar(select(func.count()).select_from(Checkpoint)) == 1
    assert log_problems() == []


def test_a_leaf_is_the_documented_canonical_json_without_personal_data(db):
    [txn_id] = post_transactions(1, campaign_id=42)
    integrator.integrate()
    leaf = db.session.scalar(select(Leaf.leaf))
    parsed = json.loads(leaf)
    assert leaf == json.dumps(parsed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert set(parsed) == {"v", "type", "txn", "time", "kind", "ref", "reverses", "legs"}
    assert parsed["txn"] == txn_id and parsed["kind"] == "payment" and parsed["v"] == 1
    assert parsed["legs"] == [{"account": "custodian:wechat_clearing", "fen": -100},
                              {"account": "campaign:42:custody", "fen": 100}]
    assert parsed["time"].endswith("Z") and len(parsed["time"]) == 20
    assert "张三" not in leaf and "T00000000" not in leaf      # no memo, no raw reference
    with db.engine.connect():
        salt = ref_salt(notes.ref_key(), "payment", "T00000000")
    assert parsed["ref"] == ref_commitment(salt, "payment", "T00000000")


def test_a_lower_id_committed_after_a_higher_one_was_integrated_is_appended_later(app, db):
    """A posting holds its id uncommitted (another connection) while a later one commits and
    is integrated; once it commits, the next run appends it."""
    post_transactions(2)
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    if engine.dialect.name != "postgresql":
        engine.dispose()
        pytest.skip("SQLite serialises writers: no transaction can hold an id uncommitted "
                    "while another commits")
    late = Session(engine)
    try:
        late.execute(text("INSERT INTO ledger_transactions (source_type, source_ref, memo, "
                          "created_at) VALUES ('payment', 'LATE', '', now())"))
        late_id = late.execute(text("SELECT max(id) FROM ledger_transactions")).scalar_one()
        later = post_transactions(1, start=10)
        integrator.integrate()
        assert late_id not in _leaf_txns() and later[0] in _leaf_txns()
        account = late.execute(text("SELECT id FROM ledger_accounts ORDER BY id")).scalars().all()
        late.execute(text("INSERT INTO ledger_entries (transaction_id, account_id, amount_fen) "
                          "VALUES (:t, :a, -7), (:t, :b, 7)"),
                     {"t": late_id, "a": account[0], "b": account[1]})
        late.commit()
    finally:
        late.close()
        engine.dispose()
    assert integrator.integrate().added == 1
    assert _leaf_txns()[-1] == late_id
    assert log_problems() == []


def test_transactions_behind_the_lookback_window_are_swept_by_a_full_run(db, monkeypatch):
    post_transactions(3)
    integrator.integrate()
    monkeypatch.setattr(integrator, "LOOKBACK_IDS", 0)
    # a transaction the window no longer sees: drop its leaf's row as if it had never come
    db.session.execute(Leaf.__table__.delete().where(Leaf.index == 0))
    db.session.execute(TreeNode.__table__.delete().where(TreeNode.level == 0,
                                                         TreeNode.index == 0))
    db.session.commit()
    assert integrator.pending_transaction_ids(10) == []
    assert len(integrator.pending_transaction_ids(10, full=True)) == 1


def test_a_backlog_is_appended_in_batches_each_signed(db):
    post_transactions(25)
    assert integrator.integrate_all(limit=10) == 25
    sizes = list(db.session.scalars(select(Checkpoint.tree_size).order_by(Checkpoint.tree_size)))
    assert sizes == [10, 20, 25]
    for size in sizes:
        assert proofs.checkpoint_at(size).root_hash == proofs.root(size)
    assert log_problems() == []


def test_an_empty_ledger_gets_a_checkpoint_of_the_empty_tree(db):
    result = integrator.integrate()
    assert (result.added, result.tree_size, result.signed) == (0, 0, True)
    assert proofs.latest_checkpoint().note.startswith("xiangzhu.local/ledger\n0\n47DEQpj8HBSa+/")
    assert integrator.integrate().signed is False


def test_ledger_verify_sees_an_edited_leaf_and_a_broken_node(db):
    post_transactions(4)
    integrator.integrate()
    db.session.execute(Leaf.__table__.update().where(Leaf.index == 1)
                       .values(leaf=Leaf.leaf + " "))
    db.session.execute(TreeNode.__table__.update().where(TreeNode.level == 1,
                                                         TreeNode.index == 1)
                       .values(hash=b"\x00" * 32))
    db.session.commit()
    problems = log_problems()
    assert any("leaf 1:" in line and "encodes differently" in line for line in problems)
    assert any("stored leaf hash" in line for line in problems)
    assert any("level 1:" in line for line in problems)


def test_two_integrators_at_once_integrate_each_transaction_once(app, db):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the row lock that serialises integrators is PostgreSQL's")
    post_transactions(300)
    results = []

    def run():
        with app.app_context():
            try:   # a run that raised leaves no result: the count below fails
                results.append(integrator.integrate(limit=1000))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.added for r in results) == [0, 300]
    assert db.session.scalar(select(func.count()).select_from(Leaf)) == 300
    assert log_problems() == []


def test_ledger_verify_reports_a_transaction_the_integrator_passed_by(db, monkeypatch):
    """A transaction missing from the log once a checkpoint was signed more than the merge
    delay after it was posted is a finding (here: a leaf gone, and a lookback too short to see
    it again)."""
    import time_machine

    from tests.clock import now

    [first, _] = post_transactions(2)
    integrator.integrate()
    db.session.execute(Leaf.__table__.delete().where(Leaf.index == 0))
    db.session.commit()
    monkeypatch.setattr(integrator, "LOOKBACK_IDS", 0)
    assert not any("not in the log" in line for line in log_problems())
    with time_machine.travel(now() + timedelta(minutes=2), tick=False):
        post_transactions(1, start=5)
        integrator.integrate()
        problems = log_problems()
    assert f"transaction {first} is not in the log, though checkpoints were signed more than " \
           f"the merge delay after it was posted" in problems
