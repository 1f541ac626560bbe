"""Stand-in for WeChat Pay v2: same paths, XML and MD5 signatures as api.mch.weixin.qq.com.

  POST pay/unifiedorder        create an order (JSAPI needs openid, NATIVE product_id)
  POST pay/orderquery          trade_state SUCCESS / NOTPAY / CLOSED / REFUND
  POST pay/closeorder          close an unpaid order
  POST secapi/pay/refund       refund a paid order; the refund notice carries `req_info`
                               encrypted as WeChat does (AES-256-ECB, key md5(api_key) hex)
  GET  standin/cashier/<id>    the cashier where a tester confirms or cancels (by prepay_id or
                               out_trade_no; NATIVE code_url points here)
  POST standin/pay/<no>/notify?copies=N   test hook: pay if unpaid, then send N copies of the
                               notice at once; ?resend=1 keeps resending until SUCCESS
  POST standin/pay/<no>/pay    test hook: mark paid without any notice (a lost notification)
  GET  standin/pay/<no>/bill   test hook: the order's bill line — the fee (手续费) charged on it
                               and returned with refunds, as WeChat does (see billing.py)

After a payment the notice is POSTed to the order's notify_url and resent on RESEND_SCHEDULE
(WeChat's schedule, compressed) until the reply's return_code is SUCCESS. Orders made through
APIv3 (v3/pay.py) share this state, the cashier and the hooks; their notices are v3's
(`v3.protocol.Notice`), delivered by the same deliver / resend / fire_copies machinery.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit
from xml.parsers.expat import ExpatError

import xmltodict
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from flask import Blueprint, Response, current_app, jsonify, render_template, request
from wechatpy.pay.utils import calculate_signature, dict_to_xml

from app.wechat_standin.billing import bill, fee_of, fee_rate_bp, return_fee
from app.wechat_standin.delivery import XmlNotice, fire_copies, send_async
from app.wechat_standin.state import StandinState

bp = Blueprint("standin_pay", __name__)
bp.add_url_rule("/standin/pay/<out_trade_no>/bill", view_func=bill, methods=["GET"])
CHINA = timezone(timedelta(hours=8))   # WeChat's clock; the stand-in imports nothing of ours
TRADE_TYPES = ("JSAPI", "NATIVE", "MWEB", "APP")
NATIVE_PAYER = "o_standin_native_payer_000000"


def _state() -> StandinState:
    return current_app.extensions["standin_state"]


def _keys() -> tuple[str, str, str]:
    cfg = current_app.config
    return cfg["APPID"], cfg["MCH_ID"], cfg["API_KEY"]


def _now() -> datetime:
    return datetime.fromtimestamp(_state().clock(), CHINA)


def _signed_xml(data: dict, api_key: str) -> str:
    data = {k: str(v) for k, v in data.items() if v not in (None, "")}
    return dict_to_xml(data, calculate_signature(data, api_key))


def _xml(body: str) -> Response:
    return Response(body, content_type="application/xml; charset=utf-8")


def _fail(message: str) -> Response:
    return _xml(dict_to_xml({"return_code": "FAIL", "return_msg": message}))


def _reply(data: dict | None = None, err_code: str | None = None, err_des: str = "") -> Response:
    appid, mch_id, api_key = _keys()
    body = {"return_code": "SUCCESS", "return_msg": "OK", "appid": appid, "mch_id": mch_id,
            "nonce_str": secrets.token_hex(16), "result_code": "FAIL" if err_code else "SUCCESS",
            "err_code": err_code, "err_code_des": err_des}
    body.update(data or {})
    return _xml(_signed_xml(body, api_key))


def _signed_request() -> dict | Response:
    """The request's fields, or the FAIL reply WeChat gives for a bad request."""
    try:
        doc = xmltodict.parse(request.get_data(), disable_entities=True)
    except (ExpatError, ValueError):
        return _fail("XML格式错误")
    data = doc.get("xml") if isinstance(doc, dict) else None
    if not isinstance(data, dict) or any(v is not None and not isinstance(v, str)
                                         for v in data.values()):
        return _fail("XML格式错误")
    data = {k: v for k, v in data.items() if v is not None}
    appid, mch_id, api_key = _keys()
    sign = data.pop("sign", "")
    expected = calculate_signature(data, api_key)
    if not hmac.compare_digest(sign.encode(), expected.encode()):
        return _fail("签名错误")
    if data.get("appid") != appid:
        return _fail("appid不存在")
    if data.get("mch_id") != mch_id:
        return _fail("商户号mch_id与appid不匹配")
    return data


