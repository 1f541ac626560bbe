"""Reading an APIv3 notification (回调通知) as WeChat publishes the rules, for every feature that
receives one (payments' payment and refund notices, payouts' 商家转账 notices).

In order, and before wechatpayv3 sees anything: a bounded body; the four Wechatpay-* headers;
the signature type; a `Wechatpay-Serial` we hold (the library would download certificates for
any serial it does not know); a `Wechatpay-Timestamp` within 5 minutes (the library does not
check it); a JSON `encrypt-resource` under AEAD_AES_256_GCM with the expected associated data.
Then the library verifies `timestamp\\nnonce\\nbody\\n` with the platform key and decrypts.
"""
from __future__ import annotations

import json
import time
from typing import Callable, Mapping

from app.wechat.pay_v3_client import WeChatPay, library_failure, serial_known

MAX_NOTICE_BYTES = 16 * 1024
MAX_SKEW_SECONDS = 300
SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048"
NOTICE_HEADERS = ("Wechatpay-Signature", "Wechatpay-Timestamp", "Wechatpay-Nonce",
                  "Wechatpay-Serial", "Wechatpay-Signature-Type")


class NoticeRefused(Exception):
    """A notice not to act on; `verdict` is bad_signature or malformed."""

    def __init__(self, verdict: str, detail: str):
        super().__init__(detail)
        self.verdict = verdict
        self.detail = detail


def decrypted_resource(client_of: Callable[[], WeChatPay], body: bytes,
                       headers: Mapping[str, str], associated_data: tuple[str, ...],
                       event_type: str | None = None) -> dict:
    """The notice's decrypted resource, or NoticeRefused. `client_of()` gives the client whose
    platform keys verify it (raising NoticeRefused when it cannot be built)."""
    if len(body) > MAX_NOTICE_BYTES:
        raise NoticeRefused("malformed", f"notice of {len(body)} bytes is too large")
    found = {name: headers.get(name) or "" for name in NOTICE_HEADERS}
    if not all(found[name] for name in NOTICE_HEADERS[:4]):
        raise NoticeRefused("bad_signature", "Wechatpay-* signature headers missing")
    if found["Wechatpay-Signature-Type"] not in ("", SIGNATURE_TYPE):
        raise NoticeRefused("bad_signature",
                            f"signature type {found['Wechatpay-Signature-Type'][:40]!r}")
    found["Wechatpay-Signature-Type"] = SIGNATURE_TYPE
    client = client_of()
    if not serial_known(client, found["Wechatpay-Serial"]):
        raise NoticeRefused("bad_signature",
                            f"unknown Wechatpay-Serial {found['Wechatpay-Serial'][:64]!r}")
    stamp = found["Wechatpay-Timestamp"]
    if not stamp.isdigit() or len(stamp) > 12 or abs(int(stamp) - time.time()) > \
            MAX_SKEW_SECONDS:
        raise NoticeRefused("bad_signature",
                            f"Wechatpay-Timestamp {stamp[:20]!r} is more than 5 minutes off")
    try:
        text = body.decode("utf-8")
        envelope = json.loads(text)
    except (UnicodeDecodeError, ValueError) as error:
        raise NoticeRefused("malformed", f"not JSON: {error}"[:200]) from error
    resource = envelope.get("resource") if isinstance(envelope, dict) else None
    if (not isinstance(resource, dict) or envelope.get("resource_type") != "encrypt-resource"
            or resource.get("algorithm") != "AEAD_AES_256_GCM"
            or not all(isinstance(resource.get(k), str)
                       for k in ("ciphertext", "nonce", "associated_data"))):
        raise NoticeRefused("malformed", "not an AEAD_AES_256_GCM encrypt-resource")
    if event_type is not None and envelope.get("event_type") != event_type:
        raise NoticeRefused("malformed", f"event {str(envelope.get('event_type'))[:40]!r}, "
                                         f"not {event_type!r}")
    if resource["associated_data"] not in associated_data:
        raise NoticeRefused("malformed", f"a {resource['associated_data'][:20]!r} notice, "
                                         f"not {associated_data[0]!r}")
    try:
        data = client.callback(found, text)
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise NoticeRefused("bad_signature", f"does not decrypt: {error!r}"[:200]) from error
    except Exception as error:  # noqa: BLE001 — the library's own, re-raised otherwise
        if not library_failure(error):
            raise
        raise NoticeRefused("bad_signature", str(error)[:200]) from error
    if not isinstance(data, dict) or not isinstance(data.get("resource"), dict):
        raise NoticeRefused("bad_signature", "signature or ciphertext does not verify")
    return data["resource"]
