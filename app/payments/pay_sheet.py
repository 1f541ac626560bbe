"""What a page needs to open WeChat's pay sheet for an order (WeixinJSBridge's
getBrandWCPayRequest), or to fall back to the order page when it cannot."""
from __future__ import annotations

from flask import url_for

from app.payments.models import Payment, PaymentState
from app.payments.payables import payable_handler
from app.payments.provider import ProviderError, get_provider


def jsapi_params(payment: Payment) -> dict | None:
    """getBrandWCPayRequest's parameters, freshly signed; None when the order cannot be paid
    inside WeChat (not JSAPI, no longer pending, or the provider cannot sign now)."""
    if payment.state != PaymentState.pending or payment.trade_type != "JSAPI":
        return None
    try:
        return get_provider(payment.provider).client_params(payment.prepay_id)
    except ProviderError:
        return None


def pay_sheet(payment: Payment) -> dict:
    """The order's JSON for the donate panel's script: pay with `jsapi`, then poll `status_url`
    and go to `next_url`; without `jsapi` (or when the bridge fails) go to `order_url`."""
    return {"out_trade_no": payment.out_trade_no, "state": payment.state.value,
            "amount_fen": payment.amount_fen, "jsapi": jsapi_params(payment),
            "order_url": url_for("payments.order", out_trade_no=payment.out_trade_no),
            "status_url": url_for("payments.status", out_trade_no=payment.out_trade_no),
            "next_url": payable_handler(payment.payable_type).success_url(payment.payable_id)}