def _order_for(data: dict) -> dict | None:
    orders = _state().orders
    if data.get("transaction_id"):
        return next((o for o in orders.values()
                     if o["transaction_id"] == data["transaction_id"]), None)
    return orders.get(data.get("out_trade_no", ""))


# --- the merchant API -----------------------------------------------------------------------

@bp.post("/pay/unifiedorder")
def unifiedorder():
    data = _signed_request()
    if isinstance(data, Response):
        return data
    missing = [k for k in ("body", "out_trade_no", "total_fee", "spbill_create_ip",
                           "notify_url", "trade_type") if not data.get(k)]
    if missing:
        return _fail(f"缺少参数{missing[0]}")
    if not data["total_fee"].isdigit() or int(data["total_fee"]) <= 0:
        return _fail("total_fee 参数错误")
    if data["trade_type"] not in TRADE_TYPES:
        return _fail("trade_type 参数错误")
    if data["trade_type"] == "JSAPI" and not data.get("openid"):
        return _reply(err_code="PARAM_ERROR", err_des="JSAPI支付必须传openid")
    if data["trade_type"] == "NATIVE" and not data.get("product_id"):
        return _reply(err_code="PARAM_ERROR", err_des="NATIVE支付必须传product_id")
    if "?" in data["notify_url"] or urlsplit(data["notify_url"]).scheme not in ("http", "https"):
        return _reply(err_code="PARAM_ERROR", err_des="notify_url 不能携带参数")
    with _state().lock:
        order = _state().orders.get(data["out_trade_no"])
        if order is not None:
            if order["trade_state"] == "SUCCESS":
                return _reply(err_code="ORDERPAID", err_des="该订单已支付")
            if order["trade_state"] != "NOTPAY" or order["total_fee"] != int(data["total_fee"]):
                return _reply(err_code="INVALID_REQUEST", err_des="201 商户订单号重复")
        else:
            prepay_id = f"wx{_now():%Y%m%d%H%M%S}{secrets.token_hex(8)}"
            order = {"out_trade_no": data["out_trade_no"], "total_fee": int(data["total_fee"]),
                     "body": data["body"], "notify_url": data["notify_url"],
                     "trade_type": data["trade_type"], "openid": data.get("openid"),
                     "attach": data.get("attach"), "time_expire": data.get("time_expire"),
                     "prepay_id": prepay_id, "trade_state": "NOTPAY", "transaction_id": None,
                     "time_end": None, "refunded_fee": 0, "fee_rate_bp": fee_rate_bp(),
                     "fee": 0, "fee_returned": 0,
                     "code_url": f"{request.host_url}standin/cashier/{prepay_id}"}
            _state().orders[order["out_trade_no"]] = order
            _state().prepays[prepay_id] = order["out_trade_no"]
    return _reply({"trade_type": order["trade_type"], "prepay_id": order["prepay_id"],
                   "code_url": order["code_url"] if order["trade_type"] == "NATIVE" else None})


@bp.post("/pay/orderquery")
def orderquery():
    data = _signed_request()
    if isinstance(data, Response):
        return data
    with _state().lock:
        order = _order_for(data)
        order = dict(order) if order else None
    if order is None:
        return _reply(err_code="ORDERNOTEXIST", err_des="此交易订单号不存在")
    fields = {"out_trade_no": order["out_trade_no"], "trade_state": order["trade_state"],
              "trade_type": order["trade_type"], "total_fee": order["total_fee"]}
    if order["transaction_id"]:
        fields.update(transaction_id=order["transaction_id"], time_end=order["time_end"],
                      cash_fee=order["total_fee"], openid=order["openid"] or NATIVE_PAYER,
                      bank_type="OTHERS", is_subscribe="N", fee_type="CNY")
    return _reply(fields)


@bp.post("/pay/closeorder")
def closeorder():
    data = _signed_request()
    if isinstance(data, Response):
        return data
    with _state().lock:
        order = _state().orders.get(data.get("out_trade_no", ""))
        if order is None:
            return _reply(err_code="ORDERNOTEXIST", err_des="订单不存在")
        if order["trade_state"] in ("SUCCESS", "REFUND"):
            return _reply(err_code="ORDERPAID", err_des="订单已支付，不能发起关单")
        if order["trade_state"] == "CLOSED":
            return _reply(err_code="ORDERCLOSED", err_des="订单已关闭，无法重复关闭")
        order["trade_state"] = "CLOSED"
    return _reply()


