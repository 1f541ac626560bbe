"""Payment state changes. Each business action is one database transaction, committed here.

confirm() is the one path by which money is recorded — from a notice or from an order query —
and it is idempotent: under the payment's row lock the state moves to paid once, the ledger
transaction is posted once (the database refuses a second one for the same order) together with
the channel fee's own transaction (source "channel_fee", same refusal), and the payable's
handler updates its records, all in one commit.
"""
from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Mapping

from flask import current_app
from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.ledger.services import (CHANNEL_FEES, CLEARING_WECHAT, PLATFORM_FEE_SUBSIDY,
                                 SOURCE_CHANNEL_FEE, Leg, Posting, post_many)
from app.models_base import as_utc, utcnow
from app.payments.fees import channel_fee, configured_rate_bp
from app.payments.models import (ATTENTION_VERDICTS, PAYABLE_STATES, NoticeVerdict, Payment,
                                 PaymentNotice, PaymentState)
from app.payments.payables import PaidPayment, payable_handler
from app.payments.provider import (NoticeRejected, OrderRequest, PaymentNoticeData,
                                   PaymentProvider, ProviderError, get_provider)
from app.core.chinatime import CHINA

log = logging.getLogger(__name__)

DEFAULT_EXPIRE_MINUTES = 30
DEFAULT_CHECK_INTERVAL_SECONDS = 10
RAW_LIMIT = 8000
REPLY_MESSAGES = {
    NoticeVerdict.bad_signature: "签名失败",
    NoticeVerdict.wrong_merchant: "商户号或公众号不符",
    NoticeVerdict.unknown_order: "订单不存在",
    NoticeVerdict.amount_mismatch: "金额不符",
    NoticeVerdict.conflict: "订单状态冲突",
    NoticeVerdict.malformed: "参数格式校验错误",
}


class CheckoutConflict(Exception):
    """The idempotency key belongs to another checkout (another payer or another amount)."""


@dataclass(frozen=True)
class Checkout:
    payable_type: str
    payable_id: int
    amount_fen: int
    description: str
    idempotency_key: str
    user_id: int | None
    openid: str | None
    trade_type: str  # JSAPI / NATIVE
    client_ip: str


def new_out_trade_no(now: datetime | None = None) -> str:
    """Ours, unique, ≤ 32 characters: XZ + China time + 12 random digits."""
    stamp = (now or utcnow()).astimezone(CHINA).strftime("%Y%m%d%H%M%S")
    return f"XZ{stamp}{secrets.randbelow(10 ** 12):012d}"


def notify_url(provider: PaymentProvider | None = None) -> str:
    path = (provider or get_provider()).notify_path
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path


def find_by_key(idempotency_key: str) -> Payment | None:
    return db.session.scalar(select(Payment).where(Payment.idempotency_key == idempotency_key))


def notice_log(verdict: str, before_id: int | None, limit: int) -> list[PaymentNotice]:
    """Notices for staff, newest first by keyset: 'attention', 'all' or one verdict's name."""
    query = select(PaymentNotice).order_by(PaymentNotice.id.desc()).limit(limit)
    if verdict == "attention":
        query = query.where(PaymentNotice.verdict.in_(ATTENTION_VERDICTS))
    elif verdict != "all":
        query = query.where(PaymentNotice.verdict == NoticeVerdict[verdict])
    if before_id is not None:
        query = query.where(PaymentNotice.id < before_id)
    return list(db.session.scalars(query))


def find(out_trade_no: str) -> Payment | None:
    return db.session.scalar(select(Payment).where(Payment.out_trade_no == out_trade_no))


# --- checkout -------------------------------------------------------------------------------

