"""Paying members back what the plan owes them, without a wallet, automatically and once.

What is owed (a subject): a former wallet's balance (`wallet`, the user's ledger account), a
waiting-period refund item (`refund_item`) or a share batch that paid for shares already
settled (`overpaid`), the last two held in the payback clearing until paid. `pay_back(subject)`
pays, under the lock of the account the money leaves:

1. by refunding the member's own WeChat Pay payments (the wallet's top-ups, the member's share
   batches, the overpaid batch itself), newest first, each up to what is left of it and only
   within WeChat's refund window (WECHAT_REFUND_WINDOW_DAYS from the payment) — the money moves
   into the refund-submitted clearing now and is settled by WeChat's refund notice
   (payback_refunds.py);
2. what no refund can take, by 商家转账 to the member's WeChat 零钱, in parts below the amount
   from which WeChat needs the real name (the money leaves on create and comes back if the
   member never confirms, when the next run sends it again, at most MAX_RETURNED_TRANSFERS);
3. what WeChat cannot take either stays where it is, recorded as an `owed` payback that finance
   sees; the next run tries again. Nobody types a voucher.

Every movement is a balanced ledger transaction keyed by the payback, so running the job again
(or twice at once) pays nothing twice: the second run sees the first's paybacks under the lock.
"""
from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from app.extensions import db, jobs
from app.ledger.models import Account, Entry
from app.ledger.services import Leg, balance, post
from app.models_base import utcnow
from app.mutual_aid.accounts import PAYBACK_DUE, PAYOUT_CLEARING, REFUND_SUBMITTED, wallet_account
from app.mutual_aid.money_models import (ChargeStatus, ItemKind, PayBack, PayBackStatus,
                                         RoundItem, ShareBatch, ShareCharge, TopUp,
                                         WalletRefund, WalletRefundStatus)
from app.payments.models import Payment, PaymentState
from app.payouts import transfers
from app.payouts.errors import PayoutError
from app.payouts.funds import lock_account
from app.payouts.transfer_models import PersonTransfer

log = logging.getLogger(__name__)
P = PayBackStatus
WALLET, REFUND_ITEM, OVERPAID = "wallet", "refund_item", "overpaid"
MOVED = (P.sending, P.paid)              # the money has left `from_account` (for now)
PREFIX = "XZPB"                          # our out_refund_no, routed back by payments' refunds
PURPOSE = "plan_payback"                 # the 商家转账 purpose
OLD_WALLET_PURPOSE = "wallet_refund"     # transfers the wallet made before it was removed
LABEL = "互助计划退款"
SOURCE_OUT = "plan_payback"              # from_account → refund submitted (ref: payback id)
SOURCE_UNDO_BANK = "plan_wallet_refund_undo"  # old bank refund put back (ref: its id)
REFUND_WINDOW_DAYS = 365                 # WeChat Pay v3: refunds up to a year after payment
WINDOW_MARGIN = timedelta(days=1)        # room for the job to submit before the window shuts
MAX_RETURNED_TRANSFERS = 3
TRANSFER_PART_FEN = transfers.USER_NAME_FROM_FEN - 1


@dataclass(frozen=True)
class Subject:
    kind: str
    id: int            # the user's id (wallet), the item's or the batch's
    user_id: int
    from_account: str


def subject_of(kind: str, subject_id: int) -> Subject | None:
    if kind == WALLET:
        return Subject(WALLET, subject_id, subject_id, wallet_account(subject_id))
    if kind == REFUND_ITEM:
        item = db.session.get(RoundItem, subject_id)
        return item and Subject(REFUND_ITEM, item.id, item.beneficiary_user_id, PAYBACK_DUE)
    batch = db.session.get(ShareBatch, subject_id)
    return batch and Subject(OVERPAID, batch.id, batch.user_id, PAYBACK_DUE)


def refund_window() -> timedelta:
    days = int(current_app.config.get("WECHAT_REFUND_WINDOW_DAYS", REFUND_WINDOW_DAYS))
    return timedelta(days=days)


