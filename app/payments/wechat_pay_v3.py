"""WeChat Pay APIv3 through wechatpayv3, with the checks the library leaves to us.

wechatpayv3 signs requests and verifies responses; of notices, `callback(headers, body)`
verifies the RSA signature and decrypts the AES-256-GCM resource, but it does not refuse a stale
`Wechatpay-Timestamp`, it downloads certificates for any `Wechatpay-Serial` it does not know,
and it raises a bare `Exception` for an unknown signature type or algorithm. So here, before
the library sees a notice: its size, its headers, the serial (one of ours), the timestamp
(within 5 minutes), the envelope (AEAD_AES_256_GCM, the associated data the notice kind has);
after: appid and mchid ours, amounts present. The amount against the order is `confirm`'s check.
"""
from __future__ import annotations

import json
import secrets
import time
from typing import Mapping
from urllib.parse import urlencode

import requests
from flask import current_app

from app.core.chinatime import CHINA
from app.payments.provider import (REFUND_CLOSED, REFUND_FAILED, REFUND_PROCESSING,
                                   REFUND_SUCCEEDED,
                                   NoticeRejected, NotificationReply, OrderCreated,
                                   OrderRequest, OrderStatus, PaymentNoticeData,
                                   PaymentProvider, ProviderError, RefundNotice, RefundResult)
from app.wechat.pay_v3_client import (PayV3NotConfigured, WeChatPay, WeChatPayType,
                                      library_failure, pay_v3_client)
from app.wechat.pay_v3_notices import NoticeRefused, decrypted_resource

TRADE_STATES = {"SUCCESS": "paid", "REFUND": "refunded", "NOTPAY": "pending",
                "USERPAYING": "pending", "CLOSED": "closed", "REVOKED": "closed",
                "PAYERROR": "failed"}
REFUND_STATUSES = {"SUCCESS": REFUND_SUCCEEDED, "ABNORMAL": REFUND_FAILED,
                   "CLOSED": REFUND_CLOSED}
# The refund object's `status` (a query's answer); PROCESSING never reaches a notice.
QUERIED_REFUND_STATUSES = {**REFUND_STATUSES, "PROCESSING": REFUND_PROCESSING}
PAY_TYPES = {"JSAPI": WeChatPayType.JSAPI, "NATIVE": WeChatPayType.NATIVE}


def _fail_reply(status: int, message: str) -> NotificationReply:
    body = json.dumps({"code": "FAIL", "message": message or "失败"}, ensure_ascii=False)
    return NotificationReply(status, body.encode(), "application/json")


