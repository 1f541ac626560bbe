"""The arithmetic of apportionment (分摊), exact in fen. Pure functions: no database, no Flask.

The rules, as the public round report states them:

1. Items: every approved case's payout (by age band) and every waiting-period refund.
   Management fee = (sum of case payouts) × fee_bp ÷ 10000, rounded down.
   Requested total = items + fee.
2. Cap: nobody pays more than the plan's yearly cap. `room` is the cap less the most any member
   can have been charged this year (the sum of earlier rounds' largest shares), so
   limit = room × members. When the requested total exceeds the limit, the cap binds: every item
   and the fee are reduced by the same ratio (largest-remainder split of the limit) and the
   report says so.
3. Shares: total ÷ members, rounded down, is the base share; the remainder r (< members) is one
   extra fen each for r members: those whose position p (0-based, members ordered by membership
   number) satisfies (p − offset) mod members < r. The offset rotates the extra fen from round to
   round: offset = (previous offset + previous remainder) mod members. So the shares sum to the
   total exactly, and anyone can recompute their own from the report.
4. Distribution: the collected money (members who do not pay reduce it) is paid out pro rata:
   fee part = fee × collected ÷ total (rounded down), the rest split over the items by what each
   is still owed (largest remainder, ties to the earlier item). Late payments are distributed the
   same way later; once everything is collected each item has received exactly its grant.
"""
from __future__ import annotations

from dataclasses import dataclass

BP = 10_000


def split_pro_rata(amount: int, weights: list[int]) -> list[int]:
    """Split `amount` fen in proportion to non-negative integer weights, exactly: the parts sum
    to `amount` (when the weights are not all zero), and no part exceeds its weight while
    amount ≤ sum(weights). Largest remainder; ties go to the earlier weight."""
    if amount < 0 or any(w < 0 for w in weights):
        raise ValueError("amount and weights must be non-negative")
    total = sum(weights)
    if total == 0:
        if amount:
            raise ValueError("cannot split a non-zero amount over zero weights")
        return [0] * len(weights)
    parts = [amount * w // total for w in weights]
    rest = amount - sum(parts)
    order = sorted(range(len(weights)), key=lambda i: (-(amount * weights[i] % total), i))
    for i in order[:rest]:
        parts[i] += 1
    return parts


def fee_for(claims_fen: int, fee_bp: int) -> int:
    return claims_fen * fee_bp // BP


def share_at(position: int, members: int, base: int, remainder: int, offset: int) -> int:
    """The share of the member at `position` (0-based)."""
    return base + (1 if (position - offset) % members < remainder else 0)


def next_offset(offset: int, remainder: int, members: int) -> int:
    return (offset + remainder) % members if members else 0


@dataclass(frozen=True)
class Item:
    kind: str           # claim / refund
    requested_fen: int


@dataclass(frozen=True)
class RoundFigures:
    members: int
    items_requested_fen: int
    fee_requested_fen: int
    cap_room_fen: int
    capped: bool
    granted: tuple[int, ...]     # per item, in the order given
    fee_fen: int
    base_share_fen: int
    remainder: int

    @property
    def items_granted_fen(self) -> int:
        return sum(self.granted)

    @property
    def total_fen(self) -> int:
        return self.items_granted_fen + self.fee_fen

    @property
    def max_share_fen(self) -> int:
        return self.base_share_fen + (1 if self.remainder else 0)


def compute_round(items: list[Item], fee_bp: int, members: int, room_fen: int) -> RoundFigures:
    """The figures of a round for `members` sharing members with `room_fen` of cap left each."""
    if members <= 0:
        raise ValueError("a round needs at least one sharing member")
    if room_fen < 0:
        raise ValueError("room cannot be negative")
    requested = [item.requested_fen for item in items]
    if any(amount <= 0 for amount in requested):
        raise ValueError("items are positive amounts")
    claims = sum(item.requested_fen for item in items if item.kind == "claim")
    fee = fee_for(claims, fee_bp)
    total = sum(requested) + fee
    limit = room_fen * members
    capped = total > limit
    if capped:
        *granted, fee_granted = split_pro_rata(limit, requested + [fee])
        total = limit
    else:
        granted, fee_granted = requested, fee
    base, remainder = divmod(total, members)
    return RoundFigures(members=members, items_requested_fen=sum(requested),
                        fee_requested_fen=fee, cap_room_fen=room_fen, capped=capped,
                        granted=tuple(granted), fee_fen=fee_granted, base_share_fen=base,
                        remainder=remainder)


@dataclass(frozen=True)
class Installment:
    fee_fen: int
    parts: tuple[int, ...]   # per item, in the order given

    @property
    def total_fen(self) -> int:
        return self.fee_fen + sum(self.parts)


def installment(collected_fen: int, total_fen: int, fee_fen: int, fee_paid_fen: int,
                granted: list[int], paid: list[int]) -> Installment:
    """What to pay out now, given what has been collected and already paid out."""
    if not 0 <= collected_fen <= total_fen:
        raise ValueError("collected must be between 0 and the round's total")
    if total_fen == 0:
        return Installment(0, tuple(0 for _ in granted))
    fee_target = fee_fen * collected_fen // total_fen
    pool_left = (collected_fen - fee_target) - sum(paid)
    owed = [g - p for g, p in zip(granted, paid)]
    if pool_left < 0 or any(o < 0 for o in owed):
        raise ValueError("more was paid out than the rules allow")
    parts = split_pro_rata(min(pool_left, sum(owed)), owed) if owed else []
    return Installment(fee_fen=fee_target - fee_paid_fen, parts=tuple(parts))
