"""WeChat Pay v2 through wechatpy, with the checks wechatpy leaves to us.

wechatpy compares signatures with `!=` and does not check the signatures of API responses at
all; here every signature (notices and responses) is checked in constant time, and appid and
mch_id are checked against ours.
"""
from __future__ import annotations

import hmac
from urllib.parse import urlencode
from xml.parsers.expat import ExpatError

import requests
import xmltodict
from flask import current_app
from wechatpy.exceptions import WeChatException, WeChatPayException
from wechatpy.pay import WeChatPay
from wechatpy.pay.utils import calculate_signature, calculate_signature_hmac

from app.core.chinatime import CHINA
from app.models_base import utcnow
from app.payments.provider import (REFUND_CLOSED, REFUND_FAILED, REFUND_PROCESSING,
                                   REFUND_SUCCEEDED,
                                   NoticeRejected, NotificationReply, OrderCreated,
                                   OrderRequest, OrderStatus, PaymentNoticeData,
                                   PaymentProvider, ProviderError, RefundNotice, RefundResult)
from app.wechat.clients import pay_client

MAX_NOTICE_BYTES = 16 * 1024
TRADE_STATES = {"SUCCESS": "paid", "REFUND": "refunded", "NOTPAY": "pending",
                "USERPAYING": "pending", "CLOSED": "closed", "REVOKED": "closed",
                "PAYERROR": "failed"}
REFUND_STATUSES = {"SUCCESS": REFUND_SUCCEEDED, "CHANGE": REFUND_FAILED,
                   "REFUNDCLOSE": REFUND_CLOSED}
QUERIED_REFUND_STATUSES = {**REFUND_STATUSES, "PROCESSING": REFUND_PROCESSING}
DECRYPT_ERRORS = (ExpatError, ValueError, KeyError, IndexError, TypeError, AttributeError,
                  WeChatException)
REPLY = ("<xml><return_code><![CDATA[{code}]]></return_code>"
         "<return_msg><![CDATA[{msg}]]></return_msg></xml>")


def signature_ok(params: dict, api_key: str) -> bool:
    """Constant-time check of a v2 signature (MD5 or HMAC-SHA256, as `sign_type` says)."""
    params = dict(params)
    sign = params.pop("sign", None)
    if not isinstance(sign, str) or not sign.isascii():
        return False
    sign_type = params.get("sign_type") or "MD5"
    if sign_type == "MD5":
        expected = calculate_signature(params, api_key)
    elif sign_type == "HMAC-SHA256":
        expected = calculate_signature_hmac(params, api_key)
    else:
        return False
    return hmac.compare_digest(sign.upper().encode(), expected.encode())


def parse_xml(body: bytes | str) -> dict[str, str]:
    """A flat <xml> document as {tag: text}; ValueError for anything else."""
    try:
        doc = xmltodict.parse(body, disable_entities=True)
    except (ExpatError, ValueError, xmltodict.ParsingInterrupted) as error:
        raise ValueError(f"not XML: {error}") from error
    data = doc.get("xml") if isinstance(doc, dict) else None
    if not isinstance(data, dict):
        raise ValueError("no <xml> root")
    flat: dict[str, str] = {}
    for key, value in data.items():
        if value is None:
            continue
        if not isinstance(value, str):
            raise ValueError(f"<{key}> is not a plain value")
        flat[key] = value
    return flat


