"""RFC 6962 §2.1 Merkle trees, as pure functions over stored perfect subtrees.

A *node* (level, index) is the hash of the perfect subtree of leaves
[index·2^level, (index+1)·2^level); level 0 holds the leaf hashes. The log stores every node
once its subtree is complete (`completed_nodes`), so the hash of any range RFC 6962's
recursion visits is a fold of O(log n) stored nodes (`range_nodes`), and a proof needs one
query for all of them (`inclusion_plan`, `consistency_plan` name the ranges; `hash_ranges`
folds them from the fetched nodes).
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable

Node = tuple[int, int]          # (level, index)
Range = tuple[int, int]         # leaves [start, end)
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two smaller than n (n ≥ 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def range_nodes(start: int, end: int) -> list[Node]:
    """The stored nodes whose fold (right to left) is MTH(D[start:end]), largest first. `start`
    is a multiple of the largest power of two below end - start (true of every range RFC 6962's
    recursion visits)."""
    nodes = []
    while end - start > 0:
        size = end - start
        if size & (size - 1) == 0 and start % size == 0:
            nodes.append((size.bit_length() - 1, start // size))
            break
        k = split_point(size)
        nodes.append((k.bit_length() - 1, start // k))
        start += k
    return nodes


def fold(hashes: list[bytes]) -> bytes:
    """node(h0, node(h1, … node(h_{n-2}, h_{n-1}))): a range from its decomposition."""
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


def inclusion_plan(index: int, size: int) -> list[Range]:
    """The ranges whose hashes are PATH(index, D[0:size]) (RFC 6962 §2.1.1), leaf side first."""
    if not 0 <= index < size:
        raise ValueError("need 0 <= index < size")
    ranges: list[Range] = []
    start, end = 0, size
    while end - start > 1:
        k = split_point(end - start)
        if index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    return list(reversed(ranges))


def consistency_plan(first: int, second: int) -> list[Range]:
    """The ranges whose hashes are PROOF(first, D[0:second]) (RFC 6962 §2.1.2), in order."""
    if not 0 < first <= second:
        raise ValueError("need 0 < first <= second")
    ranges: list[Range] = []
    start, end, m, complete = 0, second, first, True
    while m != end - start:
        k = split_point(end - start)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start, m, complete = start + k, m - k, False
    if not complete:
        ranges.append((start, end))
    return list(reversed(ranges))


def nodes_of(ranges: Iterable[Range]) -> set[Node]:
    return {node for start, end in ranges for node in range_nodes(start, end)}


def hash_ranges(ranges: list[Range], node: Callable[[Node], bytes]) -> list[bytes]:
    return [fold([node(n) for n in range_nodes(start, end)]) for start, end in ranges]


def root_from(size: int, node: Callable[[Node], bytes]) -> bytes:
    return EMPTY_ROOT if size == 0 else fold([node(n) for n in range_nodes(0, size)])


def completed_nodes(index: int, hash_: bytes, node: Callable[[Node], bytes]) -> list[tuple[Node, bytes]]:
    """The nodes leaf `index` completes, itself first: (0, index), then each parent whose right
    child it finishes. `node` looks up the left siblings (already stored or just made)."""
    made = [((0, index), hash_)]
    level, position, current = 0, index, hash_
    while position % 2 == 1:
        current = node_hash(node((level, position - 1)), current)
        level, position = level + 1, position // 2
        made.append(((level, position), current))
    return made


def frontier(size: int) -> list[Node]:
    """The perfect subtrees of a tree of `size` leaves, largest first: what appending needs."""
    return range_nodes(0, size)


# Pure versions over a list of leaf hashes (tests, and the check of a small tree).

def tree_nodes(hashes: list[bytes]) -> dict[Node, bytes]:
    nodes: dict[Node, bytes] = {}
    for index, hash_ in enumerate(hashes):
        nodes.update(completed_nodes(index, hash_, nodes.__getitem__))
    return nodes


def root(hashes: list[bytes]) -> bytes:
    return root_from(len(hashes), tree_nodes(hashes).__getitem__)


def inclusion_proof(index: int, hashes: list[bytes]) -> list[bytes]:
    return hash_ranges(inclusion_plan(index, len(hashes)), tree_nodes(hashes).__getitem__)


def consistency_proof(first: int, hashes: list[bytes]) -> list[bytes]:
    return hash_ranges(consistency_plan(first, len(hashes)), tree_nodes(hashes).__getitem__)


def root_from_inclusion(index: int, size: int, leaf: bytes, path: list[bytes]) -> bytes | None:
    """RFC 9162 §2.1.3.2's verification: the root `path` leads to from `leaf` (a leaf hash), or
    None when the path has the wrong length."""
    if not 0 <= index < size:
        return None
    fn, sn, result = index, size - 1, leaf
    for sibling in path:
        if sn == 0:
            return None
        if fn % 2 == 1 or fn == sn:
            result = node_hash(sibling, result)
            while fn % 2 == 0 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            result = node_hash(result, sibling)
        fn, sn = fn >> 1, sn >> 1
    return result if sn == 0 else None
