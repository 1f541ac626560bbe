"""A payback's WeChat Pay refund (paybacks.py started it, its money in the refund-submitted
clearing): asked of the provider that took the payment, settled by WeChat's refund notice
(payments' refunds hand notices whose out_refund_no starts with XZPB here), once:

    plan_payback_refunded  refund submitted → custodian:wechat_refund_clearing   (succeeded)
    channel_fee_return     channel fees → platform subsidy (the fee WeChat gives back with it)
    plan_payback_back      refund submitted → the account it left                (refused)

A refused refund is paid back another way at once (pay_back again: 商家转账). A refund whose
notice never came is asked after by `reconcile`, and sent again only if WeChat never saw it.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select, update

from app.extensions import db
from app.ledger.services import (CHANNEL_FEES, PLATFORM_FEE_SUBSIDY, SOURCE_CHANNEL_FEE_RETURN,
                                 Leg, Posting, post, post_many)
from app.models_base import format_yuan, utcnow
from app.mutual_aid.accounts import REFUND_SUBMITTED
from app.mutual_aid.money_models import PayBack, PayBackStatus
from app.mutual_aid.paybacks import LABEL, pay_back, subject_of
from app.mutual_aid.services import notify
from app.payments.fees import fee_returned
from app.payments.models import NoticeVerdict, Payment
from app.payments.provider import REFUND_SUCCEEDED, ProviderError, get_provider
from app.payments.refunds import (QUERY_PROCESSING, QUERY_UNKNOWN, RefundNotice,
                                  refund_notify_url, settle_refund_by_query)
from app.payouts.accounts import REFUND_CLEARING
from app.payouts.errors import RetryLater
from app.payouts.refunds import PERMANENT_ERRORS

log = logging.getLogger(__name__)
P = PayBackStatus
SOURCE_REFUNDED = "plan_payback_refunded"
SOURCE_BACK = "plan_payback_back"
RECONCILE_AFTER = timedelta(minutes=10)


def enqueue_submit(payback_id: int) -> None:
    from app.payouts.tasks import enqueue_retried

    enqueue_retried(submit_job, payback_id)


def submit_job(payback_id: int) -> str:
    return submit(payback_id)


def submit(payback_id: int) -> str:
    """Ask WeChat to refund (the same out_refund_no refunds once): first whether it already
    has, since a notice can be lost. Raises RetryLater when WeChat could not be reached."""
    payback = db.session.get(PayBack, payback_id, populate_existing=True)
    if payback is None or payback.method != "wechat_refund" or payback.status != P.sending:
        db.session.rollback()
        return payback.status.value if payback else "missing"
    payment = db.session.get(Payment, payback.payment_id)
    out_refund_no, provider_name = payback.out_refund_no, payment.provider
    args = (payment.out_trade_no, out_refund_no, payment.amount_fen, payback.amount_fen)
    db.session.rollback()  # no transaction held while WeChat works
    try:
        answer = settle_refund_by_query(out_refund_no, provider_name)
        if answer == QUERY_UNKNOWN:
            get_provider(provider_name).refund(*args, reason=LABEL,
                                               notify_url=refund_notify_url(provider_name))
            answer = "submitted"
    except ProviderError as error:
        if error.code not in PERMANENT_ERRORS:
            raise RetryLater(f"payback {payback_id}: {error.code} {error.message}") from error
        log.error("payback %s refused by WeChat: %s %s", payback_id, error.code, error.message)
        return _refused(payback_id, f"微信拒绝退款：{error.message}")
    if answer == QUERY_PROCESSING:
        db.session.execute(update(PayBack).where(PayBack.id == payback_id)
                           .values(updated_at=utcnow()))
        db.session.commit()
    return answer


def _refused(payback_id: int, why: str) -> str:
    payback = db.session.get(PayBack, payback_id, with_for_update=True, populate_existing=True)
    if payback.status != P.sending:
        db.session.rollback()
        return payback.status.value
    _give_back(payback, why)
    db.session.commit()
    subject = subject_of(payback.subject, payback.subject_id)
    pay_back(subject)  # by 商家转账 now: that payment refuses refunds
    return P.failed.value


def _give_back(payback: PayBack, why: str) -> None:
    payback.status, payback.done_at, payback.note = P.failed, utcnow(), why[:200]
    post(SOURCE_BACK, payback.out_refund_no,
         [Leg(REFUND_SUBMITTED, -payback.amount_fen), Leg(payback.from_account,
                                                          payback.amount_fen)],
         memo=f"{LABEL} · 微信退款未成功，待改为微信转账")


def _fee_back(payback: PayBack, payment: Payment) -> int:
    """The part of the payment's fee WeChat returns with this refund: in proportion, and all
    that is left once the whole payment is refunded (app/payments/fees.py, as WeChat does)."""
    earlier = db.session.execute(select(PayBack.amount_fen, PayBack.fee_returned_fen).where(
        PayBack.payment_id == payment.id, PayBack.status == P.paid,
        PayBack.id != payback.id)).all()
    refunded = sum(amount for amount, _ in earlier) + payback.amount_fen
    left = payment.channel_fee_fen - sum(fee for _, fee in earlier)
    if refunded >= payment.amount_fen:
        return max(left, 0)
    return max(0, min(fee_returned(payback.amount_fen, payment.amount_fen,
                                   payment.channel_fee_fen), left))


def on_refund_notice(notice: RefundNotice) -> NoticeVerdict:
    """Settle a payback's refund from WeChat's notice (or query). In the notice's transaction;
    does not commit."""
    payback = db.session.scalars(select(PayBack).where(
        PayBack.out_refund_no == notice.out_refund_no).with_for_update()
        .execution_options(populate_existing=True)).one_or_none()
    if payback is None:
        return NoticeVerdict.unknown_order
    payment = db.session.get(Payment, payback.payment_id)
    if notice.out_trade_no != payment.out_trade_no or notice.refund_fee != payback.amount_fen:
        return NoticeVerdict.amount_mismatch
    if payback.status != P.sending:
        succeeded = notice.status == REFUND_SUCCEEDED
        return (NoticeVerdict.duplicate if succeeded == (payback.status == P.paid)
                else NoticeVerdict.conflict)
    if notice.status != REFUND_SUCCEEDED:
        _give_back(payback, f"微信退款状态 {notice.status}")
        return NoticeVerdict.not_success
    fee = _fee_back(payback, payment)
    payback.status, payback.done_at, payback.fee_returned_fen = P.paid, utcnow(), fee
    payback.note = "已原路退回微信支付"
    postings = [Posting(SOURCE_REFUNDED, payback.out_refund_no,
                        [Leg(REFUND_SUBMITTED, -payback.amount_fen),
                         Leg(REFUND_CLEARING, payback.amount_fen)], memo=f"{LABEL} · 原路退回")]
    if fee:
        postings.append(Posting(SOURCE_CHANNEL_FEE_RETURN, payback.out_refund_no,
                                [Leg(CHANNEL_FEES, -fee), Leg(PLATFORM_FEE_SUBSIDY, fee)],
                                memo="微信支付按退款比例退回通道费（由相助承担的部分）"))
    post_many(postings)
    notify(payback.user_id, "payback",
           f"互助计划退款 ¥{format_yuan(payback.amount_fen)} 已原路退回您的微信支付。")
    return NoticeVerdict.processed


def reconcile(older_than: timedelta = RECONCILE_AFTER) -> dict[str, int]:
    """Refunds asked longer ago than they should take: asked after, or sent again."""
    cutoff = utcnow() - older_than
    ids = db.session.scalars(select(PayBack.id).where(
        PayBack.method == "wechat_refund", PayBack.status == P.sending,
        PayBack.updated_at <= cutoff).order_by(PayBack.id)).all()
    db.session.rollback()
    counts = {"refunds_asked_after": 0}
    for payback_id in ids:
        try:
            submit(payback_id)
        except RetryLater as error:
            log.warning("%s", error)
            db.session.rollback()
        counts["refunds_asked_after"] += 1
    return counts
