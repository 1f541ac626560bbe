"""The ledger itself: balanced, append-only, one transaction per source, balances from entries."""
import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from app.extensions import db
from app.ledger.models import Entry, LedgerImmutableError, LedgerTransaction
from app.ledger.services import (CLEARING_WECHAT, Leg, LedgerError, account_id, balance,
                                 campaign_custody, entries, post, reverse)
from app.ledger.verify import verify

CUSTODY = campaign_custody(7)


def donate(ref: str, fen: int) -> int:
    txn = post("test", ref, [Leg(CLEARING_WECHAT, -fen), Leg(CUSTODY, fen)], memo="捐款")
    db.session.commit()
    return txn


@pytest.mark.parametrize("legs, message", [
    ([Leg(CLEARING_WECHAT, -100), Leg(CUSTODY, 99)], "balance"),
    ([Leg(CLEARING_WECHAT, 0), Leg(CUSTODY, 0)], "zero"),
    ([Leg(CUSTODY, 100)], "two legs"),
    ([Leg(CLEARING_WECHAT, -1.5), Leg(CUSTODY, 1.5)], "integer"),
    ([Leg(CLEARING_WECHAT, True), Leg(CUSTODY, -1)], "integer"),
])
def test_unbalanced_or_odd_legs_are_refused_before_anything_is_written(db, legs, message):
    with pytest.raises(LedgerError, match=message):
        post("payment", "X1", legs)
    db.session.rollback()
    assert db.session.scalars(select(LedgerTransaction)).all() == []


def test_balances_come_from_entries(db):
    donate("A", 50_00)
    donate("B", 20_00)
    assert balance(CUSTODY) == 70_00
    assert balance(CLEARING_WECHAT) == -70_00
    assert balance("campaign:999:custody") == 0
    assert [e.amount_fen for e in entries(CUSTODY)] == [20_00, 50_00]
    newest, older = entries(CUSTODY)
    assert [e.amount_fen for e in entries(CUSTODY, before_id=newest.id)] == [50_00]
    assert verify() == []


def test_a_source_is_posted_once_the_database_says_so(db):
    donate("A", 50_00)
    with pytest.raises(IntegrityError):
        donate("A", 50_00)
    db.session.rollback()
    assert balance(CUSTODY) == 50_00


def test_the_database_refuses_a_zero_leg(db):
    txn = donate("A", 1)
    with pytest.raises(IntegrityError):
        db.session.execute(insert(Entry).values(transaction_id=txn, amount_fen=0,
                                                account_id=account_id(CUSTODY)))
    db.session.rollback()


def test_mistakes_are_reversed_never_edited(db):
    txn = donate("A", 50_00)
    reverse(txn, source_ref="A", memo="冲正")
    db.session.commit()
    assert balance(CUSTODY) == 0 and balance(CLEARING_WECHAT) == 0
    assert len(entries(CUSTODY)) == 2
    entry = db.session.scalars(select(Entry)).first()
    entry.amount_fen = 1
    with pytest.raises(LedgerImmutableError):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(LedgerImmutableError):
        db.session.delete(db.session.scalars(select(LedgerTransaction)).first())
        db.session.flush()
    db.session.rollback()
    assert verify() == []
    with pytest.raises(LedgerError):
        reverse(12345, source_ref="nothing")


def test_postgresql_refuses_updates_and_deletes_of_ledger_rows(db):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the append-only trigger is PostgreSQL's")
    donate("A", 50_00)
    for statement in ("UPDATE ledger_entries SET amount_fen = amount_fen * 2",
                      "DELETE FROM ledger_entries", "DELETE FROM ledger_transactions"):
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text(statement))
        db.session.rollback()
    assert balance(CUSTODY) == 50_00


def test_verify_finds_an_unbalanced_or_one_legged_transaction(db):
    txn = donate("A", 50_00)
    db.session.execute(insert(Entry).values(transaction_id=txn, amount_fen=1,
                                            account_id=account_id(CUSTODY)))
    db.session.add(LedgerTransaction(source_type="test", source_ref="B"))
    db.session.commit()
    problems = verify()
    assert any(f"transaction {txn} does not balance" in p for p in problems)
    assert any("has 0 leg(s)" in p for p in problems)


def test_verify_finds_a_transaction_reversed_twice(db):
    txn = donate("A", 50_00)
    reverse(txn, "A")
    reverse(txn, "A-again")
    db.session.commit()
    assert any("reversed 2 times" in p for p in verify())


def test_orm_updates_of_other_rows_are_untouched_by_the_guard(db, live_campaign):
    donate("A", 50_00)
    live_campaign.title = "改个标题"
    db.session.add(LedgerTransaction(source_type="test", source_ref="new"))
    db.session.flush()  # new ledger rows and other tables' updates pass the guard
    db.session.rollback()