@bp.post("/secapi/pay/refund")
def refund():
    data = _signed_request()
    if isinstance(data, Response):
        return data
    out_refund_no, fee, total = (data.get("out_refund_no", ""), data.get("refund_fee", ""),
                                 data.get("total_fee", ""))
    if not out_refund_no or not fee.isdigit() or not total.isdigit() or int(fee) <= 0:
        return _fail("缺少参数或参数格式错误")
    appid, mch_id, api_key = _keys()
    with _state().lock:
        order = _order_for(data)
        if order is None or order["trade_state"] not in ("SUCCESS", "REFUND"):
            return _reply(err_code="ORDERNOTEXIST", err_des="订单不存在或未支付")
        if int(total) != order["total_fee"]:
            return _reply(err_code="INVALID_REQUEST", err_des="订单金额与之前请求不一致")
        existing = _state().refunds.get(out_refund_no)
        if existing is None:
            if order["refunded_fee"] + int(fee) > order["total_fee"]:
                return _reply(err_code="NOTENOUGH", err_des="订单可退金额不足")
            existing = {"out_refund_no": out_refund_no, "refund_fee": int(fee),
                        "refund_id": f"50000{secrets.randbelow(10 ** 23):023d}",
                        "out_trade_no": order["out_trade_no"],
                        "transaction_id": order["transaction_id"],
                        "total_fee": order["total_fee"], "notify_url": data.get("notify_url"),
                        "success_time": f"{_now():%Y-%m-%d %H:%M:%S}"}
            _state().refunds[out_refund_no] = existing
            order["refunded_fee"] += int(fee)
            order["trade_state"] = "REFUND"
            existing["fee_returned"] = return_fee(order, int(fee))
            if existing["notify_url"]:
                notice = refund_notice_xml(existing, appid, mch_id, api_key)
                # WeChat resends refund notices until acknowledged, as it does payments.
                send_async(_state(), existing["notify_url"], notice,
                           tuple(current_app.config["RESEND_SCHEDULE"]), "refund",
                           out_refund_no)
    return _reply({k: existing[k] for k in ("transaction_id", "out_trade_no", "out_refund_no",
                                            "refund_id", "refund_fee", "total_fee")}
                  | {"cash_fee": existing["total_fee"]})


@bp.post("/pay/refundquery")
def refundquery():
    """v2's 查询退款, asked by out_refund_no: the one refund at index 0."""
    data = _signed_request()
    if isinstance(data, Response):
        return data
    with _state().lock:
        refund = _state().refunds.get(data.get("out_refund_no", ""))
        refund = dict(refund) if refund else None
    if refund is None:
        return _reply(err_code="REFUNDNOTEXIST", err_des="退款订单查询失败")
    status = {"SUCCESS": "SUCCESS", "CLOSED": "REFUNDCLOSE", "ABNORMAL": "CHANGE",
              "PROCESSING": "PROCESSING"}.get(refund.get("status", "SUCCESS"), "SUCCESS")
    answer = {"transaction_id": refund["transaction_id"], "out_trade_no": refund["out_trade_no"],
              "total_fee": refund["total_fee"], "cash_fee": refund["total_fee"],
              "refund_count": 1, "out_refund_no_0": refund["out_refund_no"],
              "refund_id_0": refund["refund_id"], "refund_channel_0": "ORIGINAL",
              "refund_fee_0": refund["refund_fee"], "refund_status_0": status,
              "refund_recv_accout_0": "支付用户零钱"}
    if status == "SUCCESS":
        answer["refund_success_time_0"] = refund["success_time"]
    return _reply(answer)


def refund_notice_xml(refund: dict, appid: str, mch_id: str, api_key: str) -> str:
    inner = xmltodict.unparse({"root": {
        "out_refund_no": refund["out_refund_no"], "out_trade_no": refund["out_trade_no"],
        "refund_account": "REFUND_SOURCE_RECHARGE_FUNDS", "refund_fee": refund["refund_fee"],
        "refund_id": refund["refund_id"], "refund_recv_accout": "支付用户零钱",
        "refund_request_source": "API", "refund_status": "SUCCESS",
        "settlement_refund_fee": refund["refund_fee"],
        "settlement_total_fee": refund["total_fee"], "success_time": refund["success_time"],
        "total_fee": refund["total_fee"], "transaction_id": refund["transaction_id"]}},
        full_document=False)
    key = hashlib.md5(api_key.encode()).hexdigest().encode()
    padder = padding.PKCS7(128).padder()
    plain = padder.update(inner.encode()) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    req_info = base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()
    return dict_to_xml({"return_code": "SUCCESS", "appid": appid, "mch_id": mch_id,
                        "nonce_str": secrets.token_hex(16), "req_info": req_info})


