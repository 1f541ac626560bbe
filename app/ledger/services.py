"""Posting to the ledger and reading it. The only writer of ledger rows.

`post` and `reverse` add rows to the caller's database transaction and never commit: the
business action that moved the money (a payment's confirmation, later a payout) commits its own
state and its ledger transaction together.
"""
from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (BigInteger, Integer, String, bindparam, case, func, or_, select,
                        union_all)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import aliased

from app.extensions import db
from app.ledger.models import Account, Entry, LedgerTransaction
from app.models_base import utcnow

# Account codes are a naming convention; the ledger knows no feature's tables.
CLEARING_WECHAT = "custodian:wechat_clearing"


def campaign_custody(campaign_id: int) -> str:
    return f"campaign:{int(campaign_id)}:custody"


def account_type_of(code: str) -> str:
    if code.startswith("custodian:") and code.endswith("_clearing"):
        return "clearing"
    if code.endswith(":custody"):
        return "custody"
    raise LedgerError(f"unknown kind of account: {code}")


class LedgerError(ValueError):
    pass


@dataclass(frozen=True)
class Leg:
    account: str  # account code
    amount_fen: int


@dataclass(frozen=True)
class EntryRow:
    id: int
    amount_fen: int
    memo: str
    source_type: str
    source_ref: str
    created_at: datetime


def validate_legs(legs: list[Leg]) -> None:
    if len(legs) < 2:
        raise LedgerError("a transaction needs at least two legs")
    for leg in legs:
        if type(leg.amount_fen) is not int:
            raise LedgerError("amounts are integer fen")
        if leg.amount_fen == 0:
            raise LedgerError("a leg cannot be zero")
    if sum(leg.amount_fen for leg in legs) != 0:
        raise LedgerError("legs do not balance")


def account_id(code: str, name: str = "") -> int:
    """The account's id, creating it on first use (safe when two first postings race)."""
    return account_ids([code])[code]


ACCOUNTS = Account.__table__
FIND_ACCOUNTS = select(ACCOUNTS.c.code, ACCOUNTS.c.id).where(
    ACCOUNTS.c.code.in_(bindparam("codes", expanding=True)))
INSERT_TRANSACTION = LedgerTransaction.__table__.insert().returning(
    LedgerTransaction.__table__.c.id)
INSERT_ENTRIES = Entry.__table__.insert()


def account_ids(codes: list[str]) -> dict[str, int]:
    """{code: id} for every code, creating missing accounts (ON CONFLICT DO NOTHING)."""
    conn = db.session.connection()
    wanted = {"codes": list(dict.fromkeys(codes))}
    found = dict(conn.execute(FIND_ACCOUNTS, wanted).all())
    missing = [code for code in wanted["codes"] if code not in found]
    if missing:
        insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
        conn.execute(insert(ACCOUNTS).on_conflict_do_nothing(index_elements=["code"]),
                     [{"code": code, "type": account_type_of(code), "name": code,
                       "created_at": utcnow()} for code in missing])
        found = dict(conn.execute(FIND_ACCOUNTS, wanted).all())
    return found


@functools.cache
def _legs_statement(count: int):
    """INSERT … SELECT of `count` legs, each resolving its account by code in the same
    statement (one round trip); a leg whose account does not exist yet inserts no row."""
    entries = Entry.__table__
    rows = [select(bindparam("t_id", type_=Integer), ACCOUNTS.c.id,
                   bindparam(f"a{i}", type_=BigInteger))
            .where(ACCOUNTS.c.code == bindparam(f"c{i}", type_=String)) for i in range(count)]
    return (entries.insert()
            .from_select(["transaction_id", "account_id", "amount_fen"],
                         union_all(*rows) if count > 1 else rows[0])
            .returning(entries.c.id))  # counted: rowcount of INSERT … SELECT is not portable