def start_checkout(checkout: Checkout, provider: PaymentProvider | None = None) -> Payment:
    """Create the order here and at WeChat, in one transaction with whatever the caller has
    added to the session (the payable). A second call with the same idempotency key — a double
    click, a reload — returns the first order; a failure at WeChat leaves nothing behind."""
    now = utcnow()
    minutes = current_app.config.get("PAYMENT_EXPIRE_MINUTES", DEFAULT_EXPIRE_MINUTES)
    rate_bp = configured_rate_bp()
    provider = provider or get_provider()
    payment = Payment(
        provider=provider.name,
        out_trade_no=new_out_trade_no(now), idempotency_key=checkout.idempotency_key,
        payable_type=checkout.payable_type, payable_id=checkout.payable_id,
        amount_fen=checkout.amount_fen, description=checkout.description[:128],
        channel_fee_bp=rate_bp, channel_fee_fen=channel_fee(checkout.amount_fen, rate_bp),
        state=PaymentState.created, user_id=checkout.user_id, openid=checkout.openid,
        trade_type=checkout.trade_type, client_ip=checkout.client_ip,
        expires_at=now + timedelta(minutes=minutes))
    db.session.add(payment)
    try:
        db.session.flush()  # the unique key makes a concurrent twin wait here, then fail
    except IntegrityError:
        db.session.rollback()
        return _existing_checkout(checkout)
    payable_handler(checkout.payable_type).on_created(checkout.payable_id, payment.id)
    try:
        created = provider.create_payment(OrderRequest(
            out_trade_no=payment.out_trade_no, amount_fen=payment.amount_fen,
            description=payment.description, trade_type=payment.trade_type,
            client_ip=payment.client_ip, notify_url=notify_url(provider),
            expires_at=payment.expires_at, openid=payment.openid))
    except ProviderError:
        db.session.rollback()
        raise
    payment.prepay_id = created.prepay_id
    payment.code_url = created.code_url
    payment.state = PaymentState.pending
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return _existing_checkout(checkout)
    return payment


def _existing_checkout(checkout: Checkout) -> Payment:
    existing = find_by_key(checkout.idempotency_key)
    if existing is None:
        raise ProviderError("下单失败，请重试", "checkout_race")
    if existing.user_id != checkout.user_id or existing.amount_fen != checkout.amount_fen:
        raise CheckoutConflict("该订单已提交，请刷新页面后重新捐款")
    return existing


# --- notices and confirmation ---------------------------------------------------------------

def handle_notification(body: bytes, remote_addr: str | None = None,
                        provider: PaymentProvider | None = None,
                        headers: Mapping[str, str] | None = None) -> tuple[bool, str]:
    """The notify view's whole job: (acknowledge?, message for the reply)."""
    provider = provider or get_provider()
    raw = body[:RAW_LIMIT].decode("utf-8", errors="replace")
    try:
        notice = provider.parse_notification(body, headers or {})
    except NoticeRejected as rejected:
        verdict = NoticeVerdict(rejected.verdict)
        _log_rejection(verdict, rejected.detail, rejected.out_trade_no, None, "notify", raw,
                       remote_addr)
        return False, REPLY_MESSAGES.get(verdict, "FAIL")
    verdict = confirm(notice, source="notify", raw=raw, remote_addr=remote_addr)
    return verdict.accepted, "OK" if verdict.accepted else REPLY_MESSAGES.get(verdict, "FAIL")


PAYMENTS = Payment.__table__
NOTICES = PaymentNotice.__table__
# The hot path's statements, built once (parameters bound at execution).
# The claim: one UPDATE that moves a payable order of the right amount to paid. PostgreSQL takes
# the row lock; a concurrent twin waits on it, re-reads the row once we commit, finds it paid and
# claims nothing. SQLite lets one writer in at a time, to the same effect.
CLAIM_PAYMENT = (update(PAYMENTS)
                 .where(PAYMENTS.c.out_trade_no == bindparam("p_out_trade_no"),
                        PAYMENTS.c.amount_fen == bindparam("p_amount"),
                        PAYMENTS.c.state.in_(PAYABLE_STATES))
                 .values(state=PaymentState.paid, transaction_id=bindparam("p_transaction_id"),
                         paid_at=bindparam("p_now"), updated_at=bindparam("p_now"),
                         openid=func.coalesce(PAYMENTS.c.openid, bindparam("p_openid")))
                 .returning(PAYMENTS.c.id, PAYMENTS.c.payable_type, PAYMENTS.c.payable_id,
                            PAYMENTS.c.channel_fee_fen))
