"""The payment channel's fee (WeChat Pay's 手续费), in integer fen. Pure arithmetic, no database.

WeChat Pay charges the merchant a rate on every order (0.6% = 60 basis points is the standard
merchant rate), computed per order and rounded half up to the fen, and deducts it from what it
settles. On a refund it returns the fee in proportion to the amount refunded (a whole refund
returns the whole fee). The platform itself takes nothing; the channel's fee is shown before
paying and booked in the ledger as its own transaction (see services.confirm).
"""
from __future__ import annotations

from flask import current_app

DEFAULT_FEE_BP = 60
MAX_FEE_BP = 1000  # 10%: anything above is a typo in the configuration, not a rate
BP = 10_000


def configured_rate_bp() -> int:
    """The rate new orders are charged at (PAYMENT_CHANNEL_FEE_BP)."""
    return check_rate(current_app.config.get("PAYMENT_CHANNEL_FEE_BP", DEFAULT_FEE_BP))


def check_rate(rate_bp) -> int:
    if type(rate_bp) is not int or not 0 <= rate_bp <= MAX_FEE_BP:
        raise ValueError(f"PAYMENT_CHANNEL_FEE_BP must be an integer from 0 to {MAX_FEE_BP}, "
                         f"not {rate_bp!r}")
    return rate_bp


def channel_fee(amount_fen: int, rate_bp: int) -> int:
    """round_half_up(amount × rate / 10000): the fee WeChat charges on one order."""
    if type(amount_fen) is not int or amount_fen < 0:
        raise ValueError("amount must be a non-negative integer number of fen")
    return (amount_fen * check_rate(rate_bp) + BP // 2) // BP


def fee_returned(refund_fen: int, amount_fen: int, fee_fen: int) -> int:
    """The part of an order's fee WeChat gives back when `refund_fen` of it is refunded:
    round_half_up(fee × refund / amount); the whole fee for a whole refund."""
    if not 0 <= refund_fen <= amount_fen or not 0 <= fee_fen <= amount_fen or amount_fen <= 0:
        raise ValueError("refund and fee must lie between 0 and the order's amount")
    return (2 * fee_fen * refund_fen + amount_fen) // (2 * amount_fen)


def refund_for_net(net_fen: int, amount_fen: int, fee_fen: int) -> int:
    """The largest refund to the payer whose cost to the merchant — the refund less the fee
    WeChat returns with it — is exactly `net_fen`.

    refund − fee_returned(refund) grows by 0 or 1 fen per fen of refund (the fee is at most the
    amount) from 0 to amount − fee, so every net in that range is reached exactly."""
    if not 0 <= net_fen <= amount_fen - fee_fen:
        raise ValueError("net must lie between 0 and the order's amount less its fee")
    low, high = net_fen, amount_fen  # the refund is at least the net, at most the amount
    while low < high:  # the largest refund whose net does not exceed net_fen
        middle = (low + high + 1) // 2
        if middle - fee_returned(middle, amount_fen, fee_fen) <= net_fen:
            low = middle
        else:
            high = middle - 1
    return low