def post(source_type: str, source_ref: str, legs: list[Leg], memo: str = "",
         reverses_id: int | None = None) -> int:
    """Add one balanced transaction to the session's transaction; returns its id. Does not
    commit. A second posting for the same (source_type, source_ref) fails on the database's
    unique constraint, so a source can never be counted twice."""
    validate_legs(legs)
    conn = db.session.connection()
    txn_id = conn.execute(INSERT_TRANSACTION, {
        "source_type": source_type, "source_ref": str(source_ref), "memo": memo,
        "reverses_id": reverses_id, "created_at": utcnow()}).scalar_one()
    params: dict = {"t_id": txn_id}
    for i, leg in enumerate(legs):
        params[f"c{i}"], params[f"a{i}"] = leg.account, leg.amount_fen
    if len(conn.execute(_legs_statement(len(legs)), params).all()) != len(legs):
        _write_legs_of_new_accounts(conn, txn_id, legs)
    return txn_id


def _write_legs_of_new_accounts(conn, txn_id: int, legs: list[Leg]) -> None:
    """The first posting to an account: create it, then write the legs that found no account."""
    written = Counter(conn.execute(
        select(ACCOUNTS.c.code).join(Entry.__table__,
                                     Entry.__table__.c.account_id == ACCOUNTS.c.id)
        .where(Entry.__table__.c.transaction_id == txn_id)).scalars())
    pending = []
    for leg in legs:
        if written[leg.account]:
            written[leg.account] -= 1
        else:
            pending.append(leg)
    if not pending:
        raise LedgerError(f"transaction {txn_id}: legs went missing")
    ids = account_ids([leg.account for leg in pending])
    conn.execute(INSERT_ENTRIES, [
        {"transaction_id": txn_id, "account_id": ids[leg.account], "amount_fen": leg.amount_fen}
        for leg in pending])


def reverse(transaction_id: int, source_ref: str, memo: str = "") -> int:
    """Post the mirror image of a transaction (every leg negated). Does not commit."""
    rows = db.session.execute(
        select(Account.code, Entry.amount_fen).join(Entry.account)
        .where(Entry.transaction_id == transaction_id).order_by(Entry.id)).all()
    if not rows:
        raise LedgerError(f"no ledger transaction {transaction_id}")
    legs = [Leg(code, -amount) for code, amount in rows]
    return post("reversal", source_ref, legs, memo=memo, reverses_id=transaction_id)


def balance(code: str) -> int:
    total = db.session.scalar(
        select(func.coalesce(func.sum(Entry.amount_fen), 0)).join(Entry.account)
        .where(Account.code == code))
    return int(total)


def entries(code: str, before_id: int | None = None, limit: int = 50) -> list[EntryRow]:
    """Newest first, by keyset on the entry id (index on account_id, id)."""
    acc = db.session.scalar(select(Account.id).where(Account.code == code))
    if acc is None:
        return []
    query = (select(Entry.id, Entry.amount_fen, LedgerTransaction.memo,
                    LedgerTransaction.source_type, LedgerTransaction.source_ref,
                    LedgerTransaction.created_at)
             .join(Entry.transaction).where(Entry.account_id == acc)
             .order_by(Entry.id.desc()).limit(limit))
    if before_id is not None:
        query = query.where(Entry.id < before_id)
    return [EntryRow(*row) for row in db.session.execute(query)]


def totals_by_account(prefix: str, source_types: tuple[str, ...]) -> dict[str, tuple[int, int]]:
    """{account code: (sum of entries, net number of entries)} over accounts whose code starts
    with `prefix`, counting only transactions of the given source types and their reversals
    (a reversal's entry counts minus one)."""
    reversed_txn = aliased(LedgerTransaction)
    counted = or_(
        LedgerTransaction.source_type.in_(source_types),
        LedgerTransaction.reverses_id.in_(
            select(reversed_txn.id).where(reversed_txn.source_type.in_(source_types))))
    rows = db.session.execute(
        select(Account.code, func.sum(Entry.amount_fen),
               func.sum(case((LedgerTransaction.reverses_id.is_(None), 1), else_=-1)))
        .join(Entry.account).join(Entry.transaction)
        .where(Account.code.startswith(prefix), counted)
        .group_by(Account.code)).all()
    return {code: (int(total or 0), int(count or 0)) for code, total, count in rows}
