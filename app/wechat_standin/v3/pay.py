"""Stand-in for WeChat Pay APIv3 payments and refunds (direct merchants), on api.mch paths.

  POST /v3/pay/transactions/jsapi | /native         {prepay_id} | {code_url}
  GET  /v3/pay/transactions/out-trade-no/{no}?mchid=   the transaction (404 ORDER_NOT_EXIST)
  GET  /v3/pay/transactions/id/{transaction_id}?mchid=
  POST /v3/pay/transactions/out-trade-no/{no}/close  204 (400 ORDERPAID once paid)
  POST /v3/refund/domestic/refunds                   PROCESSING, then REFUND.SUCCESS notice
  GET  /v3/refund/domestic/refunds/{out_refund_no}
  GET  /v3/certificates                              the platform certificate, AES-GCM sealed
  POST /standin/v3/refund/{out_refund_no}/notify?status=SUCCESS|ABNORMAL|CLOSED&copies=N
                                                     test hook: (re)send a refund notice

Orders live in the same state as v2's (pay.py) and are paid at the same cashier and hooks;
an order remembers it was made through v3, and its notices are v3's (TRANSACTION.SUCCESS,
resource AEAD_AES_256_GCM with associated_data "transaction"), signed with the key the merchant
named when it ordered (Wechatpay-Serial: its PUB_KEY_ID, else the certificate).
"""
from __future__ import annotations

import json
import re
import secrets
from datetime import datetime
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, jsonify, request

from app.wechat_standin.billing import fee_rate_bp, return_fee
from app.wechat_standin.delivery import fire_copies, send_async
from app.wechat_standin.v3 import crypto
from app.wechat_standin.v3.protocol import (CHINA, error, json_body, keys, make_notice,
                                            param_error, respond, rfc3339, signed_endpoint)

bp = Blueprint("standin_pay_v3", __name__)
OUT_NO = re.compile(r"^[0-9A-Za-z_\-|*]{6,32}$")
TRADE_STATE_DESC = {"SUCCESS": "支付成功", "REFUND": "转入退款", "NOTPAY": "未支付",
                    "CLOSED": "已关闭", "REVOKED": "已撤销", "USERPAYING": "用户支付中",
                    "PAYERROR": "支付失败"}
REFUND_EVENTS = {"SUCCESS": ("REFUND.SUCCESS", "退款成功"),
                 "ABNORMAL": ("REFUND.ABNORMAL", "退款异常"),
                 "CLOSED": ("REFUND.CLOSED", "退款关闭")}


def _state():
    return current_app.extensions["standin_state"]


def _now() -> float:
    return _state().clock()


def _resend_schedule() -> tuple[float, ...]:
    return tuple(current_app.config["RESEND_SCHEDULE"])


def _amount_total(data: dict, name: str = "total") -> int | None:
    amount = data.get("amount")
    value = amount.get(name) if isinstance(amount, dict) else None
    if type(value) is not int or value <= 0:
        return None
    if amount.get("currency", "CNY") != "CNY":
        return None
    return value


# --- transactions ---------------------------------------------------------------------------

@bp.post("/v3/pay/transactions/jsapi")
@signed_endpoint
def jsapi():
    return _create("JSAPI")


@bp.post("/v3/pay/transactions/native")
@signed_endpoint
def native():
    return _create("NATIVE")


