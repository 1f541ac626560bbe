"""Refund notices (退款结果通知) from WeChat Pay, handed to whichever feature asked for the refund.

WeChat does not sign refund notices: it encrypts their content in `req_info` (AES-256-ECB, key
md5(api_key)), and only someone with our API key can make one that decrypts. The outer appid and
mch_id must be ours. The refund itself belongs to a feature (payouts refunds donations of a
terminated campaign); that feature registers a handler for the prefix of its `out_refund_no`,
the same way payables register for payments, so payments imports no feature.

A handler runs inside the notice's transaction and must not commit; it returns a NoticeVerdict
(processed / duplicate / not_success / unknown_order / amount_mismatch / conflict). The notice
is logged with `source="refund"` among the payment notices staff read, and the whole is one
commit. Replays are acknowledged as duplicates and change nothing.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable
from xml.parsers.expat import ExpatError

from flask import Flask, current_app
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from wechatpy.exceptions import WeChatException

from app.core.plugins import registry
from app.extensions import db
from app.models_base import utcnow
from app.payments.models import NoticeVerdict, Payment, PaymentNotice
from app.payments.provider import NoticeRejected, PaymentProvider
from app.payments.wechat_pay import MAX_NOTICE_BYTES, parse_xml

log = logging.getLogger(__name__)

REFUND_STATUSES = ("SUCCESS", "CHANGE", "REFUNDCLOSE")
DECRYPT_ERRORS = (ExpatError, ValueError, KeyError, IndexError, TypeError, AttributeError,
                  WeChatException)


@dataclass(frozen=True)
class RefundNotice:
    out_refund_no: str
    out_trade_no: str
    refund_id: str
    refund_fee: int
    total_fee: int
    status: str                      # SUCCESS / CHANGE / REFUNDCLOSE
    success_time: str | None = None
    raw: dict = field(default_factory=dict)


RefundHandler = Callable[[RefundNotice], NoticeVerdict]
def _handlers(app: Flask | None = None) -> dict[str, RefundHandler]:
    return registry("refund_handlers", dict, app)


def register_refund_handler(app: Flask, prefix: str, handler: RefundHandler) -> None:
    """Notices whose out_refund_no starts with `prefix` go to `handler`."""
    _handlers(app)[prefix] = handler


def refund_notify_url() -> str:
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + "/wechat/pay/refund_notify"


def parse_refund_notice(body: bytes, provider: PaymentProvider) -> RefundNotice:
    """Check the envelope, decrypt req_info, and read it; NoticeRejected for anything else."""
    if len(body) > MAX_NOTICE_BYTES:
        raise NoticeRejected("malformed", f"notice of {len(body)} bytes is too large")
    try:
        envelope = parse_xml(body)
    except ValueError as error:
        raise NoticeRejected("malformed", str(error)[:200]) from error
    if envelope.get("return_code") != "SUCCESS" or not envelope.get("req_info"):
        raise NoticeRejected("malformed", "return_code or req_info missing")
    cfg = current_app.config
    if envelope.get("appid") != cfg["WECHAT_APPID"] or envelope.get("mch_id") != cfg["WECHAT_MCH_ID"]:
        raise NoticeRejected("wrong_merchant", f"appid {envelope.get('appid')!r} "
                                               f"mch_id {envelope.get('mch_id')!r}")
    try:
        data = provider.parse_refund_notification(envelope)  # type: ignore[attr-defined]
    except NoticeRejected as error:
        raise NoticeRejected("bad_signature", f"req_info does not decrypt: {error.detail}") from error
    except DECRYPT_ERRORS as error:
        raise NoticeRejected("bad_signature", f"req_info does not decrypt: {error!r}"[:200]) from error
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
                        status=status, success_time=data.get("success_time"), raw=data)


def handle_refund_notification(body: bytes, remote_addr: str | None,
                               provider: PaymentProvider) -> tuple[bool, str]:
    """The refund notify view's work: (acknowledge?, message for the reply)."""
    raw = body[:8000].decode("utf-8", "replace")
    try:
        notice = parse_refund_notice(body, provider)
    except NoticeRejected as rejected:
        _record(NoticeVerdict(rejected.verdict), rejected.out_trade_no, rejected.detail, raw,
                remote_addr)
        return False, "FAIL"
    handler = next((h for prefix, h in _handlers().items()
                    if notice.out_refund_no.startswith(prefix)), None)
    if handler is None:
        _record(NoticeVerdict.unknown_order, notice.out_trade_no,
                f"no handler for refund {notice.out_refund_no}", raw, remote_addr)
        return False, "退款单不存在"
    try:
        verdict = handler(notice)
        _record(verdict, notice.out_trade_no, f"refund {notice.out_refund_no} "
                f"{notice.status} {notice.refund_fee}", raw, remote_addr)
    except IntegrityError:  # a twin notice settled it first: the ledger refused a second posting
        db.session.rollback()
        verdict = NoticeVerdict.duplicate
        _record(verdict, notice.out_trade_no, f"refund {notice.out_refund_no} (concurrent)",
                raw, remote_addr)
    if not verdict.accepted:
        log.warning("refund notice %s: %s", notice.out_refund_no, verdict.value)
    return verdict.accepted, "OK" if verdict.accepted else "FAIL"


def _record(verdict: NoticeVerdict, out_trade_no: str | None, detail: str, raw: str,
            remote_addr: str | None) -> None:
    """Log the notice in the caller's transaction (refusals: in a fresh one) and commit."""
    if not verdict.accepted:
        db.session.rollback()
    payment_id = db.session.scalar(select(Payment.id).where(
        Payment.out_trade_no == out_trade_no)) if out_trade_no else None
    db.session.connection().execute(insert(PaymentNotice.__table__).values(
        source="refund", payment_id=payment_id,
        out_trade_no=(out_trade_no or "")[:64] or None, verdict=verdict,
        detail=detail[:300], remote_addr=remote_addr, raw=raw, received_at=utcnow()))
    db.session.commit()