# --- paying and notifying -------------------------------------------------------------------

def mark_paid(state: StandinState, out_trade_no: str, openid: str | None = None) -> dict | None:
    """NOTPAY → SUCCESS (idempotent); returns a copy of the order, None if not payable."""
    with state.lock:
        order = state.orders.get(out_trade_no)
        if order is None or order["trade_state"] not in ("NOTPAY", "SUCCESS"):
            return None
        if order["trade_state"] == "NOTPAY":
            paid_at = datetime.fromtimestamp(state.clock(), CHINA)
            order.update(trade_state="SUCCESS", time_end=f"{paid_at:%Y%m%d%H%M%S}",
                         fee=fee_of(order),
                         transaction_id=f"4200{secrets.randbelow(10 ** 24):024d}",
                         openid=order["openid"] or openid or NATIVE_PAYER)
        return dict(order)


def payment_notice_xml(order: dict, appid: str, mch_id: str, api_key: str) -> str:
    return _signed_xml({
        "return_code": "SUCCESS", "appid": appid, "mch_id": mch_id,
        "nonce_str": secrets.token_hex(16), "result_code": "SUCCESS", "openid": order["openid"],
        "is_subscribe": "N", "trade_type": order["trade_type"], "bank_type": "OTHERS",
        "total_fee": order["total_fee"], "cash_fee": order["total_fee"], "fee_type": "CNY",
        "transaction_id": order["transaction_id"], "out_trade_no": order["out_trade_no"],
        "attach": order.get("attach"), "time_end": order["time_end"]}, api_key)


def payment_notice(order: dict):
    """The notice of a paid order, in the protocol the order was made with."""
    if order.get("api") == "v3":
        from app.wechat_standin.v3.pay import transaction_notice

        return transaction_notice(order)
    appid, mch_id, api_key = _keys()
    return XmlNotice(payment_notice_xml(order, appid, mch_id, api_key))


# --- the cashier and the test hooks ---------------------------------------------------------

def _find(key: str) -> dict | None:
    with _state().lock:
        out_trade_no = _state().prepays.get(key, key)
        order = _state().orders.get(out_trade_no)
        return dict(order) if order else None


def _return_url() -> str | None:
    url = request.values.get("return", "")
    return url if urlsplit(url).scheme in ("http", "https") else None


@bp.get("/standin/cashier/<key>")
def cashier(key: str):
    order = _find(key)
    if order is None:
        return render_template("standin/pay_error.html", message="订单不存在"), 404
    return render_template("standin/cashier.html", order=order, key=key,
                           return_url=_return_url(), merchant=current_app.config["MCH_ID"])


@bp.post("/standin/cashier/<key>/<action>")
def cashier_action(key: str, action: str):
    order = _find(key)
    if order is None or action not in ("confirm", "cancel"):
        return render_template("standin/pay_error.html", message="订单不存在"), 404
    if action == "confirm":
        paid = mark_paid(_state(), order["out_trade_no"])
        if paid is None:
            return render_template("standin/pay_error.html", message="订单已关闭，无法支付"), 409
        send_async(_state(), paid["notify_url"], payment_notice(paid),
                   tuple(current_app.config["RESEND_SCHEDULE"]), ref=paid["out_trade_no"])
        order = paid
    return render_template("standin/paid.html", order=order, paid=action == "confirm",
                           return_url=_return_url())


@bp.post("/standin/pay/<out_trade_no>/notify")
def notify_hook(out_trade_no: str):
    copies = max(1, min(request.args.get("copies", 1, type=int), 100))
    paid = mark_paid(_state(), out_trade_no)
    if paid is None:
        return jsonify(error="no such payable order"), 404
    notice = payment_notice(paid)
    if request.args.get("resend") == "1":
        send_async(_state(), paid["notify_url"], notice,
                   tuple(current_app.config["RESEND_SCHEDULE"]), ref=out_trade_no)
        return jsonify(out_trade_no=out_trade_no, queued=True)
    results = fire_copies(_state(), paid["notify_url"], notice, copies, ref=out_trade_no)
    return jsonify(out_trade_no=out_trade_no, transaction_id=paid["transaction_id"],
                   acknowledged=results)


@bp.post("/standin/pay/<out_trade_no>/pay")
def pay_hook(out_trade_no: str):
    paid = mark_paid(_state(), out_trade_no, request.args.get("openid"))
    if paid is None:
        return jsonify(error="no such payable order"), 404
    return jsonify(out_trade_no=out_trade_no, transaction_id=paid["transaction_id"])