def _create(trade_type: str) -> Response:
    data = json_body()
    if isinstance(data, Response):
        return data
    cfg = current_app.config
    for name in ("appid", "mchid", "description", "out_trade_no", "notify_url", "amount"):
        if not data.get(name):
            return param_error(f"输入源“/body/{name}”映射到字段“{name}”必填性规则校验失败，"
                               "此字段为必填项", name)
    if data["mchid"] != cfg["MCH_ID"]:
        return error(400, "MCH_NOT_EXISTS", "商户号不存在")
    if data["appid"] != cfg["APPID"]:
        return error(400, "APPID_MCHID_NOT_MATCH", "appid和mch_id不匹配")
    if not isinstance(data["out_trade_no"], str) or not OUT_NO.match(data["out_trade_no"]):
        return param_error("out_trade_no 只能是6-32位数字、大小写字母_-|*", "out_trade_no")
    if not isinstance(data["description"], str) or len(data["description"]) > 127:
        return param_error("description 长度不能超过127个字符", "description")
    total = _amount_total(data)
    if total is None:
        return param_error("amount.total 须为正整数（分），currency 为 CNY", "amount")
    url = data["notify_url"]
    if not isinstance(url, str) or "?" in url or urlsplit(url).scheme not in ("http", "https"):
        return param_error("notify_url 须为不带参数的http(s)地址", "notify_url")
    payer = data.get("payer")
    openid = payer.get("openid") if isinstance(payer, dict) else None
    if trade_type == "JSAPI" and not openid:
        return param_error("JSAPI支付必须传 payer.openid", "payer")
    if data.get("time_expire") is not None:
        try:
            datetime.fromisoformat(data["time_expire"])
        except (TypeError, ValueError):
            return param_error("time_expire 须为 RFC 3339 格式", "time_expire")
    out_trade_no = data["out_trade_no"]
    with _state().lock:
        order = _state().orders.get(out_trade_no)
        if order is not None:
            if order["trade_state"] in ("SUCCESS", "REFUND"):
                return error(400, "ORDERPAID", "该订单已支付")
            if order["trade_state"] == "CLOSED":
                return error(400, "ORDER_CLOSED", "订单已关闭")
            if (order["total_fee"] != total or order["trade_type"] != trade_type
                    or order["body"] != data["description"]):
                return error(403, "OUT_TRADE_NO_USED", "商户订单号重复")
        else:
            prepay_id = f"wx{datetime.fromtimestamp(_now(), CHINA):%d%H%M%S}" \
                        f"{secrets.token_hex(13)}"
            order = {"api": "v3", "out_trade_no": out_trade_no, "total_fee": total,
                     "body": data["description"], "notify_url": url, "trade_type": trade_type,
                     "openid": openid, "attach": data.get("attach"),
                     "time_expire": data.get("time_expire"), "prepay_id": prepay_id,
                     "trade_state": "NOTPAY", "transaction_id": None, "time_end": None,
                     "refunded_fee": 0, "fee_rate_bp": fee_rate_bp(), "fee": 0,
                     "fee_returned": 0, "appid": data["appid"], "mchid": data["mchid"],
                     "v3_serial": request.headers.get("Wechatpay-Serial") or "",
                     "code_url": f"{request.host_url}standin/cashier/{prepay_id}"}
            _state().orders[out_trade_no] = order
            _state().prepays[prepay_id] = out_trade_no
    if trade_type == "NATIVE":
        return respond({"code_url": order["code_url"]})
    return respond({"prepay_id": order["prepay_id"]})


def _success_time(order: dict) -> str | None:
    if not order.get("time_end"):
        return None
    paid = datetime.strptime(order["time_end"], "%Y%m%d%H%M%S").replace(tzinfo=CHINA)
    return paid.isoformat(timespec="seconds")


def transaction(order: dict) -> dict:
    """The transaction object of queries and of the TRANSACTION.SUCCESS resource."""
    cfg = current_app.config
    data = {"appid": order.get("appid") or cfg["APPID"],
            "mchid": order.get("mchid") or cfg["MCH_ID"],
            "out_trade_no": order["out_trade_no"], "trade_state": order["trade_state"],
            "trade_state_desc": TRADE_STATE_DESC.get(order["trade_state"], ""),
            "amount": {"total": order["total_fee"], "currency": "CNY"}}
    if order.get("attach"):
        data["attach"] = order["attach"]
    if order["transaction_id"]:
        data.update(transaction_id=order["transaction_id"], trade_type=order["trade_type"],
                    bank_type="OTHERS", success_time=_success_time(order),
                    payer={"openid": order["openid"]},
                    amount={"total": order["total_fee"], "payer_total": order["total_fee"],
                            "currency": "CNY", "payer_currency": "CNY"})
    return data


def transaction_notice(order: dict):
    """TRANSACTION.SUCCESS for a paid v3 order (pay.payment_notice dispatches here)."""
    return make_notice("TRANSACTION.SUCCESS", "支付成功", "transaction", transaction(order),
                       order.get("v3_serial") or "")


def _query_mchid() -> Response | None:
    mchid = request.args.get("mchid")
    if not mchid:
        return error(400, "PARAM_ERROR", "缺少参数 mchid", {"field": "mchid",
                                                        "location": "query"})
    if mchid != current_app.config["MCH_ID"]:
        return error(400, "MCH_NOT_EXISTS", "商户号不存在")
    return None