def _moved(subject: Subject) -> int:
    return int(db.session.scalar(select(func.coalesce(func.sum(PayBack.amount_fen), 0)).where(
        PayBack.subject == subject.kind, PayBack.subject_id == subject.id,
        PayBack.status.in_(MOVED))))


def owed_fen(subject: Subject) -> int:
    if subject.kind == WALLET:
        return balance(subject.from_account)
    if subject.kind == REFUND_ITEM:
        item = db.session.get(RoundItem, subject.id, populate_existing=True)
        return item.distributed_fen - item.to_wallet_fen - _moved(subject)
    batch = db.session.get(ShareBatch, subject.id, populate_existing=True)
    return batch.overpaid_fen - _moved(subject)


# --- what can be refunded ----------------------------------------------------------------------

def _refunded_on(payment_id: int) -> tuple[int, bool]:
    """(what paybacks took or are taking from this payment, whether WeChat refused one)."""
    rows = db.session.execute(select(PayBack.amount_fen, PayBack.status).where(
        PayBack.payment_id == payment_id)).all()
    return (sum(amount for amount, status in rows if status in MOVED),
            any(status == P.failed for _, status in rows))


def _payments(payable_type: str, model, *where) -> list[tuple[Payment, object]]:
    cutoff = utcnow() - refund_window() + WINDOW_MARGIN
    return list(db.session.execute(
        select(Payment, model).join(model, model.id == Payment.payable_id)
        .where(Payment.payable_type == payable_type, Payment.state == PaymentState.paid,
               Payment.paid_at > cutoff, *where)
        .order_by(Payment.paid_at.desc(), Payment.id.desc())).tuples())


def refundable(subject: Subject) -> list[tuple[int, int]]:
    """[(payment id, fen it can still refund for this subject)], newest first."""
    if subject.kind == WALLET:
        rows = [(payment, payment.amount_fen)
                for payment, _ in _payments("plan_topup", TopUp, TopUp.user_id == subject.user_id)]
    elif subject.kind == OVERPAID:
        rows = [(payment, batch.overpaid_fen) for payment, batch in _payments(
            "plan_shares", ShareBatch, ShareBatch.id == subject.id)]
    else:
        item = db.session.get(RoundItem, subject.id)
        rows = []
        for payment, batch in _payments("plan_shares", ShareBatch,
                                        ShareBatch.user_id == subject.user_id,
                                        ShareBatch.plan_id == item.plan_id):
            own = db.session.scalar(select(func.coalesce(func.sum(ShareCharge.amount_fen), 0))
                                    .where(ShareCharge.id.in_(batch.charge_ids),
                                           ShareCharge.membership_id == item.membership_id,
                                           ShareCharge.status == ChargeStatus.paid,
                                           ShareCharge.paid_via == "wechat"))
            rows.append((payment, int(own)))
    out = []
    for payment, cap in rows:
        taken, refused = _refunded_on(payment.id)
        room = min(cap, payment.amount_fen - taken)
        if room > 0 and not refused:
            out.append((payment.id, room))
    return out


# --- paying back ------------------------------------------------------------------------------

def pay_back(subject: Subject) -> dict[str, int]:
    """Pay back what `subject` still owes (one transaction), then send what it started."""
    lock_account(subject.from_account)
    if subject.kind == WALLET:
        _undo_bank_refunds(subject.user_id)
    due = owed_fen(subject)
    refund_ids, transfer_ids, reason = [], [], ""
    for payment_id, room in refundable(subject) if due > 0 else []:
        amount = min(room, due)
        refund_ids.append(_start_refund(subject, payment_id, amount))
        due -= amount
        if due == 0:
            break
    if due > 0:
        transfer_ids, sent, reason = _by_wechat_transfer(subject, due)
        due -= sent
    _record_owed(subject, due, reason, started=bool(refund_ids or transfer_ids))
    db.session.commit()
    from app.mutual_aid.payback_refunds import enqueue_submit

    for payback_id in refund_ids:
        enqueue_submit(payback_id)
    for transfer_id in transfer_ids:
        transfers.enqueue_send(transfer_id)
    return {"refunds": len(refund_ids), "transfers": len(transfer_ids), "owed_fen": max(due, 0)}


