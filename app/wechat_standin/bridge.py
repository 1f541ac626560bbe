"""Stand-in for WeChat's own browser: `WeixinJSBridge` and its pay sheet.

Inside WeChat every page has `WeixinJSBridge`; `invoke('getBrandWCPayRequest', params, cb)` opens
WeChat's pay sheet (the amount, the merchant's name, 支付), and WeChat checks the parameters'
paySign (v2: MD5 with the API key; v3: SHA256withRSA with the merchant's key) before it shows
anything. The app injects this script only while the stand-in is on, and only for a browser
whose user agent says MicroMessenger (WeChat's).

  GET  standin/bridge.js        the WeixinJSBridge substitute (plays WeChat's pay sheet)
  POST standin/bridge/order     the sheet's contents for getBrandWCPayRequest's params, once
                                they are checked as WeChat checks them
  POST standin/bridge/pay       the payer confirmed: the order is paid at the stand-in and its
                                notice sent to the merchant, as the cashier page does

The page's origin differs from the stand-in's: the script posts JSON as text/plain (no CORS
pre-flight) with the stand-in's cookie, which says which test user this browser is signed in
to WeChat as (oauth.PHONE_USER_COOKIE); WeChat refuses to pay another user's JSAPI order.
"""
from __future__ import annotations

import hmac
import json
from pathlib import Path

from flask import Blueprint, Response, current_app, request
from wechatpy.pay.utils import calculate_signature, calculate_signature_hmac

from app.wechat_standin.delivery import send_async
from app.wechat_standin.oauth import PHONE_USER_COOKIE
from app.wechat_standin.pay import mark_paid, payment_notice
from app.wechat_standin.state import StandinState
from app.wechat_standin.v3 import crypto

bp = Blueprint("standin_bridge", __name__)
BRIDGE_JS = (Path(__file__).parent / "js" / "bridge.js").read_text(encoding="utf-8")
PAY_API = "get_brand_wcpay_request"


def _state() -> StandinState:
    return current_app.extensions["standin_state"]


def _json(payload: dict, status: int = 200) -> Response:
    return Response(json.dumps(payload, ensure_ascii=False), status=status,
                    mimetype="application/json")


@bp.after_request
def _allow_the_page(response: Response) -> Response:
    # Credentials (the stand-in's cookie) need the page's own origin, never "*".
    origin = request.headers.get("Origin")
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Credentials"] = "true"
        response.headers["Vary"] = "Origin"
    return response


def _params() -> dict:
    try:
        data = json.loads(request.get_data(as_text=True) or "{}")
    except ValueError:
        return {}
    return {k: str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _sign_ok(params: dict, order: dict) -> bool:
    pay_sign = params.get("paySign", "")
    if order.get("api") == "v3":
        public_key = current_app.config.get("MERCHANT_PUBLIC_KEY")
        if params.get("signType") != "RSA" or public_key is None:
            return False
        message = "".join(f"{params.get(k, '')}\n"
                          for k in ("appId", "timeStamp", "nonceStr", "package"))
        return crypto.verify(public_key, message, pay_sign)
    signed = {k: params.get(k, "") for k in ("appId", "timeStamp", "nonceStr", "package",
                                             "signType")}
    sign = {"MD5": calculate_signature, "HMAC-SHA256": calculate_signature_hmac}.get(
        signed["signType"])
    if sign is None:
        return False
    expected = sign(signed, current_app.config["API_KEY"])
    return hmac.compare_digest(pay_sign.encode(), expected.encode())


def _checked_order(params: dict) -> tuple[dict | None, str]:
    """The JSAPI order these parameters may pay, or None and WeChat's err_msg."""
    if params.get("appId") != current_app.config["APPID"]:
        return None, f"{PAY_API}:fail, invalid appId"
    package = params.get("package", "")
    if not package.startswith("prepay_id="):
        return None, f"{PAY_API}:fail, invalid package"
    with _state().lock:
        out_trade_no = _state().prepays.get(package.removeprefix("prepay_id="))
        order = dict(_state().orders[out_trade_no]) if out_trade_no else None
    if order is None or order["trade_type"] != "JSAPI":
        return None, f"{PAY_API}:fail, 订单不存在"
    if not _sign_ok(params, order):
        return None, f"{PAY_API}:fail, 支付验证签名失败"
    payer = request.cookies.get(PHONE_USER_COOKIE)
    if payer and order.get("openid") and payer != order["openid"]:
        return None, f"{PAY_API}:fail, 当前微信用户与下单用户不一致"
    if order["trade_state"] == "SUCCESS":
        return None, f"{PAY_API}:fail, 该订单已支付"
    if order["trade_state"] != "NOTPAY":
        return None, f"{PAY_API}:fail, 订单已关闭"
    return order, ""


@bp.get("/standin/bridge.js")
def script():
    response = Response(BRIDGE_JS, mimetype="application/javascript")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.post("/standin/bridge/order")
def sheet():
    order, err_msg = _checked_order(_params())
    if order is None:
        return _json({"err_msg": err_msg})
    return _json({"err_msg": f"{PAY_API}:ready", "total_fee": order["total_fee"],
                  "body": order["body"],
                  "merchant": current_app.config.get("MERCHANT_NAME") or order.get("mchid")
                  or current_app.config["MCH_ID"]})


@bp.post("/standin/bridge/pay")
def pay():
    order, err_msg = _checked_order(_params())
    if order is None:
        return _json({"err_msg": err_msg})
    paid = mark_paid(_state(), order["out_trade_no"])
    if paid is None:
        return _json({"err_msg": f"{PAY_API}:fail, 订单已关闭"})
    send_async(_state(), paid["notify_url"], payment_notice(paid),
               tuple(current_app.config["RESEND_SCHEDULE"]), ref=paid["out_trade_no"])
    return _json({"err_msg": f"{PAY_API}:ok", "transaction_id": paid["transaction_id"]})
