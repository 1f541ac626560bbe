"""The log's state: its leaves, the hashes of every complete subtree, the signed checkpoints
and the witnesses' cosignatures. Appended to by the integrator only; nothing is updated but
the state row's size, which is also the lock that serialises integrators."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (BigInteger, DateTime, ForeignKey, Integer, LargeBinary, SmallInteger,
                        String, Text, UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models_base import created_at_column

STATE_ID = 1


class LogState(db.Model):
    """One row: the tree's size. Integrators lock it (SELECT … FOR UPDATE) before appending."""

    __tablename__ = "transparency_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    tree_size: Mapped[int] = mapped_column(BigInteger, default=0)


class Leaf(db.Model):
    """Leaf `index` of the log: the canonical text of one source (a ledger transaction, or an
    item of a registered leaf source such as a mutual-aid round), integrated once."""

    __tablename__ = "transparency_leaves"
    __table_args__ = (UniqueConstraint("source_type", "source_id",
                                       name="uq_transparency_leaves_source"),)

    index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    source_type: Mapped[str] = mapped_column(String(32))   # "ledger_transaction", …
    source_id: Mapped[int] = mapped_column(BigInteger)
    leaf: Mapped[str] = mapped_column(Text)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    integrated_at: Mapped[datetime] = created_at_column()


class TreeNode(db.Model):
    """The hash of the perfect subtree of leaves [index·2^level, (index+1)·2^level)."""

    __tablename__ = "transparency_nodes"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class Checkpoint(db.Model):
    """A signed checkpoint; every one is kept."""

    __tablename__ = "transparency_checkpoints"

    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Cosignature(db.Model):
    """A configured witness's cosignature/v1 line over one checkpoint."""

    __tablename__ = "transparency_cosignatures"
    __table_args__ = (UniqueConstraint("tree_size", "witness",
                                       name="uq_transparency_cosignatures_witness"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tree_size: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("transparency_checkpoints.tree_size"), index=True)
    witness: Mapped[str] = mapped_column(String(200))         # the witness's key name
    signature_line: Mapped[str] = mapped_column(Text)         # "— name base64…\n"
    cosigned_at: Mapped[int] = mapped_column(BigInteger)      # the witness's unix timestamp
    received_at: Mapped[datetime] = created_at_column()