@bp.get("/v3/pay/transactions/out-trade-no/<out_trade_no>")
@signed_endpoint
def query_by_out_trade_no(out_trade_no: str):
    refusal = _query_mchid()
    if refusal is not None:
        return refusal
    with _state().lock:
        order = _state().orders.get(out_trade_no)
        order = dict(order) if order else None
    if order is None:
        return error(404, "ORDER_NOT_EXIST", "订单不存在")
    return respond(transaction(order))


@bp.get("/v3/pay/transactions/id/<transaction_id>")
@signed_endpoint
def query_by_transaction_id(transaction_id: str):
    refusal = _query_mchid()
    if refusal is not None:
        return refusal
    with _state().lock:
        order = next((dict(o) for o in _state().orders.values()
                      if o["transaction_id"] == transaction_id), None)
    if order is None:
        return error(404, "ORDER_NOT_EXIST", "订单不存在")
    return respond(transaction(order))


@bp.post("/v3/pay/transactions/out-trade-no/<out_trade_no>/close")
@signed_endpoint
def close(out_trade_no: str):
    data = json_body()
    if isinstance(data, Response):
        return data
    if data.get("mchid") != current_app.config["MCH_ID"]:
        return param_error("mchid 与请求商户不符", "mchid")
    with _state().lock:
        order = _state().orders.get(out_trade_no)
        if order is None:
            return error(404, "ORDER_NOT_EXIST", "订单不存在")
        if order["trade_state"] in ("SUCCESS", "REFUND"):
            return error(400, "ORDERPAID", "订单已支付，不能发起关单")
        order["trade_state"] = "CLOSED"
    return respond(None, 204)


# --- refunds --------------------------------------------------------------------------------

def refund_object(refund: dict) -> dict:
    return {"refund_id": refund["refund_id"], "out_refund_no": refund["out_refund_no"],
            "transaction_id": refund["transaction_id"], "out_trade_no": refund["out_trade_no"],
            "channel": "ORIGINAL", "user_received_account": "支付用户零钱",
            "success_time": refund.get("success_time_v3"), "create_time": refund["create_time"],
            "status": refund["status"], "funds_account": "AVAILABLE",
            "amount": {"total": refund["total_fee"], "refund": refund["refund_fee"],
                       "payer_total": refund["total_fee"], "payer_refund": refund["refund_fee"],
                       "settlement_total": refund["total_fee"],
                       "settlement_refund": refund["refund_fee"], "discount_refund": 0,
                       "currency": "CNY", "refund_fee": refund.get("fee_returned", 0)}}


def refund_notice(refund: dict, status: str):
    event_type, summary = REFUND_EVENTS[status]
    plain = {"mchid": current_app.config["MCH_ID"], "out_trade_no": refund["out_trade_no"],
             "transaction_id": refund["transaction_id"],
             "out_refund_no": refund["out_refund_no"], "refund_id": refund["refund_id"],
             "refund_status": status, "user_received_account": "支付用户零钱",
             "amount": {"total": refund["total_fee"], "refund": refund["refund_fee"],
                        "payer_total": refund["total_fee"],
                        "payer_refund": refund["refund_fee"]}}
    if status == "SUCCESS":
        plain["success_time"] = refund.get("success_time_v3") or rfc3339(_now())
    return make_notice(event_type, summary, "refund", plain, refund.get("v3_serial") or "")


