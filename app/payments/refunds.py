"""Refund notices (退款结果通知) from WeChat Pay, handed to whichever feature asked for the refund.

The provider verifies and reads them (APIv3: signed by the platform key, the resource AES-GCM
encrypted; v2: unsigned, `req_info` encrypted with our API key) into a RefundNotice whose status
is neutral (succeeded / failed / closed). The refund itself belongs to a feature (payouts
refunds donations of a terminated campaign); that feature registers a handler for the prefix of its `out_refund_no`,
the same way payables register for payments, so payments imports no feature.

A handler runs inside the notice's transaction and must not commit; it returns a NoticeVerdict
(processed / duplicate / not_success / unknown_order / amount_mismatch / conflict). The notice
is logged with `source="refund"` among the payment notices staff read, and the whole is one
commit. Replays are acknowledged as duplicates and change nothing.
"""
from __future__ import annotations

import logging
from typing import Callable, Mapping

from flask import Flask, current_app
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from app.core.plugins import registry
from app.extensions import db
from app.models_base import utcnow
from app.payments.models import NoticeVerdict, Payment, PaymentNotice
from app.payments.provider import NoticeRejected, PaymentProvider, RefundNotice, get_provider

log = logging.getLogger(__name__)
REPLY_MESSAGES = {"bad_signature": "签名失败", "wrong_merchant": "商户号不符",
                  "malformed": "参数格式校验错误"}

__all__ = ["RefundNotice", "register_refund_handler", "refund_notify_url",
           "handle_refund_notification"]

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
    return verdict.accepted, ""


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