class WeChatPayProvider(PaymentProvider):
    name = "wechat"
    notify_path = "/wechat/pay/notify"
    refund_notify_path = "/wechat/pay/refund_notify"

    def __init__(self, client: WeChatPay | None = None):
        cfg = current_app.config
        self.appid: str = cfg["WECHAT_APPID"]
        self.mch_id: str = cfg["WECHAT_MCH_ID"]
        self.api_key: str | None = cfg.get("WECHAT_API_KEY")
        self._client = client

    @property
    def client(self) -> WeChatPay:
        if self._client is None:
            self._client = pay_client()
        return self._client

    # --- notices ----------------------------------------------------------------------------

    def parse_notification(self, body: bytes, headers=None) -> PaymentNoticeData:
        """v2 notices carry everything in the body; headers are not looked at."""
        if len(body) > MAX_NOTICE_BYTES:
            raise NoticeRejected("malformed", f"notice of {len(body)} bytes is too large")
        if not self.api_key:  # an APIv3-only merchant: nothing can verify a v2 notice
            raise NoticeRejected("bad_signature", "no v2 API key is configured")
        try:
            data = parse_xml(body)
        except ValueError as error:
            raise NoticeRejected("malformed", str(error)[:200]) from error
        out_trade_no = data.get("out_trade_no")
        if data.get("return_code") != "SUCCESS":
            raise NoticeRejected("malformed", f"return_code {data.get('return_code')!r}",
                                 out_trade_no)
        if not signature_ok(data, self.api_key):
            raise NoticeRejected("bad_signature", "signature does not match", out_trade_no)
        self._check_merchant(data, out_trade_no)
        total_fee = data.get("total_fee", "")
        if not out_trade_no or not total_fee.isdigit() or len(total_fee) > 12:
            raise NoticeRejected("malformed", "out_trade_no or total_fee missing", out_trade_no)
        success = data.get("result_code") == "SUCCESS"
        transaction_id = data.get("transaction_id", "")
        if success and not transaction_id:
            raise NoticeRejected("malformed", "transaction_id missing", out_trade_no)
        return PaymentNoticeData(out_trade_no=out_trade_no, transaction_id=transaction_id,
                                 total_fee=int(total_fee), success=success,
                                 openid=data.get("openid"), trade_type=data.get("trade_type"),
                                 time_end=data.get("time_end"), raw=data)

    def notification_reply(self, ok: bool, message: str = "") -> NotificationReply:
        code = "SUCCESS" if ok else "FAIL"
        msg = (message or ("OK" if ok else "FAIL")).replace("]]>", "")
        return NotificationReply(200, REPLY.format(code=code, msg=msg).encode(),
                                 "application/xml")

    def parse_refund_notice(self, body: bytes, headers=None) -> RefundNotice:
        """WeChat does not sign refund notices: only someone with our API key can make a
        `req_info` that decrypts, so a refusal to decrypt is a bad signature."""
        if len(body) > MAX_NOTICE_BYTES:
            raise NoticeRejected("malformed", f"notice of {len(body)} bytes is too large")
        if not self.api_key:
            raise NoticeRejected("bad_signature", "no v2 API key is configured")
        try:
            envelope = parse_xml(body)
        except ValueError as error:
            raise NoticeRejected("malformed", str(error)[:200]) from error
        if envelope.get("return_code") != "SUCCESS" or not envelope.get("req_info"):
            raise NoticeRejected("malformed", "return_code or req_info missing")
        self._check_merchant(envelope)
        try:
            data = self.parse_refund_notification(envelope)
        except NoticeRejected as error:
            raise NoticeRejected("bad_signature",
                                 f"req_info does not decrypt: {error.detail}") from error
        except DECRYPT_ERRORS as error:
            raise NoticeRejected("bad_signature",
                                 f"req_info does not decrypt: {error!r}"[:200]) from error
        if not isinstance(data, dict):
            raise NoticeRejected("bad_signature", "req_info does not decrypt to a document")
        out_refund_no, out_trade_no = data.get("out_refund_no"), data.get("out_trade_no")
        status = data.get("refund_status")
        if (not isinstance(out_refund_no, str) or not isinstance(out_trade_no, str)
                or status not in REFUND_STATUSES
                or not isinstance(data.get("refund_fee"), int)
                or not isinstance(data.get("total_fee"), int)):
            raise NoticeRejected("malformed", "req_info lacks out_refund_no, amounts or status",
                                 out_trade_no if isinstance(out_trade_no, str) else None)
        return RefundNotice(out_refund_no=out_refund_no, out_trade_no=out_trade_no,
                            refund_id=str(data.get("refund_id") or ""),
                            refund_fee=data["refund_fee"], total_fee=data["total_fee"],
                            status=REFUND_STATUSES[status], success_time=data.get("success_time"),
                            raw=data)

    def parse_refund_notification(self, body: bytes | dict) -> dict:
        """The decrypted `req_info` (AES-256-ECB, key md5(api_key)), amounts as int; wechatpy
        checks appid, mch_id."""
        try:
            return self.client.parse_refund_notify_result(body)
        except (ExpatError, ValueError, KeyError) as error:
            raise NoticeRejected("malformed", str(error)[:200]) from error

    def cashier_url(self, prepay_id: str, return_url: str) -> str | None:
        """Only the stand-in has a cashier page; real WeChat pays inside WeChat."""
        base = current_app.config.get("WECHAT_API_BASE")
        if not (current_app.config.get("WECHAT_STANDIN") and base and prepay_id):
            return None
        return f"{base}standin/cashier/{prepay_id}?{urlencode({'return': return_url})}"

    def _check_merchant(self, data: dict, out_trade_no: str | None = None) -> None:
        if data.get("appid") != self.appid or data.get("mch_id") != self.mch_id:
            raise NoticeRejected("wrong_merchant",
                                 f"appid {data.get('appid')!r} mch_id {data.get('mch_id')!r}",
                                 out_trade_no)

    # --- API calls --------------------------------------------------------------------------

    def _call(self, func, *args, **kwargs) -> dict:
        try:
            data = func(*args, **kwargs)
        except WeChatPayException as error:
            raise ProviderError(error.errmsg or error.return_msg or "微信支付返回错误",
                                error.errcode or "wechat_error") from error
        except requests.RequestException as error:
            raise ProviderError("暂时无法连接微信支付，请稍后再试", "unreachable") from error
        if not isinstance(data, dict):
            raise ProviderError("微信支付返回了无法识别的内容", "bad_response")
        if not signature_ok(data, self.api_key):
            raise ProviderError("微信支付应答签名错误", "bad_signature")
        try:
            self._check_merchant(data)
        except NoticeRejected as error:
            raise ProviderError("微信支付应答的商户号不符", "wrong_merchant") from error
        return data

    def create_payment(self, order: OrderRequest) -> OrderCreated:
        now = utcnow().astimezone(CHINA)
        data = self._call(
            self.client.order.create, trade_type=order.trade_type, body=order.description,
            total_fee=order.amount_fen, notify_url=order.notify_url, client_ip=order.client_ip,
            user_id=order.openid if order.trade_type == "JSAPI" else None,
            out_trade_no=order.out_trade_no, time_start=now,
            time_expire=order.expires_at.astimezone(CHINA),
            product_id=order.product_id or order.out_trade_no)
        if not data.get("prepay_id"):
            raise ProviderError("微信支付没有返回预支付单", "bad_response")
        return OrderCreated(prepay_id=data["prepay_id"], code_url=data.get("code_url"))

    def query(self, out_trade_no: str) -> OrderStatus:
        try:
            data = self._call(self.client.order.query, out_trade_no=out_trade_no)
        except ProviderError as error:
            if error.code == "ORDERNOTEXIST":
                return OrderStatus(state="not_found")
            raise
        if data.get("out_trade_no") != out_trade_no:
            raise ProviderError("微信支付应答的订单号不符", "bad_response")
        state = TRADE_STATES.get(data.get("trade_state", ""), "pending")
        total_fee = data.get("total_fee")
        return OrderStatus(state=state,
                           total_fee=int(total_fee) if total_fee and total_fee.isdigit() else None,
                           transaction_id=data.get("transaction_id"), openid=data.get("openid"))

    def close(self, out_trade_no: str) -> None:
        try:
            self._call(self.client.order.close, out_trade_no)
        except ProviderError as error:
            if error.code == "ORDERCLOSED":
                return
            if error.code == "ORDERPAID":
                raise ProviderError("订单已支付，不能关闭", "order_paid") from error
            raise

    def query_refund(self, out_refund_no: str) -> RefundNotice | None:
        """v2's refundquery lists an order's refunds as `<name>_<n>`; asked by out_refund_no,
        WeChat answers with that one refund at index 0."""
        try:
            data = self._call(self.client.refund.query, out_refund_no=out_refund_no)
        except ProviderError as error:
            if error.code == "REFUNDNOTEXIST":
                return None
            raise
        status = QUERIED_REFUND_STATUSES.get(data.get("refund_status_0", ""))
        fee, total = data.get("refund_fee_0", ""), data.get("total_fee", "")
        if (data.get("out_refund_no_0") != out_refund_no or status is None
                or not isinstance(data.get("out_trade_no"), str)
                or not str(fee).isdigit() or not str(total).isdigit()):
            raise ProviderError("微信支付应答的退款单不完整", "bad_response")
        return RefundNotice(out_refund_no=out_refund_no, out_trade_no=data["out_trade_no"],
                            refund_id=str(data.get("refund_id_0") or ""), refund_fee=int(fee),
                            total_fee=int(total), status=status,
                            success_time=data.get("refund_success_time_0"), raw=dict(data))

    def refund(self, out_trade_no: str, out_refund_no: str, total_fee: int, refund_fee: int,
               reason: str = "", notify_url: str | None = None) -> RefundResult:
        data = self._call(self.client.refund.apply, total_fee=total_fee, refund_fee=refund_fee,
                          out_refund_no=out_refund_no, out_trade_no=out_trade_no,
                          refund_desc=reason or None, notify_url=notify_url)
        return RefundResult(refund_id=data.get("refund_id", ""), out_refund_no=out_refund_no,
                            refund_fee=int(data.get("refund_fee", refund_fee)))

    def client_params(self, prepay_id: str) -> dict:
        return self.client.jsapi.get_jsapi_params(prepay_id)
