"""A campaign custody account's totals by source type are kept in the posting's own
transaction, read by balance() and source_total(), and checked by `ledger verify`."""
from sqlalchemy import func, select, update

from app.extensions import db
from app.ledger.models import Account, AccountTotal, Entry
from app.ledger.services import (CLEARING_WECHAT, Leg, balance, campaign_custody, post, reverse,
                                 source_total)
from app.ledger.verify import ledger_problems


def _entries_sum(code: str) -> int:
    return db.session.scalar(select(func.coalesce(func.sum(Entry.amount_fen), 0))
                             .join(Account, Account.id == Entry.account_id)
                             .where(Account.code == code))


def _totals(code: str) -> dict[str, tuple[int, int]]:
    return {source: (amount, count) for source, amount, count in db.session.execute(
        select(AccountTotal.source_type, AccountTotal.amount_fen, AccountTotal.entry_count)
        .join(Account, Account.id == AccountTotal.account_id).where(Account.code == code))}


def test_postings_keep_the_custody_totals_and_balance_reads_them(app, db):
    custody = campaign_custody(7)
    first = post("payment", "A1", [Leg(CLEARING_WECHAT, -50_00), Leg(custody, 50_00)])
    post("payment", "A2", [Leg(CLEARING_WECHAT, -20_00), Leg(custody, 20_00)])
    reverse(first, "R1")
    db.session.commit()
    assert _totals(custody) == {"payment": (70_00, 2), "reversal": (-50_00, 1)}
    assert balance(custody) == _entries_sum(custody) == 20_00
    assert source_total(custody, ("payment",)) == 70_00
    # The clearing account takes a leg of every payment: it keeps no cached row to contend on.
    assert _totals(CLEARING_WECHAT) == {}
    assert balance(CLEARING_WECHAT) == -20_00
    assert ledger_problems() == []


def test_a_rolled_back_posting_leaves_no_total(app, db):
    custody = campaign_custody(8)
    post("payment", "B1", [Leg(CLEARING_WECHAT, -10_00), Leg(custody, 10_00)])
    db.session.commit()
    post("payment", "B2", [Leg(CLEARING_WECHAT, -30_00), Leg(custody, 30_00)])
    db.session.rollback()
    assert _totals(custody) == {"payment": (10_00, 1)}
    assert balance(custody) == 10_00


def test_verify_finds_a_total_that_disagrees_with_the_entries(app, db):
    custody = campaign_custody(9)
    post("payment", "C1", [Leg(CLEARING_WECHAT, -10_00), Leg(custody, 10_00)])
    db.session.commit()
    account_id = db.session.scalar(select(Account.id).where(Account.code == custody))
    db.session.execute(update(AccountTotal).where(AccountTotal.account_id == account_id)
                       .values(amount_fen=11_00))
    db.session.commit()
    assert any("cached total" in line and custody in line for line in ledger_problems())
