"""The log's `ledger verify` check: every integrated leaf still equals the re-encoding of its
source, every stored node equals the tree recomputed from the leaves, every checkpoint's root
is the recomputed root at its size and its signature verifies, and no transaction older than
the merge delay is missing from the log. Streams the leaves; holds one level of hashes."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.ledger.models import LedgerTransaction
from app.transparency import merkle, notes, proofs
from app.transparency.integrator import LEDGER_TRANSACTION, transaction_leaves
from app.transparency.leaves import source_leaf
from app.transparency.models import Checkpoint, Leaf, LogState, TreeNode
from app.transparency.sources import leaf_sources

CHUNK = 5_000
MERGE_DELAY = timedelta(seconds=60)


def log_problems() -> list[str]:
    problems: list[str] = []
    leaf_hashes = _leaf_problems(problems)
    size = len(leaf_hashes)
    state = db.session.get(LogState, 1)
    if (state.tree_size if state else 0) != size:
        problems.append(f"the log's state says {state.tree_size if state else 0} leaves, "
                        f"{size} are stored")
    problems += _node_problems(leaf_hashes)
    problems += _checkpoint_problems(leaf_hashes)
    problems += _missing_transactions()
    return problems


def _leaf_problems(problems: list[str]) -> list[bytes]:
    """Leaf hashes in index order, after checking each leaf against its source."""
    hashes: list[bytes] = []
    sources = {source.type: source for source in leaf_sources()}
    ref_key = notes.ref_key()
    last = -1
    while True:
        rows = db.session.execute(
            select(Leaf.index, Leaf.source_type, Leaf.source_id, Leaf.leaf, Leaf.leaf_hash)
            .where(Leaf.index > last).order_by(Leaf.index).limit(CHUNK)).all()
        if not rows:
            return hashes
        ledger_ids = [r.source_id for r in rows if r.source_type == LEDGER_TRANSACTION]
        expected = {(LEDGER_TRANSACTION, k): v
                    for k, v in transaction_leaves(ledger_ids, ref_key).items()}
        for type_, source in sources.items():
            ids = [r.source_id for r in rows if r.source_type == type_]
            if ids:
                expected.update(((type_, k), source_leaf(type_, v))
                                for k, v in source.fields_of(ids).items())
        for row in rows:
            if row.index != len(hashes):
                problems.append(f"leaf {len(hashes)} is missing from the log")
                return hashes
            text = row.leaf.encode()
            again = expected.get((row.source_type, row.source_id))
            if again is None:
                problems.append(f"leaf {row.index}: its source {row.source_type} "
                                f"{row.source_id} no longer exists")
            elif again != text:
                problems.append(f"leaf {row.index}: {row.source_type} {row.source_id} now "
                                f"encodes differently from what the log holds")
            if merkle.leaf_hash(text) != bytes(row.leaf_hash):
                problems.append(f"leaf {row.index}: stored leaf hash is not the hash of its text")
            hashes.append(merkle.leaf_hash(text))
        last = rows[-1].index


def _node_problems(level_hashes: list[bytes]) -> list[str]:
    problems, level = [], 0
    while level_hashes:
        stored = {index: bytes(hash_) for index, hash_ in db.session.execute(
            select(TreeNode.index, TreeNode.hash).where(TreeNode.level == level))}
        if len(stored) != len(level_hashes):
            problems.append(f"level {level}: {len(stored)} nodes stored, "
                            f"{len(level_hashes)} expected")
        wrong = [i for i, h in enumerate(level_hashes) if stored.get(i) != h]
        if wrong:
            problems.append(f"level {level}: {len(wrong)} stored node(s) differ from the "
                            f"recomputed tree, first at index {wrong[0]}")
        level_hashes = [merkle.node_hash(level_hashes[i], level_hashes[i + 1])
                        for i in range(0, len(level_hashes) - 1, 2)]
        level += 1
    return problems


def _checkpoint_problems(leaf_hashes: list[bytes]) -> list[str]:
    problems = []
    signer = notes.signer()
    verifier = notes.parse_verifier_key(signer.verifier_key)
    for checkpoint in db.session.scalars(select(Checkpoint).order_by(Checkpoint.tree_size)):
        size = checkpoint.tree_size
        if size > len(leaf_hashes):
            problems.append(f"checkpoint {size} is larger than the log")
            continue
        try:
            stored_root = proofs.root(size)    # from the nodes, which are checked above
        except proofs.ProofError:
            problems.append(f"checkpoint {size}: the stored tree lacks nodes of its size")
            continue
        if stored_root != bytes(checkpoint.root_hash):
            problems.append(f"checkpoint {size}: its root is not the recomputed root")
        body = notes.checkpoint_body(notes.origin(), size, bytes(checkpoint.root_hash))
        try:
            note_body, lines = notes.split_note(checkpoint.note)
        except notes.NoteError:
            problems.append(f"checkpoint {size}: its note is malformed")
            continue
        ours = [line for line in lines if (line.name, line.key_id) == (signer.name, signer.key_id)]
        if note_body != body or not ours or not verifier.verify(body.encode(), ours[0].signature):
            problems.append(f"checkpoint {size}: its signed note does not verify")
    return problems


def _missing_transactions() -> list[str]:
    """Transactions not in the log although a checkpoint was signed more than the merge delay
    after they were posted: the integrator passed them by."""
    latest = db.session.scalar(select(func.max(Checkpoint.signed_at)))
    if latest is None:
        return []
    integrated = select(Leaf.source_id).where(Leaf.source_type == LEDGER_TRANSACTION,
                                              Leaf.source_id == LedgerTransaction.id)
    missing = list(db.session.scalars(
        select(LedgerTransaction.id).where(~integrated.exists(),
                                           LedgerTransaction.created_at < latest - MERGE_DELAY)
        .order_by(LedgerTransaction.id).limit(20)))
    return [f"transaction {txn_id} is not in the log, though checkpoints were signed more "
            f"than the merge delay after it was posted" for txn_id in missing]