@bp.post("/v3/refund/domestic/refunds")
@signed_endpoint
def create_refund():
    data = json_body()
    if isinstance(data, Response):
        return data
    out_refund_no = data.get("out_refund_no")
    if not isinstance(out_refund_no, str) or not OUT_NO.match(out_refund_no):
        return param_error("out_refund_no 必填，6-32位", "out_refund_no")
    refund_fee, total = _amount_total(data, "refund"), _amount_total(data, "total")
    if refund_fee is None or total is None:
        return param_error("amount.refund 与 amount.total 须为正整数（分）", "amount")
    if not (data.get("out_trade_no") or data.get("transaction_id")):
        return param_error("out_trade_no 与 transaction_id 须填其一", "out_trade_no")
    url = data.get("notify_url")
    if url is not None and (not isinstance(url, str) or "?" in url
                            or urlsplit(url).scheme not in ("http", "https")):
        return param_error("notify_url 须为不带参数的http(s)地址", "notify_url")
    with _state().lock:
        orders = _state().orders
        order = (orders.get(data["out_trade_no"]) if data.get("out_trade_no") else
                 next((o for o in orders.values()
                       if o["transaction_id"] == data["transaction_id"]), None))
        if order is None:
            return error(404, "RESOURCE_NOT_EXISTS", "订单不存在")
        if order["trade_state"] not in ("SUCCESS", "REFUND"):
            return error(400, "INVALID_REQUEST", "订单未支付，不能退款")
        if total != order["total_fee"]:
            return error(400, "INVALID_REQUEST", "订单金额与原订单不一致")
        refund = _state().refunds.get(out_refund_no)
        if refund is not None:
            if refund["out_trade_no"] != order["out_trade_no"] or \
                    refund["refund_fee"] != refund_fee:
                return error(400, "INVALID_REQUEST", "退款单号已用于其他退款")
            return respond(refund_object(refund))
        if order["refunded_fee"] + refund_fee > order["total_fee"]:
            return error(400, "INVALID_REQUEST", "申请退款金额超过订单可退金额")
        refund = {"out_refund_no": out_refund_no, "refund_fee": refund_fee,
                  "refund_id": f"50000{secrets.randbelow(10 ** 23):023d}",
                  "out_trade_no": order["out_trade_no"],
                  "transaction_id": order["transaction_id"], "total_fee": order["total_fee"],
                  "notify_url": url, "create_time": rfc3339(_now()), "status": "PROCESSING",
                  "v3_serial": request.headers.get("Wechatpay-Serial") or "",
                  "success_time": f"{datetime.fromtimestamp(_now(), CHINA):%Y-%m-%d %H:%M:%S}"}
        _state().refunds[out_refund_no] = refund
        order["refunded_fee"] += refund_fee
        order["trade_state"] = "REFUND"
        refund["fee_returned"] = return_fee(order, refund_fee)
        accepted = refund_object(refund)
        # The stand-in's bank answers at once: the refund succeeds, and WeChat says so.
        refund.update(status="SUCCESS", success_time_v3=rfc3339(_now()))
        if url:
            send_async(_state(), url, refund_notice(refund, "SUCCESS"), _resend_schedule(),
                       "refund", out_refund_no)
    return respond(accepted)


@bp.get("/v3/refund/domestic/refunds/<out_refund_no>")
@signed_endpoint
def query_refund(out_refund_no: str):
    with _state().lock:
        refund = _state().refunds.get(out_refund_no)
        refund = dict(refund) if refund else None
    if refund is None or "create_time" not in refund:
        return error(404, "RESOURCE_NOT_EXISTS", "退款单不存在")
    return respond(refund_object(refund))


@bp.post("/standin/v3/refund/<out_refund_no>/notify")
def refund_notify_hook(out_refund_no: str):
    status = request.args.get("status", "SUCCESS")
    copies = max(1, min(request.args.get("copies", 1, type=int), 100))
    with _state().lock:
        refund = _state().refunds.get(out_refund_no)
        if refund is None or status not in REFUND_EVENTS or not refund.get("notify_url"):
            return jsonify(error="no such refund, status or notify_url"), 404
        refund["status"] = status
        refund = dict(refund)
    results = fire_copies(_state(), refund["notify_url"], refund_notice(refund, status), copies,
                          ref=out_refund_no)
    return jsonify(out_refund_no=out_refund_no, status=status, acknowledged=results)


# --- platform certificates ------------------------------------------------------------------

@bp.get("/v3/certificates")
@signed_endpoint
def certificates():
    platform = keys()
    sealed = crypto.aes_gcm_encrypt(current_app.config["APIV3_KEY"], platform.certificate_pem,
                                    "certificate")
    return respond({"data": [{
        "serial_no": platform.certificate.serial,
        "effective_time": platform.not_before.astimezone(CHINA).isoformat(timespec="seconds"),
        "expire_time": platform.not_after.astimezone(CHINA).isoformat(timespec="seconds"),
        "encrypt_certificate": sealed}]})


def platform_info() -> dict:
    """What a developer needs to configure public-key mode against this stand-in."""
    platform = keys()
    return {"public_key_id": platform.public_key.serial, "public_key": platform.public_key_pem,
            "certificate_serial": platform.certificate.serial}


@bp.get("/standin/v3/platform")
def platform():
    return Response(json.dumps(platform_info(), ensure_ascii=False),
                    content_type="application/json; charset=utf-8")
