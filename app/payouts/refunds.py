"""Refunds after termination: what remains in custody goes back to the donors, pro rata to what
each gave, exact in fen (largest remainder), through WeChat Pay's refund API.

- `plan(campaign_id)` (a job enqueued by the termination hook; staff may start it again):
  under the campaign's lock, cancels withdrawals still waiting for a decision, waits for
  transfers in flight, and gives every paid donation not yet planned one DonationRefund with
  one `out_refund_no` — its share of the balance not already promised to earlier refunds.
  Anything beyond what the donations could take back (money another feature granted: the
  pay-it-forward fund) goes to the leftover receiver that feature registered. Planning again
  finds nothing new: a donation is refunded at most once.
- `submit(refund_id)` (a job with rq Retry): asks WeChat to refund, idempotent by out_refund_no.
- `on_refund_notice(notice)`: WeChat's refund notice (via app/payments/refunds.py) settles it:
  the ledger moves custody → refund clearing, once per out_refund_no, whatever the replays.

Channel fees: WeChat returns a payment's fee in proportion to the part refunded, so a refund of R
costs custody only R less the fee returned with it. Shares are therefore split over what each
donation brought into custody (its amount less its fee), and each donor is refunded the largest
R whose net cost is exactly their share (app/payments/fees.py): custody pays out exactly what
remained, never more, and when nothing was withdrawn every donor gets their whole gift back. The
returned fee is booked as its own transaction (channel fees → custody) with the refund.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from flask import Flask
from sqlalchemy import func, select, update

from app.auth.models import StaffAccount, StaffRole
from app.campaigns.models import CampaignStatus
from app.donations.models import Donation
from app.extensions import db
from app.ledger.services import CHANNEL_FEES, SOURCE_CHANNEL_FEE_RETURN, Leg, Posting, post_many
from app.models_base import format_yuan, utcnow
from app.payments.fees import fee_returned, refund_for_net
from app.payments.models import NoticeVerdict, Payment, PaymentState
from app.payments.provider import REFUND_SUCCEEDED, ProviderError, get_provider
from app.payments.refunds import (QUERY_UNKNOWN, RefundNotice, refund_notify_url,
                                  settle_refund_by_query)
from app.payouts.accounts import REFUND_CLEARING, SOURCE_REFUND, campaign_custody
from app.payouts import telling
from app.payouts.allocation import pro_rata
from app.payouts.errors import PayoutError, RetryLater
from app.payouts.funds import custody_balance, lock_campaign, unsettled_refunds
from app.payouts.models import (DonationRefund, RefundStatus, Withdrawal, WithdrawalStatus,
                                add_notice)
from app.core.audit import record_audit
from app.core.plugins import registry

log = logging.getLogger(__name__)
R = RefundStatus
PREFIX = "XZRF"
REASON = "筹款已终止，剩余善款按捐款比例原路退还"
# WeChat's answers that will not change by asking again: staff must look.
PERMANENT_ERRORS = ("NOTENOUGH", "ORDERNOTEXIST", "INVALID_REQUEST", "PARAM_ERROR",
                    "USER_ACCOUNT_ABNORMAL", "INVALID_TRANSACTIONID", "REFUND_FEE_MISMATCH",
                    "NOT_ENOUGH", "RESOURCE_NOT_EXISTS")  # the last two: APIv3's names
RECONCILE_AFTER = timedelta(minutes=10)
LeftoverReceiver = Callable[[int, int], object]


def register_leftover_receiver(app: Flask, receive: LeftoverReceiver) -> None:
    """`receive(campaign_id, amount_fen)` takes what a terminated campaign's custody holds
    beyond what its donations can take back (money its feature granted), inside the refund
    plan's transaction and without committing. One per app."""
    registry("refund_leftover", dict, app)["receiver"] = receive


def out_refund_no_of(out_trade_no: str) -> str:
    """One refund per paid order, named after it: unique across databases (a donation id is not,
    e.g. after a restore or against a shared sandbox), ≤ 64 characters as WeChat requires."""
    return f"{PREFIX}{out_trade_no}"


