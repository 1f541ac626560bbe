"""What our ledger says went through WeChat Pay, line by line, to hold against WeChat's bills.

A ledger transaction claims WeChat when it has a leg on one of WeChat's accounts, each standing
for one kind of bill line (the codes are the ledger's naming convention):

    custodian:wechat_clearing               payment    source_ref = out_trade_no
    custodian:wechat_refund_clearing        refund     source_ref = out_refund_no
    custodian:wechat_transfer_out_clearing  transfer   source_ref = out_bill_no

and a payment's or refund's channel fee is the transaction of its fee source type with the same
source_ref (channel_fee / channel_fee_return, on custodian:wechat_channel_fees); WeChat charges
the merchant no fee on a 商家转账. A 商家转账 is held by its `wechat_transfer_paid` alone, the
only posting on the transfers-out account: the money it claims left WeChat, where the transfer
clearing only holds what waits for its recipient (a transfer closed or declined goes back from
there and never claims to be paid). A reversal counts against the transaction it reverses.
Another feature that moves money through WeChat adds its account with `register_bill_account`.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from flask import Flask
from sqlalchemy import select

from app.core.chinatime import CHINA
from app.core.plugins import registry
from app.extensions import db
from app.ledger.models import Account, Entry, LedgerTransaction
from app.ledger.services import (CHANNEL_FEES, CLEARING_WECHAT, SOURCE_CHANNEL_FEE,
                                 SOURCE_CHANNEL_FEE_RETURN)
from app.models_base import as_utc
from app.payouts.accounts import REFUND_CLEARING
from app.payouts.transfers import TRANSFERS_OUT

CHUNK = 500  # references per IN (…) list


@dataclass(frozen=True)
class BillAccount:
    code: str              # ledger account code
    kind: str              # the bill line it stands for: payment / refund / transfer
    fee_source: str | None  # source type of the fee booked with it, None when WeChat charges none


DEFAULT_ACCOUNTS = (BillAccount(CLEARING_WECHAT, "payment", SOURCE_CHANNEL_FEE),
                    BillAccount(REFUND_CLEARING, "refund", SOURCE_CHANNEL_FEE_RETURN),
                    BillAccount(TRANSFERS_OUT, "transfer", None))


def _accounts(app: Flask | None = None) -> dict[str, BillAccount]:
    return registry("bill_accounts", dict, app)


def register_bill_account(app: Flask, account: BillAccount) -> None:
    _accounts(app)[account.code] = account


def bill_accounts() -> list[BillAccount]:
    return list(_accounts().values())


@dataclass
class LedgerLine:
    kind: str
    ref: str
    amount_fen: int = 0        # what moved, positive (reversals netted)
    fee_fen: int = 0           # the channel fee booked with it, positive
    transactions: int = 0      # money transactions for this line, less their reversals
    first_posted_at: datetime | None = None


def china_day_window(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), CHINA).astimezone(timezone.utc)
    return start, start + timedelta(days=1)


def _chunks(values: Iterable[str]) -> Iterable[list[str]]:
    values = sorted(set(values))
    for i in range(0, len(values), CHUNK):
        yield values[i:i + CHUNK]


MONEY_ROWS = (select(LedgerTransaction.id, LedgerTransaction.source_ref,
                     LedgerTransaction.reverses_id, LedgerTransaction.created_at,
                     Account.code, Entry.amount_fen)
              .join(Entry, Entry.transaction_id == LedgerTransaction.id)
              .join(Account, Account.id == Entry.account_id))


def ledger_lines(day: date, bill_refs: dict[str, set[str]]) -> tuple[dict, set]:
    """({(kind, ref): LedgerLine} for every WeChat line posted on China day `day` and for every
    reference the bill names whenever it was posted; the keys posted on that day)."""
    accounts = {a.code: a for a in bill_accounts()}
    start, end = china_day_window(day)
    rows: dict[tuple[int, str], tuple] = {}

    def collect(query) -> None:
        for row in db.session.execute(query):
            rows[(row.id, row.code)] = row

    base = MONEY_ROWS.where(Account.code.in_(list(accounts)))
    collect(base.where(LedgerTransaction.created_at >= start, LedgerTransaction.created_at < end))
    for kind_codes, refs in _refs_by_codes(accounts, bill_refs):
        for chunk in _chunks(refs):
            collect(base.where(Account.code.in_(kind_codes),
                               LedgerTransaction.source_ref.in_(chunk)))
    originals = {row.id for row in rows.values() if row.reverses_id is None}
    for chunk in _chunks(map(str, originals)):
        collect(base.where(LedgerTransaction.reverses_id.in_([int(i) for i in chunk])))

    ref_of = {row.id: row.source_ref for row in rows.values() if row.reverses_id is None}
    lines: dict[tuple[str, str], LedgerLine] = {}
    signed: dict[tuple[str, str], int] = {}
    of_day: set[tuple[str, str]] = set()
    for row in rows.values():
        ref = ref_of.get(row.reverses_id) if row.reverses_id is not None else row.source_ref
        if ref is None:  # reverses a transaction of another day, not read: nothing to hold
            continue
        key = (accounts[row.code].kind, ref)
        line = lines.setdefault(key, LedgerLine(*key))
        signed[key] = signed.get(key, 0) + row.amount_fen
        line.transactions += -1 if row.reverses_id is not None else 1
        posted = as_utc(row.created_at)
        if row.reverses_id is None:
            line.first_posted_at = min(filter(None, (line.first_posted_at, posted)))
            if start <= posted < end:
                of_day.add(key)
    for key, total in signed.items():
        lines[key].amount_fen = abs(total)
    _add_fees(lines, accounts)
    return lines, of_day


def _refs_by_codes(accounts: dict[str, BillAccount], bill_refs: dict[str, set[str]]):
    for kind, refs in bill_refs.items():
        codes = [code for code, account in accounts.items() if account.kind == kind]
        if codes and refs:
            yield codes, refs


def _add_fees(lines: dict[tuple[str, str], LedgerLine], accounts: dict[str, BillAccount]) -> None:
    fee_kinds = {a.fee_source: a.kind for a in accounts.values() if a.fee_source}
    refs = {ref for (kind, ref) in lines if kind in fee_kinds.values()}
    if not fee_kinds or not refs:
        return
    original = LedgerTransaction.__table__.alias("original")
    for chunk in _chunks(refs):
        fee_rows = db.session.execute(
            select(LedgerTransaction.source_type, LedgerTransaction.source_ref,
                   Entry.amount_fen)
            .join(Entry, Entry.transaction_id == LedgerTransaction.id)
            .join(Account, Account.id == Entry.account_id)
            .where(Account.code == CHANNEL_FEES,
                   LedgerTransaction.source_type.in_(list(fee_kinds)),
                   LedgerTransaction.source_ref.in_(chunk)))
        reversal_rows = db.session.execute(
            select(original.c.source_type, original.c.source_ref, Entry.amount_fen)
            .select_from(LedgerTransaction)
            .join(original, original.c.id == LedgerTransaction.reverses_id)
            .join(Entry, Entry.transaction_id == LedgerTransaction.id)
            .join(Account, Account.id == Entry.account_id)
            .where(Account.code == CHANNEL_FEES, original.c.source_type.in_(list(fee_kinds)),
                   original.c.source_ref.in_(chunk)))
        net: dict[tuple[str, str], int] = {}
        for source_type, ref, amount in list(fee_rows) + list(reversal_rows):
            key = (fee_kinds[source_type], ref)
            net[key] = net.get(key, 0) + amount
        for key, total in net.items():
            if key in lines:
                lines[key].fee_fen = abs(total)