READ_PAYMENT = (select(PAYMENTS.c.id, PAYMENTS.c.state, PAYMENTS.c.amount_fen,
                       PAYMENTS.c.transaction_id)
                .where(PAYMENTS.c.out_trade_no == bindparam("p_out_trade_no")))
MARK_LATE = update(PAYMENTS).where(PAYMENTS.c.id == bindparam("p_id")).values(late=True)
INSERT_NOTICE = insert(NOTICES)


def confirm(notice: PaymentNoticeData, source: str, raw: str = "",
            remote_addr: str | None = None) -> NoticeVerdict:
    """Record a verified notice (or query result) once. Commits; returns the verdict.

    This is the hot path of every payment, so it speaks SQLAlchemy Core on the session's
    connection (same transaction, none of the ORM's unit-of-work overhead) and a paid order
    costs one statement to claim."""
    conn = db.session.connection()

    def record(verdict: NoticeVerdict, payment_id: int | None, detail: str = "") -> NoticeVerdict:
        conn.execute(INSERT_NOTICE, {
            "source": source, "payment_id": payment_id, "out_trade_no": notice.out_trade_no,
            "received_at": utcnow(), "transaction_id": notice.transaction_id or None,
            "verdict": verdict, "detail": detail[:300], "remote_addr": remote_addr, "raw": raw})
        db.session.commit()
        if not verdict.accepted:
            log.warning("payment %s %s: %s %s", source, notice.out_trade_no, verdict.value,
                        detail)
        return verdict

    claimed = None
    now = utcnow()
    if notice.success:
        try:
            claimed = conn.execute(CLAIM_PAYMENT, {
                "p_out_trade_no": notice.out_trade_no, "p_amount": notice.total_fee,
                "p_transaction_id": notice.transaction_id, "p_now": now,
                "p_openid": notice.openid}).one_or_none()
        except IntegrityError as error:  # the transaction_id already paid another order
            _log_rejection(NoticeVerdict.conflict, str(error.orig)[:300], notice.out_trade_no,
                           None, source, raw, remote_addr)
            return NoticeVerdict.conflict
    if claimed is None:
        row = conn.execute(READ_PAYMENT, {"p_out_trade_no": notice.out_trade_no}).one_or_none()
        if row is None:
            return record(NoticeVerdict.unknown_order, None)
        if notice.total_fee != row.amount_fen:
            return record(NoticeVerdict.amount_mismatch, row.id,
                          f"total_fee {notice.total_fee} ≠ order {row.amount_fen}")
        if not notice.success:
            return record(NoticeVerdict.not_success, row.id,
                          str(notice.raw.get("err_code_des", "")))
        if row.transaction_id == notice.transaction_id:
            return record(NoticeVerdict.duplicate, row.id)
        return record(NoticeVerdict.conflict, row.id,
                      f"{row.state.value} as {row.transaction_id}, notice names "
                      f"{notice.transaction_id}")

    paid = PaidPayment(id=claimed.id, out_trade_no=notice.out_trade_no,
                       transaction_id=notice.transaction_id, payable_id=claimed.payable_id,
                       amount_fen=notice.total_fee, paid_at=now)
    handler = payable_handler(claimed.payable_type)
    outcome = handler.on_paid(paid)
    postings = [Posting("payment", notice.out_trade_no,
                        [Leg(CLEARING_WECHAT, -paid.amount_fen),
                         Leg(outcome.account, paid.amount_fen)], memo=outcome.memo)]
    if claimed.channel_fee_fen:  # WeChat's fee, its own transaction, posted with the payment
        bearer = PLATFORM_FEE_SUBSIDY if handler.platform_bears_channel_fee else outcome.account
        postings.append(Posting(SOURCE_CHANNEL_FEE, notice.out_trade_no,
                                [Leg(bearer, -claimed.channel_fee_fen),
                                 Leg(CHANNEL_FEES, claimed.channel_fee_fen)],
                                memo=fee_memo(handler.platform_bears_channel_fee)))
    post_many(postings)
    if outcome.late:
        conn.execute(MARK_LATE, {"p_id": claimed.id})
    verdict = NoticeVerdict.late if outcome.late else NoticeVerdict.processed
    record(verdict, claimed.id,
           "recorded although the payable no longer takes money" if outcome.late else "")
    if outcome.after_commit is not None:
        outcome.after_commit()
    return verdict