def _start_refund(subject: Subject, payment_id: int, amount: int) -> int:
    payback = PayBack(user_id=subject.user_id, subject=subject.kind, subject_id=subject.id,
                      from_account=subject.from_account, amount_fen=amount,
                      method="wechat_refund", payment_id=payment_id,
                      out_refund_no=PREFIX + secrets.token_hex(14).upper(), status=P.sending)
    db.session.add(payback)
    db.session.flush()
    post(SOURCE_OUT, str(payback.id),
         [Leg(subject.from_account, -amount), Leg(REFUND_SUBMITTED, amount)],
         memo=f"{LABEL} · 原路退回微信支付")
    return payback.id


def _by_wechat_transfer(subject: Subject, due: int) -> tuple[list[int], int, str]:
    """商家转账 of `due` in parts; (transfer ids, fen sent, why the rest could not go)."""
    if not transfers.enabled():
        return [], 0, "微信转账未开启"
    returned = db.session.scalar(select(func.count()).select_from(PayBack).where(
        PayBack.subject == subject.kind, PayBack.subject_id == subject.id,
        PayBack.method == "wechat_transfer", PayBack.status == P.failed))
    if returned >= MAX_RETURNED_TRANSFERS:
        return [], 0, f"微信转账 {returned} 次未领取"
    ids, sent = [], 0
    while due - sent > 0:
        amount = min(due - sent, TRANSFER_PART_FEN)
        try:
            with db.session.begin_nested():
                payback = PayBack(user_id=subject.user_id, subject=subject.kind,
                                  subject_id=subject.id, from_account=subject.from_account,
                                  amount_fen=amount, method="wechat_transfer", status=P.sending)
                db.session.add(payback)
                db.session.flush()
                transfer = transfers.start_transfer(PURPOSE, str(payback.id), subject.user_id,
                                                    amount, subject.from_account, LABEL)
                payback.note = f"微信转账 {transfer.out_bill_no}"
        except PayoutError as refused:
            log.info("payback of %s %s by transfer refused: %s", subject.kind, subject.id,
                     refused.message)
            return ids, sent, refused.message
        ids.append(transfer.id)
        sent += amount
    return ids, sent, ""


def _record_owed(subject: Subject, due: int, reason: str, started: bool) -> None:
    """One open `owed` record per subject while money waits; replaced once some is sent."""
    open_owed = db.session.scalars(select(PayBack).where(
        PayBack.subject == subject.kind, PayBack.subject_id == subject.id,
        PayBack.status == P.owed)).all()
    if due <= 0 or started:
        for row in open_owed:
            row.status, row.done_at = P.superseded, utcnow()
        open_owed = []
    if due <= 0:
        return
    note = (reason or "等待下次自动退回")[:200]
    if open_owed:
        open_owed[0].amount_fen, open_owed[0].note = due, note
        return
    db.session.add(PayBack(user_id=subject.user_id, subject=subject.kind, subject_id=subject.id,
                           from_account=subject.from_account, amount_fen=due, method="none",
                           status=P.owed, note=note))


def _undo_bank_refunds(user_id: int) -> None:
    """A refund the member asked for by bank (finance's voucher) is put back into the wallet,
    to be returned with it: nobody types vouchers any more."""
    for refund in db.session.scalars(select(WalletRefund).where(
            WalletRefund.user_id == user_id,
            WalletRefund.status == WalletRefundStatus.requested).with_for_update()):
        post(SOURCE_UNDO_BANK, str(refund.id),
             [Leg(PAYOUT_CLEARING, -refund.amount_fen), Leg(wallet_account(user_id),
                                                              refund.amount_fen)],
             memo=f"{LABEL} · 改为自动原路退回")
        refund.status, refund.done_at = WalletRefundStatus.failed, utcnow()
        refund.note = "改为自动原路退回或微信转账"


def on_transfer_settled(transfer: PersonTransfer, succeeded: bool) -> None:
    """Payouts settled a payback's 商家转账 (its postings moved the money); the payback follows."""
    payback = db.session.get(PayBack, int(transfer.purpose_ref), with_for_update=True,
                             populate_existing=True)
    if payback.status != P.sending:
        return
    payback.done_at = utcnow()
    if succeeded:
        payback.status = P.paid
        payback.note = f"已转入微信零钱 {transfer.transfer_bill_no or transfer.out_bill_no}"[:200]
    else:
        payback.status = P.failed
        payback.note = f"微信转账未到账：{transfer.fail_reason}"[:200]


