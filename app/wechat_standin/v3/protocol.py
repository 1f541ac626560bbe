"""What every APIv3 endpoint of the stand-in does, as WeChat Pay does it.

- `signed_endpoint`: refuse a request whose Authorization header is missing, malformed, for
  another merchant or serial, more than 5 minutes off, or whose SHA256withRSA signature over
  METHOD\\nURL\\ntimestamp\\nnonce\\nbody\\n does not verify: 401 {"code": "SIGN_ERROR", …}.
- `respond` / `error`: JSON (or 204 empty) responses, each signed with a platform key over
  timestamp\\nnonce\\nbody\\n, with Request-ID and the Wechatpay-* headers. The key is the
  微信支付公钥 when the request named its PUB_KEY_ID in Wechatpay-Serial, else the certificate.
- `Notice`: an encrypted, signed notification to a merchant, freshly signed on every attempt so
  a resend a day later still carries a current timestamp; pay.py's delivery machinery sends it.
"""
from __future__ import annotations

import functools
import json
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from flask import Response, current_app, g, request

from app.wechat_standin.v3 import crypto
from app.wechat_standin.v3.crypto import PlatformKeys, SigningKey

CHINA = timezone(timedelta(hours=8))
MAX_SKEW_SECONDS = 300
SIGNATURE_TYPE = crypto.SCHEME


def keys() -> PlatformKeys:
    return current_app.extensions["standin_v3_keys"]


def _clock() -> float:
    return current_app.extensions["standin_state"].clock()


def rfc3339(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, CHINA).isoformat(timespec="seconds")


def request_url() -> str:
    """The URL as signed: the absolute path and, if any, the query string."""
    query = request.query_string.decode()
    return request.path + (f"?{query}" if query else "")


def signing_key(serial_hint: str | None = None) -> SigningKey:
    platform = keys()
    hint = serial_hint if serial_hint is not None else request.headers.get("Wechatpay-Serial")
    return platform.public_key if hint == platform.public_key.serial else platform.certificate


def signature_headers(key: SigningKey, body: str, timestamp: int | None = None) -> dict:
    timestamp = int(_clock()) if timestamp is None else timestamp
    nonce = crypto.nonce()
    return {"Wechatpay-Timestamp": str(timestamp), "Wechatpay-Nonce": nonce,
            "Wechatpay-Serial": key.serial, "Wechatpay-Signature-Type": SIGNATURE_TYPE,
            "Wechatpay-Signature": crypto.sign(key.private_key,
                                               crypto.response_message(str(timestamp), nonce,
                                                                       body))}


def respond(data: dict | None, status: int = 200) -> Response:
    body = "" if data is None else json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    response = Response(body, status=status,
                        content_type=None if data is None else "application/json; charset=utf-8")
    response.headers.update(signature_headers(signing_key(), body))
    response.headers["Request-ID"] = getattr(g, "request_id", None) or str(uuid.uuid4())
    return response


def error(status: int, code: str, message: str, detail: dict | None = None) -> Response:
    data = {"code": code, "message": message}
    if detail:
        data["detail"] = detail
    return respond(data, status)


def param_error(message: str, field_name: str | None = None) -> Response:
    return error(400, "PARAM_ERROR", message,
                 {"field": field_name, "location": "body"} if field_name else None)


def _sign_error(message: str) -> Response:
    return error(401, "SIGN_ERROR", message)


def check_authorization() -> Response | None:
    """None when the request is signed by our merchant; otherwise WeChat's refusal."""
    cfg = current_app.config
    fields = crypto.parse_authorization(request.headers.get("Authorization", ""))
    if fields is None:
        return _sign_error("Http头Authorization值格式错误，请参考《微信支付商户REST API签名规则》")
    if fields["mchid"] != cfg["MCH_ID"]:
        return _sign_error("商户号不存在或与签名不符")
    if fields["serial_no"] != cfg["MERCHANT_SERIAL"]:
        return _sign_error("商户证书序列号有误，请使用签名私钥匹配的证书序列号")
    if not fields["timestamp"].isdigit() or abs(int(fields["timestamp"]) - _clock()) > \
            MAX_SKEW_SECONDS:
        return _sign_error("请求时间戳已过期或格式错误，请检查服务器时间")
    message = crypto.request_message(request.method, request_url(), fields["timestamp"],
                                     fields["nonce_str"], request.get_data(as_text=True))
    if not crypto.verify(cfg["MERCHANT_PUBLIC_KEY"], message, fields["signature"]):
        return _sign_error("签名错误，请检查签名参数和方法是否都符合签名算法要求")
    serial = request.headers.get("Wechatpay-Serial")
    if serial is not None and keys().by_serial(serial) is None:
        return param_error("Wechatpay-Serial 不是有效的微信支付公钥ID或平台证书序列号")
    return None


def signed_endpoint(view):
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        g.request_id = str(uuid.uuid4())
        refusal = check_authorization()
        return refusal if refusal is not None else view(*args, **kwargs)

    return wrapper


def json_body() -> dict | Response:
    """The request's JSON object, or WeChat's PARAM_ERROR."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return param_error("请求体不是合法的JSON对象")
    return data


# --- notices --------------------------------------------------------------------------------

@dataclass
class Notice:
    """One notification (its id and ciphertext fixed), signed afresh on each attempt."""

    body: str
    key: SigningKey
    clock: object = field(repr=False, default=None)

    def render(self) -> tuple[bytes, dict]:
        timestamp = int(self.clock()) if self.clock else None
        headers = signature_headers(self.key, self.body, timestamp)
        headers.update({"Content-Type": "application/json", "Request-ID": str(uuid.uuid4())})
        return self.body.encode(), headers

    @staticmethod
    def accepted(response) -> bool:
        """WeChat takes 200 or 204 as received; anything else is resent."""
        return response.status_code in (200, 204)


def make_notice(event_type: str, summary: str, original_type: str, plaintext: dict,
                serial_hint: str | None) -> Notice:
    """An event as WeChat sends it; the resource encrypted under the APIv3 key with
    associated_data = original_type ("transaction" / "refund")."""
    now = _clock()
    resource = crypto.aes_gcm_encrypt(
        current_app.config["APIV3_KEY"],
        json.dumps(plaintext, ensure_ascii=False, separators=(",", ":")), original_type)
    resource["original_type"] = original_type
    event = {"id": f"EV-{datetime.fromtimestamp(now, CHINA):%Y%m%d%H%M%S}"
                   f"{secrets.randbelow(10 ** 8):08d}",
             "create_time": rfc3339(now), "resource_type": "encrypt-resource",
             "event_type": event_type, "summary": summary, "resource": resource}
    return Notice(json.dumps(event, ensure_ascii=False, separators=(",", ":")),
                  signing_key(serial_hint), current_app.extensions["standin_state"].clock)