def fee_memo(platform_bears: bool) -> str:
    return "微信支付通道费（由相助承担）" if platform_bears else "微信支付通道费（由微信支付收取）"


def _log_rejection(verdict: NoticeVerdict, detail: str, out_trade_no: str | None,
                   payment_id: int | None, source: str, raw: str,
                   remote_addr: str | None) -> None:
    db.session.rollback()
    db.session.connection().execute(INSERT_NOTICE, {
        "source": source, "payment_id": payment_id, "received_at": utcnow(),
        "out_trade_no": (out_trade_no or "")[:64] or None, "transaction_id": None,
        "verdict": verdict, "detail": detail[:300], "remote_addr": remote_addr, "raw": raw})
    db.session.commit()
    log.warning("payment %s refused (%s): %s", source, verdict.value, detail)


# --- asking WeChat: the payer's page, and reconciliation ------------------------------------

def settle_by_query(payment_id: int, provider: PaymentProvider | None = None) -> str:
    """Ask WeChat about an open order and act on the answer through confirm(). Returns what
    happened: paid / pending / closed / failed / skipped."""
    payment = db.session.get(Payment, payment_id)
    if payment is None or not payment.is_open:
        return "skipped"
    out_trade_no, provider_name = payment.out_trade_no, payment.provider
    expired = as_utc(payment.expires_at) <= utcnow()
    db.session.rollback()  # hold no transaction while talking to WeChat
    provider = provider or get_provider(provider_name)
    status = provider.query(out_trade_no)
    if status.state in ("paid", "refunded"):
        notice = PaymentNoticeData(out_trade_no=out_trade_no,
                                   transaction_id=status.transaction_id or "",
                                   total_fee=status.total_fee if status.total_fee is not None
                                   else -1, success=True, openid=status.openid)
        verdict = confirm(notice, source="query", raw=f"orderquery trade_state={status.state}")
        return "paid" if verdict.accepted else verdict.value
    if status.state == "pending" and not expired:
        return "pending"
    if status.state == "pending":  # expired and still unpaid: close it at WeChat first
        try:
            provider.close(out_trade_no)
        except ProviderError as error:
            if error.code == "order_paid":  # paid in the meantime: the next run settles it
                return "pending"
            raise
    if status.state == "not_found" and not expired:
        return "pending"
    final = PaymentState.failed if status.state == "failed" else PaymentState.closed
    _finish_unpaid(payment_id, final)
    return final.value


def _finish_unpaid(payment_id: int, state: PaymentState) -> None:
    now = utcnow()
    db.session.execute(
        update(Payment).where(Payment.id == payment_id,
                              Payment.state.in_((PaymentState.created, PaymentState.pending)))
        .values(state=state, closed_at=now, updated_at=now)
        .execution_options(synchronize_session=False))
    db.session.commit()


def check_open_payment(payment_id: int) -> str:
    """The payer's page asks: if an open order has waited a while for its notice, query
    WeChat — at most once per interval per order, however many pages or processes ask."""
    now = utcnow()
    interval = current_app.config.get("PAYMENT_CHECK_INTERVAL_SECONDS",
                                      DEFAULT_CHECK_INTERVAL_SECONDS)
    due = now - timedelta(seconds=interval)
    claimed = db.session.execute(
        update(Payment).where(Payment.id == payment_id,
                              Payment.state.in_((PaymentState.created, PaymentState.pending)),
                              Payment.created_at <= due,
                              (Payment.checked_at.is_(None)) | (Payment.checked_at <= due))
        .values(checked_at=now).execution_options(synchronize_session=False))
    db.session.commit()
    if claimed.rowcount != 1:
        return "skipped"
    try:
        return settle_by_query(payment_id)
    except ProviderError as error:
        log.warning("order query for payment %s failed: %s", payment_id, error.message)
        return "error"