def on_old_wallet_transfer(transfer: PersonTransfer, succeeded: bool) -> None:
    """A transfer the wallet made before it was removed: its refund row follows; money that
    came back is in the wallet again and the next run returns it."""
    refund = db.session.get(WalletRefund, int(transfer.purpose_ref), with_for_update=True,
                            populate_existing=True)
    if refund.status != WalletRefundStatus.transferring:
        return
    refund.done_at = utcnow()
    refund.status = WalletRefundStatus.paid if succeeded else WalletRefundStatus.failed
    refund.note = ("已转入微信零钱" if succeeded else f"微信转账未到账：{transfer.fail_reason}")[:200]


# --- the job ------------------------------------------------------------------------------------

def subjects_due() -> list[Subject]:
    """Every subject with money still owed (wallets with a balance or an old bank refund,
    refund items and overpaid batches not all paid back)."""
    wallets = set(db.session.scalars(
        select(Account.code).join(Entry, Entry.account_id == Account.id)
        .where(Account.code.startswith("plan_wallet:")).group_by(Account.code)
        .having(func.sum(Entry.amount_fen) > 0)))
    users = {int(code.split(":")[1]) for code in wallets}
    users |= set(db.session.scalars(select(WalletRefund.user_id).where(
        WalletRefund.status == WalletRefundStatus.requested)))
    moved = (select(PayBack.subject, PayBack.subject_id,
                    func.sum(PayBack.amount_fen).label("fen"))
             .where(PayBack.status.in_(MOVED)).group_by(PayBack.subject, PayBack.subject_id)
             .subquery())
    items = db.session.scalars(
        select(RoundItem.id).outerjoin(moved, (moved.c.subject == REFUND_ITEM)
                                       & (moved.c.subject_id == RoundItem.id))
        .where(RoundItem.kind == ItemKind.refund,
               RoundItem.distributed_fen - RoundItem.to_wallet_fen
               > func.coalesce(moved.c.fen, 0)).order_by(RoundItem.id)).all()
    batches = db.session.scalars(
        select(ShareBatch.id).outerjoin(moved, (moved.c.subject == OVERPAID)
                                        & (moved.c.subject_id == ShareBatch.id))
        .where(ShareBatch.overpaid_fen > func.coalesce(moved.c.fen, 0))
        .order_by(ShareBatch.id)).all()
    db.session.rollback()
    return ([subject_of(WALLET, user_id) for user_id in sorted(users)]
            + [subject_of(REFUND_ITEM, item_id) for item_id in items]
            + [subject_of(OVERPAID, batch_id) for batch_id in batches])


def pay_back_all() -> dict[str, int]:
    """The periodic job and `flask mutual-aid pay-back`: refunds left unsettled are asked
    after, then every subject still owed is paid back as far as WeChat takes it."""
    from app.mutual_aid.payback_refunds import reconcile

    totals = {"subjects": 0, "refunds": 0, "transfers": 0, "owed_fen": 0}
    totals.update(reconcile())
    for subject in subjects_due():
        done = pay_back(subject)
        totals["subjects"] += 1
        for key in ("refunds", "transfers", "owed_fen"):
            totals[key] += done[key]
    return totals


def pay_back_job(kind: str, subject_id: int) -> dict[str, int]:
    subject = subject_of(kind, subject_id)
    return pay_back(subject) if subject is not None else {}


def enqueue_pay_back(kind: str, subject_id: int) -> None:
    """After the commit that made something owed: pay it back now (the periodic job also will)."""
    jobs.enqueue(pay_back_job, kind, subject_id, queue="payments")


def owed_to_members() -> list[PayBack]:
    """What finance sees: money WeChat could not take, waiting where it is."""
    return list(db.session.scalars(select(PayBack).where(PayBack.status == P.owed)
                                   .order_by(PayBack.id)))