def plan(campaign_id: int, by_staff: StaffAccount | None = None) -> list[int]:
    """Plan the refunds of a terminated campaign; returns the ids of refunds to submit.
    Raises RetryLater while a withdrawal's transfer is in flight, and PayoutError when there is
    nothing (more) to refund and a person asked."""
    if by_staff is not None and not by_staff.has_role(StaffRole.finance):
        raise PayoutError("只有财务人员可以发起退款", "forbidden")
    campaign = lock_campaign(campaign_id)
    if campaign.status != CampaignStatus.terminated:
        raise PayoutError("只有已终止的筹款才能退款给捐款人", "not_terminated")
    in_flight = db.session.scalar(select(Withdrawal.id).where(
        Withdrawal.campaign_id == campaign_id, Withdrawal.status == WithdrawalStatus.released)
        .limit(1))
    if in_flight is not None:
        db.session.rollback()
        raise RetryLater(f"campaign {campaign_id}: withdrawal {in_flight} is being transferred")
    cancelled = _cancel_requested_withdrawals(campaign_id)
    remaining = custody_balance(campaign_id) - unsettled_refunds(campaign_id)
    rows = db.session.execute(
        select(Donation.id, Donation.user_id, Donation.amount_fen, Payment.id,
               Payment.out_trade_no, Payment.channel_fee_fen)
        .join(Payment, Payment.id == Donation.payment_id)
        .outerjoin(DonationRefund, DonationRefund.donation_id == Donation.id)
        .where(Donation.campaign_id == campaign_id, Donation.paid_at.is_not(None),
               Payment.state == PaymentState.paid, DonationRefund.id.is_(None))
        .order_by(Donation.id)).all()
    if not rows and remaining <= 0:
        if by_staff is not None:
            db.session.rollback()
            raise PayoutError("该筹款的退款已全部发起，不能重复退款", "already_refunded")
        db.session.commit()  # keep the cancelled withdrawals
        return []
    brought_in = [row.amount_fen - row.channel_fee_fen for row in rows]  # net of the fee
    to_refund = min(max(remaining, 0), sum(brought_in))
    shares = pro_rata(to_refund, brought_in)
    refunds = []
    for row, share in zip(rows, shares):
        gross = refund_for_net(share, row.amount_fen, row.channel_fee_fen)
        refunds.append(DonationRefund(
            campaign_id=campaign_id, donation_id=row[0], user_id=row.user_id, payment_id=row[3],
            out_trade_no=row.out_trade_no, out_refund_no=out_refund_no_of(row.out_trade_no),
            donated_fen=row.amount_fen, amount_fen=gross, channel_fee_returned_fen=gross - share,
            status=R.pending if gross > 0 else R.none))
    db.session.add_all(refunds)
    leftover = remaining - to_refund
    if leftover > 0:  # money granted, beyond what the donations can take back
        receive = registry("refund_leftover", dict).get("receiver")
        if receive is None:
            log.warning("campaign %s: %s fen beyond its donations and no receiver",
                        campaign_id, leftover)
        else:
            receive(campaign_id, leftover)
    db.session.flush()
    if by_staff is not None:
        record_audit(by_staff, "refund.plan", "campaign", campaign_id,
                     after={"refunds": len(refunds), "amount_fen": to_refund,
                            "cancelled_withdrawals": cancelled}, reason=REASON)
    db.session.commit()
    log.info("campaign %s: %d refunds planned, %s fen", campaign_id, len(refunds), to_refund)
    return [refund.id for refund in refunds if refund.status == R.pending]


def _cancel_requested_withdrawals(campaign_id: int) -> int:
    waiting = db.session.scalars(select(Withdrawal).where(
        Withdrawal.campaign_id == campaign_id,
        Withdrawal.status.in_((WithdrawalStatus.requested, WithdrawalStatus.approved)))
        .with_for_update()).all()
    for withdrawal in waiting:
        withdrawal.status = WithdrawalStatus.cancelled
        withdrawal.decision_reason = "筹款已终止，剩余善款退还捐款人"
        add_notice(withdrawal.organizer_id, "withdrawal", "提现申请已取消",
                   "筹款已终止，剩余善款将按比例退还捐款人，未处理的提现申请已取消。",
                   f"/c/{campaign_id}/withdraw")
    return len(waiting)


