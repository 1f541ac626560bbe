"""The stand-in's merchant fee (手续费) and the bill line that shows it.

WeChat charges the merchant its rate on every paid order, rounded half up to the fen, and gives
the fee back in proportion to each refund (all of what is left once the whole order is
refunded). The rate is the stand-in's CHANNEL_FEE_BP, else the PAYMENT_CHANNEL_FEE_BP environment
variable the app reads too, else WeChat's standard 60 basis points (0.6%).
"""
from __future__ import annotations

import os

from flask import current_app, jsonify

STANDARD_RATE_BP = 60


def fee_rate_bp() -> int:
    rate = current_app.config.get("CHANNEL_FEE_BP")
    if rate is None:
        rate = os.environ.get("PAYMENT_CHANNEL_FEE_BP") or STANDARD_RATE_BP
    return int(rate)


def _half_up(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)


def fee_of(order: dict) -> int:
    """The fee on a paid order (called under the state's lock)."""
    return _half_up(order["total_fee"] * order.get("fee_rate_bp", 0), 10_000)


def return_fee(order: dict, refund_fee: int) -> int:
    """Book the fee returned with a refund already added to order["refunded_fee"]."""
    left = order["fee"] - order["fee_returned"]
    returned = (left if order["refunded_fee"] == order["total_fee"]
                else min(_half_up(order["fee"] * refund_fee, order["total_fee"]), left))
    order["fee_returned"] += returned
    return returned


def bill(out_trade_no: str):
    """GET standin/pay/<no>/bill (test hook): the order's line of the merchant's bill."""
    state = current_app.extensions["standin_state"]
    with state.lock:
        order = state.orders.get(out_trade_no)
        if order is None:
            return jsonify(error="no such order"), 404
        refunds = [{"out_refund_no": r["out_refund_no"], "refund_fee": r["refund_fee"],
                    "fee_returned": r.get("fee_returned", 0)}
                   for r in state.refunds.values() if r["out_trade_no"] == out_trade_no]
        return jsonify(out_trade_no=out_trade_no, trade_state=order["trade_state"],
                       total_fee=order["total_fee"], fee_rate_bp=order.get("fee_rate_bp", 0),
                       fee=order.get("fee", 0), fee_returned=order.get("fee_returned", 0),
                       refunds=refunds)
