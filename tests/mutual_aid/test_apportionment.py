"""The arithmetic, for any member count and amount (hypothesis)."""
from hypothesis import given, settings
from hypothesis import strategies as st

from app.mutual_aid.apportionment import (Item, compute_round, installment, next_offset,
                                          share_at, split_pro_rata)

amounts = st.integers(min_value=1, max_value=10 ** 9)
member_counts = st.integers(min_value=1, max_value=5000)


def all_shares(figures, offset):
    n = figures.members
    return [share_at(p, n, figures.base_share_fen, figures.remainder, offset) for p in range(n)]


@settings(max_examples=200)
@given(st.lists(amounts, min_size=1, max_size=6), st.integers(0, 2000), member_counts,
       st.data())
def test_shares_always_sum_to_the_total_and_differ_by_at_most_one_fen(items, fee_bp, n, data):
    room = data.draw(st.integers(min_value=1, max_value=10 ** 6))
    offset = data.draw(st.integers(min_value=0, max_value=n - 1))
    figures = compute_round([Item("claim", a) for a in items], fee_bp, n, room)
    shares = all_shares(figures, offset)
    assert sum(shares) == figures.total_fen == figures.items_granted_fen + figures.fee_fen
    assert max(shares) - min(shares) <= 1
    assert max(shares) <= room                       # nobody pays past the cap
    assert shares.count(figures.base_share_fen + 1) == figures.remainder


@given(st.lists(amounts, min_size=1, max_size=6), st.integers(0, 2000), member_counts,
       st.integers(min_value=1, max_value=20_000))
def test_when_the_cap_binds_everything_is_reduced_by_the_same_ratio(items, fee_bp, n, room):
    figures = compute_round([Item("claim", a) for a in items], fee_bp, n, room)
    requested = figures.items_requested_fen + figures.fee_requested_fen
    if not figures.capped:
        assert figures.granted == tuple(items) and figures.total_fen == requested
        return
    assert figures.total_fen == room * n < requested
    for asked, granted in zip(items + [figures.fee_requested_fen],
                              list(figures.granted) + [figures.fee_fen]):
        assert granted <= asked
        # within one fen of the exact pro-rata amount
        assert abs(granted * requested - asked * figures.total_fen) < requested


def test_a_hand_worked_capped_round():
    # ¥300,000 + 8% fee shared by 1,000 members with ¥10 of cap left each: ¥10,000 in all.
    figures = compute_round([Item("claim", 300_000_00)], 800, 1000, 10_00)
    assert figures.fee_requested_fen == 24_000_00 and figures.capped
    assert figures.total_fen == 10_000_00
    assert figures.granted[0] == 9_259_26 and figures.fee_fen == 740_74
    assert (figures.base_share_fen, figures.remainder) == (10_00, 0)


def test_refunds_carry_no_fee():
    figures = compute_round([Item("claim", 100_000), Item("refund", 1_234)], 800, 7, 10 ** 6)
    assert figures.fee_requested_fen == 8_000
    assert figures.total_fen == 100_000 + 1_234 + 8_000


@given(st.integers(0, 10 ** 9), st.lists(st.integers(0, 10 ** 7), min_size=1, max_size=8))
def test_pro_rata_split_is_exact_and_bounded(fraction, weights):
    total = sum(weights)
    if total == 0:
        return
    amount = fraction % (total + 1)
    parts = split_pro_rata(amount, weights)
    assert sum(parts) == amount
    assert all(0 <= p <= w for p, w in zip(parts, weights))


@given(st.lists(st.integers(1, 10 ** 6), min_size=1, max_size=5), st.integers(0, 1000),
       st.lists(st.integers(0, 100), min_size=1, max_size=12))
def test_installments_never_overpay_and_end_exact(granted, fee, steps):
    total = sum(granted) + fee
    paid, fee_paid, collected = [0] * len(granted), 0, 0
    for step in steps + [100]:
        collected = min(total, collected + total * step // 100) if step < 100 else total
        now = installment(collected, total, fee, fee_paid, granted, paid)
        assert all(part >= 0 for part in now.parts) and now.fee_fen >= 0
        paid = [p + part for p, part in zip(paid, now.parts)]
        fee_paid += now.fee_fen
        assert sum(paid) + fee_paid <= collected
        assert all(p <= g for p, g in zip(paid, granted))
    assert paid == granted and fee_paid == fee


def test_the_remainder_rotates():
    assert next_offset(0, 3, 10) == 3 and next_offset(8, 3, 10) == 1 and next_offset(0, 0, 0) == 0
    assert [share_at(p, 5, 2, 2, 4) for p in range(5)] == [3, 2, 2, 2, 3]
