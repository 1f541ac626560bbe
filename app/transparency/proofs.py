"""Reading the log: checkpoints, leaves, roots and proofs from the stored nodes. A proof is
one query for every node it needs (O(log n) of them)."""
from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.transparency import merkle
from app.transparency.integrator import fetch_nodes
from app.transparency.models import Checkpoint, Cosignature, Leaf

MAX_LEAVES_PER_PAGE = 1000


class ProofError(ValueError):
    """Sizes or indexes no signed checkpoint allows."""


def latest_checkpoint() -> Checkpoint | None:
    return db.session.scalar(select(Checkpoint).order_by(Checkpoint.tree_size.desc()).limit(1))


def latest_size() -> int:
    return int(db.session.scalar(select(func.coalesce(func.max(Checkpoint.tree_size), 0))))


def checkpoint_at(size: int) -> Checkpoint | None:
    return db.session.get(Checkpoint, size)


def checkpoints_before(before: int | None, limit: int) -> list[Checkpoint]:
    query = select(Checkpoint).order_by(Checkpoint.tree_size.desc()).limit(limit)
    if before is not None:
        query = query.where(Checkpoint.tree_size < before)
    return list(db.session.scalars(query))


def served_note(checkpoint: Checkpoint) -> str:
    """The platform's signed note with the witnesses' cosignature lines after its signature."""
    lines = db.session.scalars(select(Cosignature.signature_line)
                               .where(Cosignature.tree_size == checkpoint.tree_size)
                               .order_by(Cosignature.witness))
    return checkpoint.note + "".join(lines)


def leaves_between(start: int, end: int) -> list[Leaf]:
    return list(db.session.scalars(select(Leaf).where(Leaf.index >= start, Leaf.index < end)
                                   .order_by(Leaf.index)))


def _hashes(ranges: list[merkle.Range], size: int) -> list[bytes]:
    """The hashes of `ranges` in the tree of `size` leaves, from one query. The integrator
    stores nodes and signs the checkpoint of the new size in one transaction, so the stored
    tree is exactly the latest signed one: a size beyond it lacks a node (its last leaf's,
    fetched too), which is how a size larger than the latest signed one is refused without a
    second query."""
    wanted = merkle.nodes_of(ranges) | {(0, size - 1)}
    nodes = fetch_nodes(wanted)
    if len(nodes) != len(wanted):
        raise ProofError("tree_size is larger than the latest signed checkpoint")
    return merkle.hash_ranges(ranges, nodes.__getitem__)


def inclusion(index: int, size: int) -> tuple[bytes, list[bytes]]:
    """(leaf hash, audit path) of leaf `index` in the tree of `size` leaves."""
    if not 0 <= index < size:
        raise ProofError("need 0 <= index < tree_size")
    ranges = [(index, index + 1)] + merkle.inclusion_plan(index, size)
    leaf, *path = _hashes(ranges, size)
    return leaf, path


def consistency(first: int, second: int) -> list[bytes]:
    if not 0 < first <= second:
        raise ProofError("need 0 < first <= second")
    return _hashes(merkle.consistency_plan(first, second), second)


def root(size: int) -> bytes:
    """MTH of the first `size` leaves (any size up to the tree's)."""
    if size == 0:
        return merkle.EMPTY_ROOT
    return _hashes([(0, size)], size)[0]
