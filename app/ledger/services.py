"""Posting to the ledger and reading it. The only writer of ledger rows.

`post` and `reverse` add rows to the caller's database transaction and never commit: the
business action that moved the money (a payment's confirmation, a payout, a refund) commits its
own state and its ledger transaction together.
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
from app.ledger.models import Account, AccountTotal, Entry, LedgerTransaction
from app.models_base import utcnow

# Account codes are a naming convention; the ledger knows no feature's tables.
CLEARING_WECHAT = "custodian:wechat_clearing"
# What WeChat Pay has charged as its fee (手续费), net of fees it returned with refunds.
CHANNEL_FEES = "custodian:wechat_channel_fees"
# The platform's own money, for channel fees it bears so that a payable receives its whole
# amount (a mutual-aid share, a wallet top-up, a pledge repayment). Never donor money.
PLATFORM_FEE_SUBSIDY = "platform:channel_fee_subsidy"
# Source types of the channel fee's own transactions (source_ref: the payment's out_trade_no,
# and the refund's out_refund_no for the part of the fee WeChat returns with a refund).
SOURCE_CHANNEL_FEE = "channel_fee"
SOURCE_CHANNEL_FEE_RETURN = "channel_fee_return"


def campaign_custody(campaign_id: int) -> str:
    return f"campaign:{int(campaign_id)}:custody"


def account_type_of(code: str) -> str:
    if code.startswith("custodian:") and code.endswith("_clearing"):
        return "clearing"
    if code.endswith(":custody"):
        return "custody"
    if code == CHANNEL_FEES:
        return "fee"
    if code == PLATFORM_FEE_SUBSIDY:
        return "platform"
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
    _add_to_totals(conn, [(source_type, legs)])
    return txn_id


@dataclass(frozen=True)
class Posting:
    source_type: str
    source_ref: str
    legs: list[Leg]
    memo: str = ""


@functools.cache
def _transactions_statement(count: int):
    """One INSERT of `count` transactions, returning each id with its source."""
    table = LedgerTransaction.__table__
    return (table.insert()
            .values([{"source_type": bindparam(f"s{i}", type_=String),
                      "source_ref": bindparam(f"r{i}", type_=String),
                      "memo": bindparam(f"m{i}", type_=String),
                      "created_at": bindparam("at", type_=table.c.created_at.type)}
                     for i in range(count)])
            .returning(table.c.id, table.c.source_type, table.c.source_ref))


@functools.cache
def _many_legs_statement(count: int):
    """Like _legs_statement, each leg naming its own transaction."""
    entries = Entry.__table__
    rows = [select(bindparam(f"t{i}", type_=Integer), ACCOUNTS.c.id,
                   bindparam(f"a{i}", type_=BigInteger))
            .where(ACCOUNTS.c.code == bindparam(f"c{i}", type_=String)) for i in range(count)]
    return (entries.insert()
            .from_select(["transaction_id", "account_id", "amount_fen"],
                         union_all(*rows) if count > 1 else rows[0])
            .returning(entries.c.id))


def post_many(postings: list[Posting]) -> list[int]:
    """`post` for several transactions of one business action, in two statements whatever
    their number (the payment hot path posts the payment and its channel fee together).
    Returns the ids in the order given; the same guarantees as `post`."""
    if len(postings) == 1:
        only = postings[0]
        return [post(only.source_type, only.source_ref, only.legs, memo=only.memo)]
    for posting in postings:
        validate_legs(posting.legs)
    conn = db.session.connection()
    params: dict = {"at": utcnow()}
    for i, posting in enumerate(postings):
        params[f"s{i}"], params[f"r{i}"] = posting.source_type, str(posting.source_ref)
        params[f"m{i}"] = posting.memo
    ids = {(kind, ref): tid for tid, kind, ref in
           conn.execute(_transactions_statement(len(postings)), params)}
    txn_ids = [ids[(p.source_type, str(p.source_ref))] for p in postings]
    params = {}
    legs = [(tid, leg) for tid, posting in zip(txn_ids, postings) for leg in posting.legs]
    for i, (tid, leg) in enumerate(legs):
        params[f"t{i}"], params[f"c{i}"], params[f"a{i}"] = tid, leg.account, leg.amount_fen
    if len(conn.execute(_many_legs_statement(len(legs)), params).all()) != len(legs):
        for tid, posting in zip(txn_ids, postings):
            _write_legs_of_new_accounts(conn, tid, posting.legs, some_written_in_full=True)
    _add_to_totals(conn, [(posting.source_type, posting.legs) for posting in postings])
    return txn_ids


# --- cached totals (ledger_account_totals) ------------------------------------------------------

TOTALS = AccountTotal.__table__
# Only accounts that public pages read keep totals: a campaign's custody, whose row is already
# locked by the paying transaction (the campaign's cached raised total). Clearing and fee
# accounts take a leg of every payment; a cached row there would serialise all payments.
TOTALS_PREFIXES = ("campaign:",)


def keeps_totals(code: str) -> bool:
    return code.startswith(TOTALS_PREFIXES)


@functools.cache
def _totals_upsert(dialect: str):
    """Add one (account by code, source type, amount, entries) to the cached totals."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(TOTALS).from_select(
        ["account_id", "source_type", "amount_fen", "entry_count"],
        select(ACCOUNTS.c.id, bindparam("t_source", type_=String),
               bindparam("t_amount", type_=BigInteger), bindparam("t_count", type_=BigInteger))
        .where(ACCOUNTS.c.code == bindparam("t_code", type_=String)))
    return stmt.on_conflict_do_update(
        index_elements=["account_id", "source_type"],
        set_={"amount_fen": TOTALS.c.amount_fen + stmt.excluded.amount_fen,
              "entry_count": TOTALS.c.entry_count + stmt.excluded.entry_count})


