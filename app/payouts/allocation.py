"""Exact splitting of money in fen: pro rata by the largest-remainder method, and even parts.

Pure functions, no database: every result sums exactly to the amount split, no part is
negative, and a part never exceeds its weight when the amount does not exceed the weights' sum.
"""
from __future__ import annotations

from collections.abc import Sequence


def pro_rata(amount: int, weights: Sequence[int]) -> list[int]:
    """Split `amount` fen in proportion to `weights` (largest remainder, Hamilton's method).

    Each part starts at floor(amount * w / total); the fen left over go one each to the parts
    with the largest remainders, ties to the earlier part (the order given is the tie-break,
    so callers pass a stable order such as donation id).
    """
    if type(amount) is not int or amount < 0:
        raise ValueError("amount must be a non-negative integer number of fen")
    if any(type(w) is not int or w < 0 for w in weights):
        raise ValueError("weights must be non-negative integers")
    total = sum(weights)
    if not weights or total == 0:
        if amount:
            raise ValueError("cannot split a positive amount over zero weights")
        return [0] * len(weights)
    parts: list[int] = []
    remainders: list[tuple[int, int]] = []
    for index, weight in enumerate(weights):
        whole, remainder = divmod(amount * weight, total)
        parts.append(whole)
        remainders.append((-remainder, index))
    left = amount - sum(parts)
    for _, index in sorted(remainders)[:left]:
        parts[index] += 1
    return parts


def even_parts(amount: int, count: int) -> list[int]:
    """`amount` fen in `count` parts differing by at most one fen, the larger ones first."""
    if count < 1 or amount < 0:
        raise ValueError("need at least one part and a non-negative amount")
    base, extra = divmod(amount, count)
    return [base + 1 if i < extra else base for i in range(count)]
