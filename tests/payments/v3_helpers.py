"""APIv3 notices as WeChat sends them (signed with the stand-in's platform keys, the resource
AES-GCM encrypted under the APIv3 key), and posting them to our v3 notify views."""
from __future__ import annotations

import base64
import json
import secrets
import time

from app.config import standin_credentials, standin_v3_credentials
from app.wechat_standin.v3 import crypto

CREDS = standin_credentials()
V3 = standin_v3_credentials()
NOTIFY = "/wechat/pay/v3/notify"
REFUND_NOTIFY = "/wechat/pay/v3/refund_notify"


def transaction(out_trade_no: str, total: int, transaction_id: str | None = None,
                **overrides) -> dict:
    data = {"appid": CREDS["WECHAT_APPID"], "mchid": CREDS["WECHAT_MCH_ID"],
            "out_trade_no": out_trade_no,
            "transaction_id": transaction_id or f"4200{secrets.randbelow(10 ** 24):024d}",
            "trade_type": "NATIVE", "trade_state": "SUCCESS", "trade_state_desc": "支付成功",
            "bank_type": "OTHERS", "success_time": "2026-12-02T12:00:00+08:00",
            "payer": {"openid": "o_test_payer"},
            "amount": {"total": total, "payer_total": total, "currency": "CNY",
                       "payer_currency": "CNY"}}
    data.update(overrides)
    return data


def refund_resource(out_trade_no: str, out_refund_no: str, refund: int, total: int,
                    status: str = "SUCCESS", **overrides) -> dict:
    data = {"mchid": CREDS["WECHAT_MCH_ID"], "out_trade_no": out_trade_no,
            "transaction_id": f"4200{secrets.randbelow(10 ** 24):024d}",
            "out_refund_no": out_refund_no, "refund_id": f"50000{secrets.randbelow(10 ** 20)}",
            "refund_status": status, "success_time": "2026-12-02T12:00:00+08:00",
            "user_received_account": "支付用户零钱",
            "amount": {"total": total, "refund": refund, "payer_total": total,
                       "payer_refund": refund}}
    data.update(overrides)
    return data


def notice(platform, resource: dict, kind: str = "transaction",
           event_type: str = "TRANSACTION.SUCCESS", key=None, serial: str | None = None,
           timestamp: int | None = None, apiv3_key: str | None = None,
           tamper: bool = False) -> tuple[bytes, dict]:
    """(body, headers) of a notice; by default signed with the 微信支付公钥 and now."""
    sealed = crypto.aes_gcm_encrypt(apiv3_key or V3["WECHAT_PAY_APIV3_KEY"],
                                    json.dumps(resource, ensure_ascii=False), kind)
    if tamper:  # flip a byte of the ciphertext, keep it base64
        raw = bytearray(base64.b64decode(sealed["ciphertext"]))
        raw[0] ^= 0x01
        sealed["ciphertext"] = base64.b64encode(bytes(raw)).decode()
    event = {"id": f"EV-{secrets.token_hex(8)}", "create_time": "2026-12-02T12:00:00+08:00",
             "resource_type": "encrypt-resource", "event_type": event_type, "summary": "支付成功",
             "resource": {"original_type": kind, **sealed}}
    body = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
    key = key or platform.public_key
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    nonce = crypto.nonce()
    headers = {"Wechatpay-Timestamp": stamp, "Wechatpay-Nonce": nonce,
               "Wechatpay-Serial": serial or key.serial,
               "Wechatpay-Signature-Type": crypto.SCHEME,
               "Wechatpay-Signature": crypto.sign(key.private_key,
                                                  crypto.response_message(stamp, nonce, body))}
    return body.encode(), headers


def notice_for(platform, payment, **kwargs) -> tuple[bytes, dict]:
    fields = {k: kwargs.pop(k) for k in list(kwargs) if k in ("transaction_id",)}
    overrides = kwargs.pop("resource", {})
    return notice(platform, transaction(payment.out_trade_no, payment.amount_fen, **fields,
                                        **overrides), **kwargs)


def post(client, signed: tuple[bytes, dict], path: str = NOTIFY):
    body, headers = signed
    return client.post(path, data=body, headers=headers, content_type="application/json")


def acknowledged(response) -> bool:
    return response.status_code in (200, 204) and response.data == b""


def refused(response) -> bool:
    return (400 <= response.status_code < 600
            and response.get_json()["code"] == "FAIL" and response.get_json()["message"])