def _add_to_totals(conn, postings: list[tuple[str, list[Leg]]]) -> None:
    """In the posting's own transaction, so the totals can never disagree with the entries."""
    sums: dict[tuple[str, str], list[int]] = {}
    for source_type, legs in postings:
        for leg in legs:
            if keeps_totals(leg.account):
                total = sums.setdefault((leg.account, source_type), [0, 0])
                total[0] += leg.amount_fen
                total[1] += 1
    if sums:
        conn.execute(_totals_upsert(conn.dialect.name), [
            {"t_code": code, "t_source": source, "t_amount": amount, "t_count": count}
            for (code, source), (amount, count) in sums.items()])


def _write_legs_of_new_accounts(conn, txn_id: int, legs: list[Leg],
                                some_written_in_full: bool = False) -> None:
    """The first posting to an account: create it, then write the legs that found no account.
    (`some_written_in_full`: one of several transactions posted together, which may be whole.)"""
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
        if some_written_in_full:
            return
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
    if keeps_totals(code):
        return _cached_total(code)
    total = db.session.scalar(
        select(func.coalesce(func.sum(Entry.amount_fen), 0)).join(Entry.account)
        .where(Account.code == code))
    return int(total)


def _cached_total(code: str, source_types: tuple[str, ...] | None = None) -> int:
    """From ledger_account_totals: a few rows whatever the number of entries."""
    query = (select(func.coalesce(func.sum(AccountTotal.amount_fen), 0))
             .join(Account, Account.id == AccountTotal.account_id).where(Account.code == code))
    if source_types is not None:
        query = query.where(AccountTotal.source_type.in_(source_types))
    return int(db.session.scalar(query))


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


def source_total(code: str, source_types: tuple[str, ...]) -> int:
    """Sum of an account's entries from transactions of the given source types."""
    if keeps_totals(code):
        return _cached_total(code, source_types)
    total = db.session.scalar(
        select(func.coalesce(func.sum(Entry.amount_fen), 0)).join(Entry.account)
        .join(Entry.transaction)
        .where(Account.code == code, LedgerTransaction.source_type.in_(source_types)))
    return int(total)


def moved_by_source_ref(source_type: str) -> dict[str, int]:
    """{source_ref: money moved (sum of positive legs)} over transactions of one source type
    (for the features' `ledger verify` checks)."""
    return {ref: int(total) for ref, total in db.session.execute(
        select(LedgerTransaction.source_ref, func.sum(Entry.amount_fen))
        .join(Entry, Entry.transaction_id == LedgerTransaction.id)
        .where(LedgerTransaction.source_type == source_type, Entry.amount_fen > 0)
        .group_by(LedgerTransaction.source_ref))}


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
