"""Refund notices (退款结果通知) from WeChat Pay, handed to whichever feature asked for the refund.

The provider verifies and reads them (APIv3: signed by the platform key, the resource AES-GCM
encrypted; v2: unsigned, `req_info` encrypted with our API key) into a RefundNotice whose status
is neutral (succeeded / failed / closed). The refund itself belongs to a feature (payouts
refunds donations of a terminated campaign); that feature registers a handler for the prefix of its `out_refund_no`,
the same way payables register for payments, so payments imports no feature.

A handler runs inside the notice's transaction and must not commit; it returns a NoticeVerdict
(processed / duplicate / not_success / unknown_order / amount_mismatch / conflict). The notice
is logged with `source="refund"` among the payment notices staff read, and the whole is one
commit. Replays are acknowledged as duplicates and change nothing. A refund whose notice never
came is settled the same way from the channel's answer to a query (settle_refund_by_query).
"""
from __future__ import annotations

import json
import logging
from typing import Callable, Mapping

from flask import Flask, current_app
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from app.core.plugins import registry
from app.extensions import db
from app.models_base import utcnow
from app.payments.models import NoticeVerdict, Payment, PaymentNotice
from app.payments.provider import (REFUND_PROCESSING, NoticeRejected, PaymentProvider,
                                   RefundNotice, get_provider)

log = logging.getLogger(__name__)
REPLY_MESSAGES = {"bad_signature": "签名失败", "wrong_merchant": "商户号不符",
                  "malformed": "参数格式校验错误"}

__all__ = ["RefundNotice", "register_refund_handler", "refund_notify_url",
           "handle_refund_notification", "settle_refund_by_query"]

RefundHandler = Callable[[RefundNotice], NoticeVerdict]
def _handlers(app: Flask | None = None) -> dict[str, RefundHandler]:
    return registry("refund_handlers", dict, app)


def register_refund_handler(app: Flask, prefix: str, handler: RefundHandler) -> None:
    """Notices whose out_refund_no starts with `prefix` go to `handler`."""
    _handlers(app)[prefix] = handler


def refund_notify_url(provider_name: str | None = None) -> str:
    """Where the provider of that name (the one that took the payment) sends refund notices."""
    path = get_provider(provider_name).refund_notify_path
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path


def handle_refund_notification(body: bytes, remote_addr: str | None,
                               provider: PaymentProvider,
                               headers: Mapping[str, str] | None = None) -> tuple[bool, str]:
    """The refund notify view's work: (acknowledge?, message for the reply)."""
    raw = body[:8000].decode("utf-8", "replace")
    try:
        notice = provider.parse_refund_notice(body, headers or {})
    except NoticeRejected as rejected:
        _record(NoticeVerdict(rejected.verdict), rejected.out_trade_no, rejected.detail, raw,
                remote_addr)
        return False, REPLY_MESSAGES.get(rejected.verdict, "")
    verdict, message = _settle(notice, raw, remote_addr)
    return verdict.accepted, message


QUERY_UNKNOWN, QUERY_PROCESSING = "unknown", "processing"


def settle_refund_by_query(out_refund_no: str, provider_name: str | None = None) -> str:
    """For a refund whose notice never came: ask the channel, and when the refund is over
    (succeeded, failed or closed) hand the answer to the same handler a notice would reach, in
    one transaction, logged as a notice. Returns the verdict's value, or QUERY_PROCESSING while
    WeChat is still refunding, or QUERY_UNKNOWN when it never saw the refund. Raises
    ProviderError when the channel cannot be asked."""
    notice = get_provider(provider_name).query_refund(out_refund_no)
    db.session.rollback()  # no transaction held while WeChat answered
    if notice is None:
        return QUERY_UNKNOWN
    if notice.status == REFUND_PROCESSING:
        return QUERY_PROCESSING
    raw = json.dumps({"queried": notice.raw}, ensure_ascii=False, default=str)[:8000]
    verdict, _ = _settle(notice, raw, None, how="query")
    return verdict.value


def _settle(notice: RefundNotice, raw: str, remote_addr: str | None,
            how: str = "notice") -> tuple[NoticeVerdict, str]:
    """Hand a verified refund result to its feature's handler; log it and commit once."""
    handler = next((h for prefix, h in _handlers().items()
                    if notice.out_refund_no.startswith(prefix)), None)
    if handler is None:
        _record(NoticeVerdict.unknown_order, notice.out_trade_no,
                f"no handler for refund {notice.out_refund_no}", raw, remote_addr)
        return NoticeVerdict.unknown_order, "退款单不存在"
    try:
        verdict = handler(notice)
        _record(verdict, notice.out_trade_no, f"refund {notice.out_refund_no} "
                f"{notice.status} {notice.refund_fee}" + (" (by query)" if how == "query" else ""),
                raw, remote_addr)
    except IntegrityError:  # a twin notice settled it first: the ledger refused a second posting
        db.session.rollback()
        verdict = NoticeVerdict.duplicate
        _record(verdict, notice.out_trade_no, f"refund {notice.out_refund_no} (concurrent)",
                raw, remote_addr)
    if not verdict.accepted:
        log.warning("refund %s %s: %s", how, notice.out_refund_no, verdict.value)
    return verdict, ""


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
