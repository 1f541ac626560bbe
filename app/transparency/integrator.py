"""The integrator: appends new ledger transactions (and registered sources' items) to the log,
stores the nodes they complete and signs a checkpoint, in one database transaction.

Which transactions: committed ones not yet in the log, ordered by id, among those whose id is
above the highest id integrated so far minus LOOKBACK_IDS. Ids come from a sequence when a
posting is inserted, but postings commit in any order, so a lower id can become visible after
a higher one was integrated; it is then appended by a later run (never skipped), as long as
fewer than LOOKBACK_IDS later postings were integrated while it stayed uncommitted — a posting
commits within its business action's transaction, seconds at most. `ledger verify` reports any
transaction older than the merge delay that is still not in the log, and
`flask transparency integrate --full` sweeps the whole ledger.

Serialised: each run first updates the state row (a row lock on PostgreSQL, the write lock on
SQLite), so a second integrator waits and then sees what the first appended.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import func, select, text, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db
from app.ledger.models import Account, Entry, LedgerTransaction
from app.models_base import utcnow
from app.transparency import merkle, notes
from app.transparency.leaves import LEDGER_TRANSACTION, ledger_transaction_leaf, source_leaf
from app.transparency.models import STATE_ID, Checkpoint, Leaf, LogState, TreeNode
from app.transparency.sources import leaf_sources

log = logging.getLogger(__name__)
LOOKBACK_IDS = 10_000
BATCH_SIZE = 20_000      # leaves per run (and per database transaction) at most
IN_CHUNK = 1_000         # ids per IN (…) list


@dataclass(frozen=True)
class IntegrationResult:
    added: int
    tree_size: int
    signed: bool


# PostgreSQL: one statement whatever the number of nodes (prepared once, a primary-key lookup
# per node), ~3x faster than a (level, index) IN (…) list, which plans as a BitmapOr.
NODES_BY_KEYS = text(
    "SELECT n.level, n.index, n.hash FROM transparency_nodes n"
    " JOIN unnest(CAST(:levels AS smallint[]), CAST(:indexes AS bigint[])) AS w(level, index)"
    " ON n.level = w.level AND n.index = w.index")


def fetch_nodes(wanted) -> dict[merkle.Node, bytes]:
    """The stored hashes of `wanted` (level, index) nodes, in one query on PostgreSQL (any
    proof's O(log n) nodes), in IN-lists of IN_CHUNK elsewhere."""
    wanted = list(wanted)
    if not wanted:
        return {}
    if db.session.get_bind().dialect.name == "postgresql":
        rows = db.session.execute(NODES_BY_KEYS, {"levels": [level for level, _ in wanted],
                                                  "indexes": [index for _, index in wanted]})
        return {(level, index): bytes(hash_) for level, index, hash_ in rows}
    found: dict[merkle.Node, bytes] = {}
    for start in range(0, len(wanted), IN_CHUNK):
        chunk = wanted[start:start + IN_CHUNK]
        found.update(((level, index), bytes(hash_)) for level, index, hash_ in db.session.execute(
            select(TreeNode.level, TreeNode.index, TreeNode.hash)
            .where(tuple_(TreeNode.level, TreeNode.index).in_(chunk))))
    return found


def lock_state() -> int:
    """Take the integrator's lock (the state row) and return the tree size."""
    conn = db.session.connection()
    insert_ = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    conn.execute(insert_(LogState).values(id=STATE_ID, tree_size=0).on_conflict_do_nothing())
    conn.execute(update(LogState).where(LogState.id == STATE_ID)
                 .values(tree_size=LogState.tree_size))
    return int(db.session.scalar(select(LogState.tree_size).where(LogState.id == STATE_ID)))


def pending_transaction_ids(limit: int, full: bool = False) -> list[int]:
    highest = db.session.scalar(select(func.max(Leaf.source_id))
                                .where(Leaf.source_type == LEDGER_TRANSACTION))
    integrated = select(Leaf.source_id).where(Leaf.source_type == LEDGER_TRANSACTION,
                                              Leaf.source_id == LedgerTransaction.id)
    query = select(LedgerTransaction.id).where(~integrated.exists())
    if highest is not None and not full:
        query = query.where(LedgerTransaction.id > highest - LOOKBACK_IDS)
    return list(db.session.scalars(query.order_by(LedgerTransaction.id).limit(limit)))


def _id_filters(column, ids: list[int]):
    """WHERE clauses covering `ids`: one range when they are nearly contiguous (the usual case:
    what was posted since the last run), else IN-lists of IN_CHUNK."""
    if ids and max(ids) - min(ids) < 2 * len(ids) + IN_CHUNK:
        return [column.between(min(ids), max(ids))]
    return [column.in_(ids[start:start + IN_CHUNK]) for start in range(0, len(ids), IN_CHUNK)]


def transaction_leaves(ids: list[int], ref_key: bytes) -> dict[int, bytes]:
    """{transaction id: its canonical leaf} for ledger transaction `ids`."""
    wanted = set(ids)
    legs: dict[int, list[tuple[str, int]]] = {i: [] for i in ids}
    heads = {}
    for where in _id_filters(LedgerTransaction.id, ids):
        heads.update((row.id, row) for row in db.session.execute(
            select(LedgerTransaction.id, LedgerTransaction.source_type,
                   LedgerTransaction.source_ref, LedgerTransaction.reverses_id,
                   LedgerTransaction.created_at).where(where)) if row.id in wanted)
    for where in _id_filters(Entry.transaction_id, ids):
        for txn_id, code, fen in db.session.execute(
                select(Entry.transaction_id, Account.code, Entry.amount_fen)
                .join(Account, Account.id == Entry.account_id).where(where).order_by(Entry.id)):
            if txn_id in wanted:
                legs[txn_id].append((code, int(fen)))
    return {txn_id: ledger_transaction_leaf(
        txn_id=txn_id, created_at=head.created_at, kind=head.source_type,
        source_ref=head.source_ref, reverses_id=head.reverses_id, legs=legs[txn_id],
        ref_key=ref_key) for txn_id, head in heads.items()}


def bulk_insert(table, rows: list[dict]) -> None:
    """Many rows at once: COPY on PostgreSQL (the integrator writes ~3 rows a leaf), executemany
    elsewhere."""
    if not rows:
        return
    conn = db.session.connection()
    if conn.dialect.name != "postgresql":
        conn.execute(table.insert(), rows)
        return
    columns = list(rows[0])
    cursor = conn.connection.driver_connection.cursor()
    quoted = ", ".join(f'"{name}"' for name in columns)
    with cursor.copy(f'COPY {table.name} ({quoted}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([row[name] for name in columns])


def _new_leaves(limit: int, full: bool) -> list[tuple[str, int, bytes]]:
    """(source type, source id, leaf) of everything to append, in order: ledger transactions
    by id, then each registered source's items in the order it gives."""
    ids = pending_transaction_ids(limit, full)
    texts = transaction_leaves(ids, notes.ref_key())
    new = [(LEDGER_TRANSACTION, txn_id, texts[txn_id]) for txn_id in ids]
    for source in leaf_sources():
        if len(new) >= limit:
            break
        item_ids = source.pending(select(Leaf.source_id).where(Leaf.source_type == source.type))
        item_ids = item_ids[:limit - len(new)]
        fields = source.fields_of(item_ids) if item_ids else {}
        new += [(source.type, item_id, source_leaf(source.type, fields[item_id]))
                for item_id in item_ids]
    return new


def integrate(limit: int = BATCH_SIZE, full: bool = False) -> IntegrationResult:
    """One run: append up to `limit` leaves, sign a checkpoint if any were added (or none was
    ever signed at this size), commit. Safe to run at any time and from several processes."""
    size = lock_state()
    new = _new_leaves(limit, full)
    has_checkpoint = db.session.get(Checkpoint, size) is not None
    if not new and has_checkpoint:
        db.session.rollback()
        return IntegrationResult(0, size, False)
    nodes = fetch_nodes(merkle.frontier(size))
    leaf_rows, node_rows, now = [], [], utcnow()
    for offset, (source_type, source_id, text) in enumerate(new):
        index = size + offset
        hash_ = merkle.leaf_hash(text)
        leaf_rows.append({"index": index, "source_type": source_type, "source_id": source_id,
                          "leaf": text.decode(), "leaf_hash": hash_, "integrated_at": now})
        for (level, position), node_hash in merkle.completed_nodes(index, hash_, nodes.__getitem__):
            nodes[(level, position)] = node_hash
            node_rows.append({"level": level, "index": position, "hash": node_hash})
    bulk_insert(Leaf.__table__, leaf_rows)
    bulk_insert(TreeNode.__table__, node_rows)
    size += len(new)
    db.session.execute(update(LogState).where(LogState.id == STATE_ID).values(tree_size=size))
    sign_checkpoint(size, merkle.root_from(size, nodes.__getitem__))
    db.session.commit()
    if new:
        log.info("transparency: integrated %d leaves, tree size %d", len(new), size)
    return IntegrationResult(len(new), size, True)


def sign_checkpoint(size: int, root: bytes) -> Checkpoint:
    body = notes.checkpoint_body(notes.origin(), size, root)
    checkpoint = Checkpoint(tree_size=size, root_hash=root,
                            note=notes.signed_note(body, notes.signer()), signed_at=utcnow())
    db.session.add(checkpoint)
    db.session.flush()
    return checkpoint


def integrate_all(limit: int = BATCH_SIZE, full: bool = False) -> int:
    """Run until nothing is left (a backlog, the embedded default's demo data); leaves added."""
    added = 0
    while True:
        result = integrate(limit, full)
        added += result.added
        if result.added < limit:
            return added