def submit(refund_id: int) -> str:
    """Ask WeChat to refund (again: the same out_refund_no refunds once). A refund already
    submitted is first asked after (its notice may be lost) and settled from the answer; only
    one WeChat never saw is sent again. Returns the status; raises RetryLater when WeChat could
    not be reached, for rq to retry."""
    refund = db.session.get(DonationRefund, refund_id)
    if refund is None or refund.status not in (R.pending, R.submitted):
        db.session.rollback()
        return refund.status.value if refund else "missing"
    payment = db.session.get(Payment, refund.payment_id)
    args = (refund.out_trade_no, refund.out_refund_no, payment.amount_fen, refund.amount_fen)
    provider_name = payment.provider  # refunded through the API that took the payment
    submitted = refund.status == R.submitted
    db.session.rollback()  # no transaction held while WeChat works
    if submitted:  # sent before, its notice never came: WeChat may have finished long ago
        try:
            answer = settle_refund_by_query(args[1], provider_name)
        except ProviderError as error:
            raise RetryLater(f"refund {refund_id}: {error.code} {error.message}") from error
        if answer != QUERY_UNKNOWN:
            return db.session.scalar(select(DonationRefund.status)
                                     .where(DonationRefund.id == refund_id)).value
    try:
        result = get_provider(provider_name).refund(
            *args, reason=REASON, notify_url=refund_notify_url(provider_name))
    except ProviderError as error:
        permanent = error.code in PERMANENT_ERRORS
        db.session.execute(update(DonationRefund).where(
            DonationRefund.id == refund_id, DonationRefund.status.in_((R.pending, R.submitted)))
            .values(attempts=DonationRefund.attempts + 1, last_error=error.message[:300],
                    status=R.failed if permanent else DonationRefund.status))
        db.session.commit()
        if permanent:
            log.error("refund %s refused by WeChat: %s %s", refund_id, error.code, error.message)
            return R.failed.value
        raise RetryLater(f"refund {refund_id}: {error.code} {error.message}") from error
    db.session.execute(update(DonationRefund).where(
        DonationRefund.id == refund_id, DonationRefund.status == R.pending)
        .values(status=R.submitted, refund_id=result.refund_id, submitted_at=utcnow(),
                attempts=DonationRefund.attempts + 1, last_error=""))
    db.session.commit()
    return db.session.scalar(select(DonationRefund.status)
                             .where(DonationRefund.id == refund_id)).value


