"""`ledger verify`: the ledger's own invariants, plus checks that features register.

The ledger imports no feature. A feature whose state mirrors the ledger (payments ↔ their
transactions, a campaign's cached raised total) registers a check in its `register(app)`;
the command runs them all. `--against-bills` runs the checks registered with
`register_bill_check` (the bills feature: the ledger against WeChat Pay's own bills of a day).
"""
from __future__ import annotations

from datetime import date
from typing import Callable

from flask import Flask
from sqlalchemy import func, or_, select

from app.core.plugins import registry
from app.extensions import db
from app.ledger.models import Account, AccountTotal, Entry, LedgerTransaction
from app.ledger.services import TOTALS_PREFIXES, keeps_totals

Check = Callable[[], list[str]]
BillCheck = Callable[[date | None], list[str]]  # the day (None: the previous China day)


def _checks(app: Flask | None = None) -> dict[str, Check]:
    return registry("ledger_checks", dict, app)


def register_check(app: Flask, name: str, check: Check) -> None:
    _checks(app)[name] = check


def register_bill_check(app: Flask, check: BillCheck) -> None:
    registry("ledger_bill_checks", list, app).append(check)


def against_bills(day: date | None = None) -> list[str]:
    """Every difference between the ledger and the payment channel's bills of `day`."""
    checks = registry("ledger_bill_checks", list)
    if not checks:
        return ["no bill check is registered: the bills feature is not installed"]
    return [line for check in checks for line in check(day)]


def ledger_problems() -> list[str]:
    problems: list[str] = []
    unbalanced = db.session.execute(
        select(Entry.transaction_id, func.sum(Entry.amount_fen))
        .group_by(Entry.transaction_id).having(func.sum(Entry.amount_fen) != 0)).all()
    problems += [f"transaction {tid} does not balance (sum {total} fen)"
                 for tid, total in unbalanced]
    legs = (select(Entry.transaction_id, func.count().label("n"))
            .group_by(Entry.transaction_id).subquery())
    thin = db.session.execute(
        select(LedgerTransaction.id, func.coalesce(legs.c.n, 0))
        .outerjoin(legs, legs.c.transaction_id == LedgerTransaction.id)
        .where(func.coalesce(legs.c.n, 0) < 2)).all()
    problems += [f"transaction {tid} has {n} leg(s); at least two are needed" for tid, n in thin]
    twice = db.session.execute(
        select(LedgerTransaction.reverses_id, func.count())
        .where(LedgerTransaction.reverses_id.is_not(None))
        .group_by(LedgerTransaction.reverses_id).having(func.count() > 1)).all()
    problems += [f"transaction {tid} is reversed {n} times" for tid, n in twice]
    return problems + cached_total_problems()


def cached_total_problems() -> list[str]:
    """ledger_account_totals (the cache public pages read balances from) equals the entries."""
    kept = [Account.code.startswith(prefix) for prefix in TOTALS_PREFIXES]
    actual = {(code, source): (int(total), int(count)) for code, source, total, count in
              db.session.execute(
                  select(Account.code, LedgerTransaction.source_type, func.sum(Entry.amount_fen),
                         func.count())
                  .join(Entry, Entry.account_id == Account.id)
                  .join(LedgerTransaction, LedgerTransaction.id == Entry.transaction_id)
                  .where(or_(*kept))
                  .group_by(Account.code, LedgerTransaction.source_type))}
    cached = {(code, source): (int(total), int(count)) for code, source, total, count in
              db.session.execute(
                  select(Account.code, AccountTotal.source_type, AccountTotal.amount_fen,
                         AccountTotal.entry_count)
                  .join(Account, Account.id == AccountTotal.account_id))}
    problems = []
    for key in sorted(actual.keys() | cached.keys()):
        code, source = key
        if not keeps_totals(code):
            problems.append(f"account {code} should keep no cached totals, has {source}")
        elif actual.get(key, (0, 0)) != cached.get(key, (0, 0)):
            problems.append(f"account {code}, {source}: cached total {cached.get(key, (0, 0))} "
                            f"(fen, entries) ≠ entries {actual.get(key, (0, 0))}")
    return problems


def verify() -> list[str]:
    """Every problem found, as lines for a person to read; empty when all is well."""
    problems = ledger_problems()
    for name, check in sorted(_checks().items()):
        problems += [f"[{name}] {line}" for line in check()]
    return problems