class WeChatPayV3Provider(PaymentProvider):
    name = "wechat_v3"
    notify_path = "/wechat/pay/v3/notify"
    refund_notify_path = "/wechat/pay/v3/refund_notify"

    def __init__(self, client: WeChatPay | None = None):
        cfg = current_app.config
        self.appid: str = cfg["WECHAT_APPID"]
        self.mchid: str = cfg["WECHAT_MCH_ID"]
        self._client = client

    @property
    def client(self) -> WeChatPay:
        if self._client is None:
            try:
                self._client = pay_v3_client()
            except PayV3NotConfigured as error:
                raise ProviderError("微信支付 APIv3 未配置", "not_configured") from error
            except requests.RequestException as error:
                raise ProviderError("暂时无法连接微信支付，请稍后再试", "unreachable") from error
            except Exception as error:  # noqa: BLE001 — the library's own, re-raised otherwise
                if not library_failure(error):
                    raise
                raise ProviderError("微信支付平台证书无法获取", "no_certificate") from error
        return self._client

    # --- notices ----------------------------------------------------------------------------

    def _verified(self, body: bytes, headers: Mapping[str, str], kind: str) -> dict:
        """The decrypted resource of a notice of `kind` ("transaction" / "refund")."""
        try:
            return decrypted_resource(self._notice_client, body, headers, (kind,))
        except NoticeRefused as refused:
            raise NoticeRejected(refused.verdict, refused.detail) from refused

    def _notice_client(self) -> WeChatPay:
        try:
            return self.client
        except ProviderError as error:
            raise NoticeRefused("bad_signature", f"cannot verify: {error.message}") from error

    def parse_notification(self, body: bytes, headers: Mapping[str, str]) -> PaymentNoticeData:
        data = self._verified(body, headers, "transaction")
        out_trade_no = data.get("out_trade_no")
        out_trade_no = out_trade_no if isinstance(out_trade_no, str) else None
        if data.get("appid") != self.appid or data.get("mchid") != self.mchid:
            raise NoticeRejected("wrong_merchant", f"appid {str(data.get('appid'))[:40]!r} "
                                                   f"mchid {str(data.get('mchid'))[:40]!r}",
                                 out_trade_no)
        amount = data.get("amount")
        total = amount.get("total") if isinstance(amount, dict) else None
        if not out_trade_no or type(total) is not int:
            raise NoticeRejected("malformed", "out_trade_no or amount.total missing", out_trade_no)
        success = data.get("trade_state") == "SUCCESS"
        transaction_id = data.get("transaction_id") or ""
        if success and (not isinstance(transaction_id, str) or not transaction_id):
            raise NoticeRejected("malformed", "transaction_id missing", out_trade_no)
        payer = data.get("payer")
        return PaymentNoticeData(
            out_trade_no=out_trade_no, transaction_id=str(transaction_id), total_fee=total,
            success=success, openid=payer.get("openid") if isinstance(payer, dict) else None,
            trade_type=data.get("trade_type"), time_end=data.get("success_time"), raw=data)

    def notification_reply(self, ok: bool, message: str = "") -> NotificationReply:
        if ok:
            return NotificationReply(204, b"")
        return _fail_reply(400, message)

    def parse_refund_notice(self, body: bytes, headers: Mapping[str, str]) -> RefundNotice:
        data = self._verified(body, headers, "refund")
        out_refund_no, out_trade_no = data.get("out_refund_no"), data.get("out_trade_no")
        out_trade_no = out_trade_no if isinstance(out_trade_no, str) else None
        if data.get("mchid") != self.mchid:
            raise NoticeRejected("wrong_merchant", f"mchid {str(data.get('mchid'))[:40]!r}",
                                 out_trade_no)
        amount = data.get("amount") if isinstance(data.get("amount"), dict) else {}
        status = data.get("refund_status")
        if (not isinstance(out_refund_no, str) or not out_trade_no
                or status not in REFUND_STATUSES or type(amount.get("refund")) is not int
                or type(amount.get("total")) is not int):
            raise NoticeRejected("malformed", "resource lacks out_refund_no, amounts or status",
                                 out_trade_no)
        return RefundNotice(out_refund_no=out_refund_no, out_trade_no=out_trade_no,
                            refund_id=str(data.get("refund_id") or ""),
                            refund_fee=amount["refund"], total_fee=amount["total"],
                            status=REFUND_STATUSES[status],
                            success_time=data.get("success_time"), raw=data)

    def cashier_url(self, prepay_id: str, return_url: str) -> str | None:
        """Only the stand-in has a cashier page; real WeChat pays inside WeChat."""
        base = current_app.config.get("WECHAT_API_BASE")
        if not (current_app.config.get("WECHAT_STANDIN") and base and prepay_id):
            return None
        return f"{base}standin/cashier/{prepay_id}?{urlencode({'return': return_url})}"

    # --- API calls --------------------------------------------------------------------------

    def _call(self, func, *args, **kwargs) -> dict | None:
        """The JSON of a 2xx answer (None for 204); ProviderError with WeChat's code else."""
        try:
            status, text = func(*args, **kwargs)
        except requests.RequestException as error:
            raise ProviderError("暂时无法连接微信支付，请稍后再试", "unreachable") from error
        except ValueError as error:  # a Wechatpay-Serial the library cannot even parse
            raise ProviderError("微信支付应答签名错误", "bad_signature") from error
        except Exception as error:  # noqa: BLE001 — the library's own, re-raised otherwise
            if not library_failure(error):
                raise
            code = "bad_signature" if "signature" in str(error) else "bad_request"
            raise ProviderError("微信支付应答签名错误" if code == "bad_signature"
                                else "微信支付请求参数不全", code) from error
        try:
            data = json.loads(text) if text else None
        except (TypeError, ValueError) as error:
            raise ProviderError("微信支付返回了无法识别的内容", "bad_response") from error
        if 200 <= status < 300:
            if data is not None and not isinstance(data, dict):
                raise ProviderError("微信支付返回了无法识别的内容", "bad_response")
            return data
        if not isinstance(data, dict):
            raise ProviderError(f"微信支付返回 HTTP {status}", f"http_{status}")
        raise ProviderError(str(data.get("message") or "微信支付返回错误")[:200],
                            str(data.get("code") or f"http_{status}"))

    def create_payment(self, order: OrderRequest) -> OrderCreated:
        if order.trade_type not in PAY_TYPES:
            raise ProviderError("不支持的支付方式", "trade_type")
        data = self._call(
            self.client.pay, description=order.description, out_trade_no=order.out_trade_no,
            amount={"total": order.amount_fen, "currency": "CNY"},
            payer={"openid": order.openid} if order.trade_type == "JSAPI" else None,
            time_expire=order.expires_at.astimezone(CHINA).isoformat(timespec="seconds"),
            scene_info={"payer_client_ip": order.client_ip}, notify_url=order.notify_url,
            pay_type=PAY_TYPES[order.trade_type]) or {}
        if order.trade_type == "NATIVE":
            if not isinstance(data.get("code_url"), str):
                raise ProviderError("微信支付没有返回二维码链接", "bad_response")
            # Native orders have no prepay_id in v3; the order number names it at the cashier.
            return OrderCreated(prepay_id=order.out_trade_no, code_url=data["code_url"])
        if not isinstance(data.get("prepay_id"), str):
            raise ProviderError("微信支付没有返回预支付单", "bad_response")
        return OrderCreated(prepay_id=data["prepay_id"])

    def query(self, out_trade_no: str) -> OrderStatus:
        try:
            data = self._call(self.client.query, out_trade_no=out_trade_no) or {}
        except ProviderError as error:
            if error.code in ("ORDER_NOT_EXIST", "ORDERNOTEXIST"):
                return OrderStatus(state="not_found")
            raise
        if data.get("out_trade_no") != out_trade_no:
            raise ProviderError("微信支付应答的订单号不符", "bad_response")
        if data.get("appid") != self.appid or data.get("mchid") != self.mchid:
            raise ProviderError("微信支付应答的商户号不符", "wrong_merchant")
        amount = data.get("amount") if isinstance(data.get("amount"), dict) else {}
        payer = data.get("payer") if isinstance(data.get("payer"), dict) else {}
        total = amount.get("total")
        return OrderStatus(state=TRADE_STATES.get(data.get("trade_state", ""), "pending"),
                           total_fee=total if type(total) is int else None,
                           transaction_id=data.get("transaction_id"),
                           openid=payer.get("openid"))

    def close(self, out_trade_no: str) -> None:
        try:
            self._call(self.client.close, out_trade_no)
        except ProviderError as error:
            if error.code == "ORDER_CLOSED":
                return
            if error.code == "ORDERPAID":
                raise ProviderError("订单已支付，不能关闭", "order_paid") from error
            raise

    def refund(self, out_trade_no: str, out_refund_no: str, total_fee: int, refund_fee: int,
               reason: str = "", notify_url: str | None = None) -> RefundResult:
        data = self._call(self.client.refund, out_refund_no=out_refund_no,
                          amount={"refund": refund_fee, "total": total_fee, "currency": "CNY"},
                          out_trade_no=out_trade_no, reason=reason[:80] or None,
                          notify_url=notify_url) or {}
        amount = data.get("amount") if isinstance(data.get("amount"), dict) else {}
        if data.get("out_refund_no") != out_refund_no:
            raise ProviderError("微信支付应答的退款单号不符", "bad_response")
        refunded = amount.get("refund")
        return RefundResult(refund_id=str(data.get("refund_id") or ""),
                            out_refund_no=out_refund_no,
                            refund_fee=refunded if type(refunded) is int else refund_fee)

    def query_refund(self, out_refund_no: str) -> RefundNotice | None:
        try:
            data = self._call(self.client.query_refund, out_refund_no=out_refund_no) or {}
        except ProviderError as error:
            if error.code == "RESOURCE_NOT_EXISTS":
                return None
            raise
        amount = data.get("amount") if isinstance(data.get("amount"), dict) else {}
        status = QUERIED_REFUND_STATUSES.get(data.get("status", ""))
        if (data.get("out_refund_no") != out_refund_no or status is None
                or not isinstance(data.get("out_trade_no"), str)
                or type(amount.get("refund")) is not int or type(amount.get("total")) is not int):
            raise ProviderError("微信支付应答的退款单不完整", "bad_response")
        return RefundNotice(out_refund_no=out_refund_no, out_trade_no=data["out_trade_no"],
                            refund_id=str(data.get("refund_id") or ""),
                            refund_fee=amount["refund"], total_fee=amount["total"],
                            status=status, success_time=data.get("success_time"), raw=data)

    def client_params(self, prepay_id: str) -> dict:
        """WeixinJSBridge's getBrandWCPayRequest: paySign is SHA256withRSA over
        appId\\ntimeStamp\\nnonceStr\\npackage\\n with the merchant's key."""
        params = {"appId": self.appid, "timeStamp": str(int(time.time())),
                  "nonceStr": secrets.token_hex(16), "package": f"prepay_id={prepay_id}"}
        sign = self.client.sign([params["appId"], params["timeStamp"], params["nonceStr"],
                                 params["package"]])
        return params | {"signType": "RSA", "paySign": sign}
