"""RFC 6962 §2.1 written naively from the RFC's recursive definitions (MTH, PATH, SUBPROOF),
independently of app/transparency/merkle.py, and every tree of 1..64 leaves checked against
it: roots, every inclusion proof and every consistency proof, from the pure functions and
from the nodes the integrator stores in the database."""
from __future__ import annotations

import hashlib

import pytest

from app.transparency import merkle, proofs
from app.transparency.integrator import integrate_all
from app.transparency.models import Leaf
from tests.transparency.helpers import post_transactions

MAX_SIZE = 64


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def largest_power_of_two_below(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(leaves: list[bytes]) -> bytes:
    if not leaves:
        return sha256(b"")
    if len(leaves) == 1:
        return sha256(b"\x00" + leaves[0])
    k = largest_power_of_two_below(len(leaves))
    return sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:]))


def path(m: int, leaves: list[bytes]) -> list[bytes]:
    n = len(leaves)
    if n == 1:
        return []
    k = largest_power_of_two_below(n)
    if m < k:
        return path(m, leaves[:k]) + [mth(leaves[k:])]
    return path(m - k, leaves[k:]) + [mth(leaves[:k])]


def subproof(m: int, leaves: list[bytes], b: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if b else [mth(leaves)]
    k = largest_power_of_two_below(n)
    if m <= k:
        return subproof(m, leaves[:k], b) + [mth(leaves[k:])]
    return subproof(m - k, leaves[k:], False) + [mth(leaves[:k])]


def proof(m: int, leaves: list[bytes]) -> list[bytes]:
    return subproof(m, leaves, True)


LEAVES = [f"leaf {i}".encode() for i in range(MAX_SIZE)]


def test_hashing_of_the_empty_tree_a_leaf_and_a_node():
    assert merkle.EMPTY_ROOT.hex() == \
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert merkle.root([]) == mth([])
    assert merkle.leaf_hash(b"") == sha256(b"\x00")
    # RFC 6962's own empty-leaf hash, as the CT test vectors give it
    assert merkle.leaf_hash(b"").hex() == \
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    left, right = sha256(b"l"), sha256(b"r")
    assert merkle.node_hash(left, right) == sha256(b"\x01" + left + right)


@pytest.mark.parametrize("size", range(1, MAX_SIZE + 1))
def test_roots_and_proofs_of_every_tree_up_to_64_leaves(size):
    leaves = LEAVES[:size]
    hashes = [merkle.leaf_hash(leaf) for leaf in leaves]
    assert merkle.root(hashes) == mth(leaves)
    for index in range(size):
        audit_path = merkle.inclusion_proof(index, hashes)
        assert audit_path == path(index, leaves)
        assert merkle.root_from_inclusion(index, size, hashes[index], audit_path) == mth(leaves)
    for first in range(1, size + 1):
        assert merkle.consistency_proof(first, hashes) == proof(first, leaves)


def test_wrong_sizes_are_refused():
    for index, size in ((0, 0), (3, 3), (-1, 2)):
        with pytest.raises(ValueError):
            merkle.inclusion_plan(index, size)
    for first, second in ((0, 3), (4, 3)):
        with pytest.raises(ValueError):
            merkle.consistency_plan(first, second)


def test_the_stored_nodes_give_the_same_roots_and_proofs(db):
    """64 ledger transactions integrated one size at a time, then every root, inclusion proof
    and consistency proof of every size read back from the stored nodes."""
    post_transactions(MAX_SIZE)
    integrate_all(limit=7)   # several runs, so appending resumes from a stored frontier
    texts = [leaf.encode() for leaf in db.session.scalars(
        Leaf.__table__.select().with_only_columns(Leaf.leaf).order_by(Leaf.index))]
    assert len(texts) == MAX_SIZE
    for size in range(1, MAX_SIZE + 1):
        leaves = texts[:size]
        assert proofs.root(size) == mth(leaves)
        for index in range(size):
            leaf_hash, audit_path = proofs.inclusion(index, size)
            assert leaf_hash == merkle.leaf_hash(leaves[index])
            assert audit_path == path(index, leaves)
        for first in range(1, size + 1):
            assert proofs.consistency(first, size) == proof(first, leaves)
