"""The WeChat Pay notify endpoint, the payer's order page and its JSON status."""
from __future__ import annotations

from decimal import Decimal

from flask import (Blueprint, Response, abort, jsonify, redirect, render_template,
                   request, url_for)
from flask_login import current_user, login_required

from app.auth.decorators import staff_required
from app.auth.models import StaffRole
from app.core.params import bounded_int, id_arg
from app.extensions import csrf
from app.payments import services
from app.payments.fees import channel_fee, configured_rate_bp
from app.payments import verify as _verify  # noqa: F401  (registers its ledger verify check)
from app.payments.models import ATTENTION_VERDICTS, NoticeVerdict, Payment, PaymentState
from app.payments.pay_sheet import jsapi_params, pay_sheet
from app.payments.payables import payable_handler
from app.payments.provider import get_provider
from app.payments.qr import qr_svg

bp = Blueprint("payments", __name__)
QUOTE_MAX_FEN = 10_000_000_00


@bp.app_context_processor
def channel_fee_helpers():
    """For every page where someone pays: the fee shown before paying."""
    return {"channel_fee_bp": configured_rate_bp, "channel_fee_of": _fee_of,
            "channel_fee_rate_label": _rate_label}


def _fee_of(amount_fen: int) -> int:
    return channel_fee(amount_fen, configured_rate_bp())


def _rate_label(rate_bp: int | None = None) -> str:
    """60 → '0.6%' (display only; the arithmetic is integer fen)."""
    rate = configured_rate_bp() if rate_bp is None else rate_bp
    return f"{(Decimal(rate) / 100).normalize():f}%"


NOTICE_BODY_LIMIT = 65536


def _notice_body() -> bytes:
    """The body of a notice, or nothing when it is larger than any notice (refused as such)."""
    if (request.content_length or 0) > NOTICE_BODY_LIMIT:
        return b""
    return request.get_data(cache=False)


def _reply(provider, ok: bool, message: str) -> Response:
    reply = provider.notification_reply(ok, message)
    return Response(reply.body, status=reply.status, content_type=reply.content_type)


def _payment_notice(provider_name: str):
    provider = get_provider(provider_name)
    ok, message = services.handle_notification(_notice_body(), request.remote_addr, provider,
                                               request.headers)
    return _reply(provider, ok, message)


def _refund_notice(provider_name: str):
    from app.payments.refunds import handle_refund_notification

    provider = get_provider(provider_name)
    ok, message = handle_refund_notification(_notice_body(), request.remote_addr, provider,
                                             request.headers)
    return _reply(provider, ok, message)


@bp.post("/wechat/pay/notify")
@csrf.exempt  # WeChat signs its notices; there is no session to forge
def wechat_notify():
    return _payment_notice("wechat")


@bp.post("/wechat/pay/refund_notify")
@csrf.exempt  # WeChat encrypts refund notices with our API key; there is no session to forge
def wechat_refund_notify():
    return _refund_notice("wechat")


@bp.post("/wechat/pay/v3/notify")
@csrf.exempt  # APIv3 notices are signed by WeChat's platform key; there is no session to forge
def wechat_v3_notify():
    return _payment_notice("wechat_v3")


@bp.post("/wechat/pay/v3/refund_notify")
@csrf.exempt  # signed by WeChat's platform key, as payment notices are
def wechat_v3_refund_notify():
    return _refund_notice("wechat_v3")


def _own_payment(out_trade_no: str) -> Payment:
    payment = services.find(out_trade_no)
    if payment is None or current_user.is_staff or payment.user_id != current_user.id:
        abort(404)
    return payment


@bp.get("/pay/<out_trade_no>")
@login_required
def order(out_trade_no: str):
    """For desktops (the Native QR code) and for the rare WeChat whose pay sheet did not open."""
    payment = _own_payment(out_trade_no)
    handler = payable_handler(payment.payable_type)
    success_url = handler.success_url(payment.payable_id)
    if payment.state == PaymentState.paid:
        return redirect(success_url)
    cashier_url = get_provider(payment.provider).cashier_url(
        payment.prepay_id or "",
        url_for("payments.order", out_trade_no=payment.out_trade_no, _external=True))
    return render_template(
        "payments/order.html", payment=payment, jsapi_params=jsapi_params(payment),
        qr=qr_svg(payment.code_url) if payment.code_url and payment.trade_type == "NATIVE"
        else None,
        cashier_url=cashier_url, success_url=success_url,
        described=handler.describe(payment.payable_id),
        in_wechat="MicroMessenger" in (request.user_agent.string or ""),
        platform_bears_fee=handler.platform_bears_channel_fee)


@bp.get("/api/v1/payments/<out_trade_no>/pay_sheet")
@login_required
def pay_sheet_json(out_trade_no: str):
    """getBrandWCPayRequest's parameters for the payer's own order (the campaign page opens
    WeChat's pay sheet with them after a silent sign-in)."""
    return jsonify(pay_sheet(_own_payment(out_trade_no)))


@bp.get("/api/v1/payments/quote")
def quote():
    """What WeChat Pay will charge as its fee on an order of `amount_fen` (shown before paying);
    the platform charges nothing."""
    amount_fen = bounded_int(request.args.get("amount_fen"), 1, QUOTE_MAX_FEN)
    if amount_fen is None:
        return jsonify(error={"code": "amount_invalid",
                              "message": "amount_fen 须为正整数（单位：分）"}), 400
    rate = configured_rate_bp()
    fee = channel_fee(amount_fen, rate)
    return jsonify(amount_fen=amount_fen, channel_fee_fen=fee, channel_fee_bp=rate,
                   net_fen=amount_fen - fee, service_fee_fen=0)


@bp.get("/api/v1/payments/<out_trade_no>")
@login_required
def status(out_trade_no: str):
    """Polled by the order page. Only the payer may read it."""
    payment = _own_payment(out_trade_no)
    if payment.is_open:
        services.check_open_payment(payment.id)
        payment = services.find(out_trade_no)
    paid = payment.state == PaymentState.paid
    return jsonify(out_trade_no=payment.out_trade_no, state=payment.state.value,
                   state_label=payment.state.label, amount_fen=payment.amount_fen,
                   channel_fee_fen=payment.channel_fee_fen,
                   channel_fee_bp=payment.channel_fee_bp, paid=paid,
                   next_url=payable_handler(payment.payable_type).success_url(payment.payable_id)
                   if paid else None)


NOTICE_PAGE = 50


@bp.get("/staff/payments/notices")
@staff_required(StaffRole.finance)
def staff_notices():
    """The log of payment notices: by default those refused, and late money, newest first."""
    verdict = request.args.get("verdict", "attention")
    if verdict != "all" and verdict != "attention" and verdict not in NoticeVerdict.__members__:
        abort(400)
    rows = services.notice_log(verdict, id_arg(request.args, "before", "翻页位置"),
                               NOTICE_PAGE + 1)
    return render_template("payments/staff_notices.html", rows=rows[:NOTICE_PAGE],
                           verdict=verdict, verdicts=list(NoticeVerdict),
                           attention=ATTENTION_VERDICTS,
                           next_before=rows[NOTICE_PAGE - 1].id if len(rows) > NOTICE_PAGE
                           else None)
