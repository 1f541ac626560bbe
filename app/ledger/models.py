"""The custodial ledger: accounts, balanced transactions, signed entries. Append-only.

Sign convention: an entry's `amount_fen` is positive when money flows into the account and
negative when it flows out; every transaction's entries sum to zero. A campaign's custody
account therefore has a positive balance; the custodian's clearing account for WeChat
settlements goes negative by everything WeChat has settled into custody.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (DDL, BigInteger, CheckConstraint, ForeignKey, Index, String,
                        UniqueConstraint, event)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from app.extensions import db
from app.models_base import created_at_column


class Account(db.Model):
    __tablename__ = "ledger_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)  # "campaign:42:custody"
    type: Mapped[str] = mapped_column(String(16))  # custody / clearing / fee / platform
    name: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = created_at_column()


class LedgerTransaction(db.Model):
    """One balanced movement of money, named by its source (one transaction per source)."""

    __tablename__ = "ledger_transactions"
    __table_args__ = (UniqueConstraint("source_type", "source_ref", name="uq_ledger_source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_type: Mapped[str] = mapped_column(String(32))  # "payment", "reversal", …
    source_ref: Mapped[str] = mapped_column(String(64))   # e.g. the payment's out_trade_no
    memo: Mapped[str] = mapped_column(String(200), default="")
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_transactions.id"))
    created_at: Mapped[datetime] = created_at_column()

    entries: Mapped[list["Entry"]] = relationship(back_populates="transaction",
                                                  order_by="Entry.id")


class Entry(db.Model):
    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint("amount_fen <> 0", name="amount_nonzero"),
        Index("ix_ledger_entries_account_id_id", "account_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"))
    amount_fen: Mapped[int] = mapped_column(BigInteger)

    transaction: Mapped[LedgerTransaction] = relationship(back_populates="entries")
    account: Mapped[Account] = relationship(lazy="joined")


class AccountTotal(db.Model):
    """A cache of one account's entries from one source type: their sum and number. Kept in the
    same transaction as each posting for the accounts public pages read (a campaign's custody,
    see services.keeps_totals), so a balance costs a few rows, not a scan of every entry;
    `ledger verify` checks it against the entries. Updated in place, unlike the ledger rows."""

    __tablename__ = "ledger_account_totals"

    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"), primary_key=True)
    source_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    entry_count: Mapped[int] = mapped_column(BigInteger, default=0)


class LedgerImmutableError(RuntimeError):
    pass


@event.listens_for(Session, "before_flush")
def _refuse_changes(session: Session, flush_context, instances) -> None:
    """The ORM never updates or deletes a posted transaction or entry: reverse it instead."""
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, (Entry, LedgerTransaction)) and (
                obj in session.deleted or session.is_modified(obj, include_collections=False)):
            raise LedgerImmutableError("ledger rows are append-only; post a reversal instead")


# On PostgreSQL the database refuses UPDATE and DELETE of ledger rows too (TRUNCATE, used by the
# test suite to reset, is a separate privilege). A migration must carry the same DDL.
IMMUTABLE_FUNCTION = DDL("""
CREATE OR REPLACE FUNCTION ledger_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'ledger rows are append-only (%% on %%)', TG_OP, TG_TABLE_NAME;
END $$ LANGUAGE plpgsql
""")

for _table in (LedgerTransaction.__table__, Entry.__table__):
    event.listen(_table, "after_create",
                 IMMUTABLE_FUNCTION.execute_if(dialect="postgresql"))
    event.listen(_table, "after_create", DDL(
        f"CREATE TRIGGER {_table.name}_append_only BEFORE UPDATE OR DELETE ON {_table.name} "
        "FOR EACH ROW EXECUTE FUNCTION ledger_append_only()").execute_if(dialect="postgresql"))