def on_refund_notice(notice: RefundNotice) -> NoticeVerdict:
    """Settle a refund from WeChat's notice. In the notice's transaction; does not commit."""
    refund = db.session.scalars(select(DonationRefund).where(
        DonationRefund.out_refund_no == notice.out_refund_no).with_for_update()
        .execution_options(populate_existing=True)).one_or_none()
    if refund is None:
        return NoticeVerdict.unknown_order
    if notice.out_trade_no != refund.out_trade_no or notice.refund_fee != refund.amount_fen:
        return NoticeVerdict.amount_mismatch
    if refund.status == R.succeeded:
        return (NoticeVerdict.duplicate if notice.status == REFUND_SUCCEEDED
                else NoticeVerdict.conflict)
    if notice.status != REFUND_SUCCEEDED:
        refund.status = R.failed
        refund.last_error = f"微信退款状态 {notice.status}"
        return NoticeVerdict.not_success
    claimed = db.session.execute(update(DonationRefund).where(
        DonationRefund.id == refund.id, DonationRefund.status != R.succeeded)
        .values(status=R.succeeded, refund_id=notice.refund_id or refund.refund_id,
                settled_at=utcnow(), last_error="")
        .execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        return NoticeVerdict.duplicate
    custody = campaign_custody(refund.campaign_id)
    postings = [Posting(SOURCE_REFUND, refund.out_refund_no,
                        [Leg(custody, -refund.amount_fen),
                         Leg(REFUND_CLEARING, refund.amount_fen)], memo="筹款终止 · 按比例退还捐款人")]
    if refund.channel_fee_returned_fen:
        postings.append(Posting(SOURCE_CHANNEL_FEE_RETURN, refund.out_refund_no,
                                [Leg(CHANNEL_FEES, -refund.channel_fee_returned_fen),
                                 Leg(custody, refund.channel_fee_returned_fen)],
                                memo="微信支付按退款比例退回通道费"))
    post_many(postings)
    if refund.user_id is not None:   # sent by deliver_due: payments' commit knows no notices
        telling.refunded(refund.user_id, refund.id, refund.campaign_id, refund.amount_fen)
    return NoticeVerdict.processed


def retry_failed(refund_id: int, staff: StaffAccount, reason: str) -> DonationRefund:
    """Finance sends a failed refund again (same out_refund_no: it can only ever pay once)."""
    if not isinstance(staff, StaffAccount) or not staff.has_role(StaffRole.finance):
        raise PayoutError("只有财务人员可以处理退款", "forbidden")
    reason = (reason or "").strip()[:300]
    if not reason:
        raise PayoutError("请填写重新发起的原因", "reason_required")
    refund = db.session.get(DonationRefund, refund_id, with_for_update=True)
    if refund is None:
        raise PayoutError("退款不存在", "not_found")
    if refund.status != R.failed:
        raise PayoutError(f"该退款{refund.status.label}，不能重复退款", "not_failed")
    refund.status = R.pending
    record_audit(staff, "refund.retry", "donation_refund", refund.id,
                 before={"status": R.failed}, after={"status": R.pending}, reason=reason,
                 campaign_id=refund.campaign_id)
    db.session.commit()
    return refund


def unsettled(older_than: timedelta = RECONCILE_AFTER) -> list[int]:
    """Refunds waiting longer than they should (for the periodic job to send again)."""
    cutoff = utcnow() - older_than
    return list(db.session.scalars(select(DonationRefund.id).where(
        DonationRefund.status.in_((R.pending, R.submitted)),
        DonationRefund.updated_at <= cutoff).order_by(DonationRefund.id)))


def terminated_without_refunds() -> list[int]:
    """Terminated campaigns whose custody still holds money nobody planned to refund."""
    from app.campaigns.models import Campaign

    ids = db.session.scalars(select(Campaign.id).where(
        Campaign.status == CampaignStatus.terminated)).all()
    return [cid for cid in ids if custody_balance(cid) - unsettled_refunds(cid) > 0]


def channel_fee_return_problems() -> list[str]:
    """`ledger verify`: each refund's returned fee is its payment's fee in proportion to the
    refund, booked (fee account → custody, exactly that) once it succeeded, and only then."""
    from app.ledger.models import Entry, LedgerTransaction

    booked = {ref: int(total) for ref, total in db.session.execute(
        select(LedgerTransaction.source_ref, func.sum(Entry.amount_fen))
        .join(Entry, Entry.transaction_id == LedgerTransaction.id)
        .where(LedgerTransaction.source_type == SOURCE_CHANNEL_FEE_RETURN,
               Entry.amount_fen > 0, LedgerTransaction.source_ref.startswith(PREFIX))
        .group_by(LedgerTransaction.source_ref))}  # other features' refunds check their own
    problems = []
    for no, amount, returned, status, paid, fee in db.session.execute(
            select(DonationRefund.out_refund_no, DonationRefund.amount_fen,
                   DonationRefund.channel_fee_returned_fen, DonationRefund.status,
                   Payment.amount_fen, Payment.channel_fee_fen)
            .join(Payment, Payment.id == DonationRefund.payment_id)):
        if amount <= paid and returned != fee_returned(amount, paid, fee):
            problems.append(f"refund {no}: returned fee {returned} fen ≠ the payment's fee "
                            f"{fee} in proportion to {amount} of {paid}")
        moved = booked.pop(no, None)
        if status == R.succeeded and returned and moved != returned:
            problems.append(f"succeeded refund {no}: fee returned {returned} fen, ledger {moved}")
        elif (status != R.succeeded or not returned) and moved is not None:
            problems.append(f"refund {no} is {status.value} but the ledger returned {moved} "
                            "fen of fee")
    problems += [f"ledger fee return {ref} has no refund" for ref in booked]
    return problems
