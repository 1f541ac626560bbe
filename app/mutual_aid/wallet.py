"""Paying shares: by WeChat Pay through the payments service (a share batch is the payable), or
from the member's wallet — a balance topped up by WeChat Pay (a top-up is the payable) that
stays theirs and is refundable. Every movement is a ledger transaction; one commit per action.

A refund of the balance goes to the member's WeChat 零钱 by 商家转账 (payouts' transfers: the
money leaves the wallet account on create and comes back to it if the member never confirms);
when WeChat cannot take it (no WeChat identity, the daily limit, a real name needed) it waits
for finance's bank transfer and voucher as before.
"""
from __future__ import annotations

import logging
import re

from flask import url_for
from sqlalchemy import func, select

from app.extensions import db
from app.ledger.models import Account, Entry
from app.ledger.services import Leg, balance, post
from app.models_base import format_yuan, utcnow
from app.mutual_aid import audit
from app.mutual_aid.accounts import PAYOUT_CLEARING, plan_custody, wallet_account
from app.mutual_aid.money_models import (ChargeStatus, Round, ShareBatch, ShareCharge, TopUp,
                                         WalletRefund, WalletRefundStatus)
from app.mutual_aid.services import MutualAidError, reactivate_if_clear
from app.payments import services as payments
from app.payments.models import Payment
from app.payments.payables import PaidOutcome, PaidPayment, PayableHandler
from app.payouts import transfers
from app.payouts.errors import PayoutError
from app.payouts.funds import lock_account
from app.payouts.transfer_models import PersonTransfer

log = logging.getLogger(__name__)

SHARES = "plan_shares"
TOPUP = "plan_topup"
OPEN = (ChargeStatus.due, ChargeStatus.overdue)
FORM_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
TOPUP_MIN_FEN = 1_00
TOPUP_MAX_FEN = 1_000_00
REFUND_PURPOSE = "wallet_refund"


def wallet_balance(user_id: int) -> int:
    return balance(wallet_account(user_id))


def open_charges(user_id: int, plan_id: int | None = None) -> list[ShareCharge]:
    """The payer's unpaid charges (due, or overdue after a round closed), oldest first."""
    query = (select(ShareCharge).join(Round, Round.id == ShareCharge.round_id)
             .where(ShareCharge.user_id == user_id, ShareCharge.status.in_(OPEN))
             .order_by(ShareCharge.id))
    if plan_id is not None:
        query = query.where(Round.plan_id == plan_id)
    return list(db.session.scalars(query))


def _payer(user) -> tuple[int, str]:
    if getattr(user, "is_staff", False) or not getattr(user, "openid", None):
        raise MutualAidError("请使用微信登录后再支付", "not_wechat_user")
    return user.id, user.openid


def _checkout(payable_type: str, payable_id: int, amount: int, description: str, key: str,
              user_id: int, openid: str, trade_type: str, client_ip: str) -> Payment:
    if trade_type not in ("JSAPI", "NATIVE"):
        raise MutualAidError("不支持的支付方式", "trade_type_invalid")
    try:
        return payments.start_checkout(payments.Checkout(
            payable_type=payable_type, payable_id=payable_id, amount_fen=amount,
            description=description, idempotency_key=key, user_id=user_id, openid=openid,
            trade_type=trade_type, client_ip=client_ip))
    except payments.CheckoutConflict as error:
        raise MutualAidError(str(error), "checkout_conflict") from error


def start_share_payment(user, plan_id: int, form_key: str, trade_type: str,
                        client_ip: str) -> Payment:
    """One WeChat order for all of the payer's unpaid charges in the plan."""
    user_id, openid = _payer(user)
    if not FORM_KEY.match(form_key or ""):
        raise MutualAidError("页面已过期，请刷新后重新提交", "form_key_invalid")
    key = f"{SHARES}:{user_id}:{form_key}"
    existing = payments.find_by_key(key)
    if existing is not None:
        return existing
    charges = open_charges(user_id, plan_id)
    if not charges:
        raise MutualAidError("目前没有待缴的分摊金额", "nothing_due")
    amount = sum(charge.amount_fen for charge in charges)
    batch = ShareBatch(user_id=user_id, plan_id=plan_id, amount_fen=amount,
                       charge_ids=[charge.id for charge in charges])
    db.session.add(batch)
    db.session.flush()
    return _checkout(SHARES, batch.id, amount, f"相助互助计划-分摊金额（{len(charges)} 笔）", key,
                     user_id, openid, trade_type, client_ip)


def start_topup(user, amount_fen: int, form_key: str, trade_type: str,
                client_ip: str) -> Payment:
    user_id, openid = _payer(user)
    if not FORM_KEY.match(form_key or ""):
        raise MutualAidError("页面已过期，请刷新后重新提交", "form_key_invalid")
    if not TOPUP_MIN_FEN <= amount_fen <= TOPUP_MAX_FEN:
        raise MutualAidError(f"单次充值金额为 {format_yuan(TOPUP_MIN_FEN)} 元至 "
                             f"{format_yuan(TOPUP_MAX_FEN)} 元", "amount_out_of_range")
    key = f"{TOPUP}:{user_id}:{form_key}"
    existing = payments.find_by_key(key)
    if existing is not None:
        return existing
    topup = TopUp(user_id=user_id, amount_fen=amount_fen)
    db.session.add(topup)
    db.session.flush()
    return _checkout(TOPUP, topup.id, amount_fen, "相助互助计划-余额充值（可随时退回）", key,
                     user_id, openid, trade_type, client_ip)


def _mark_paid(charges: list[ShareCharge], via: str) -> set[int]:
    now = utcnow()
    for charge in charges:
        charge.status = ChargeStatus.paid
        charge.paid_via = via
        charge.paid_at = now
    return {charge.membership_id for charge in charges}


def pay_from_wallet(user_id: int, plan_id: int) -> list[ShareCharge]:
    """Pay the oldest unpaid charges the wallet covers. Serialised per payer by locking their
    wallet account, so two requests (or a payment and a refund) cannot spend one balance."""
    lock_account(wallet_account(user_id))
    available = wallet_balance(user_id)
    paying, total = [], 0
    for charge in open_charges(user_id, plan_id):
        if total + charge.amount_fen > available:
            break
        paying.append(charge)
        total += charge.amount_fen
    if not paying:
        db.session.rollback()
        raise MutualAidError("余额不足，请先充值或使用微信支付", "balance_low")
    members = _mark_paid(paying, "wallet")
    post("plan_wallet_pay", f"c{paying[0].id}",
         [Leg(wallet_account(user_id), -total), Leg(plan_custody(plan_id), total)],
         memo=f"互助计划分摊 · 余额支付（{len(paying)} 笔）")
    reactivate_if_clear(members, user_id=user_id)
    db.session.commit()
    return paying


def request_wallet_refund(user_id: int) -> WalletRefund:
    """The whole balance leaves the wallet at once: by 商家转账 to the member's WeChat, or, when
    WeChat cannot take it, to the payout clearing for finance's bank transfer."""
    lock_account(wallet_account(user_id))
    if db.session.scalar(select(WalletRefund.id).where(
            WalletRefund.user_id == user_id,
            WalletRefund.status == WalletRefundStatus.transferring)):
        db.session.rollback()
        raise MutualAidError("上一笔退款等待您在“我的 · 领取”中确认收款", "refund_waiting")
    amount = wallet_balance(user_id)
    if amount <= 0:
        db.session.rollback()
        raise MutualAidError("余额为 0，无需退回", "balance_empty")
    refund = WalletRefund(user_id=user_id, amount_fen=amount)
    db.session.add(refund)
    db.session.flush()
    transfer = _by_wechat_transfer(refund)
    if transfer is None:
        post("plan_wallet_refund", str(refund.id),
             [Leg(wallet_account(user_id), -amount), Leg(PAYOUT_CLEARING, amount)],
             memo="互助余额退回")
    audit.record("wallet_refund_requested", "wallet_refund", refund.id,
                 "微信转账" if transfer else "银行转账", user_id=user_id)
    db.session.commit()
    if transfer is not None:
        transfers.enqueue_send(transfer.id)
    return refund


def _by_wechat_transfer(refund: WalletRefund) -> PersonTransfer | None:
    """The refund's 商家转账 in this transaction, or None when it must go by bank."""
    if not transfers.enabled():
        return None
    try:
        with db.session.begin_nested():
            transfer = transfers.start_transfer(
                REFUND_PURPOSE, str(refund.id), refund.user_id, refund.amount_fen,
                wallet_account(refund.user_id), "相助互助计划余额退回")
    except PayoutError as refused:
        log.info("wallet refund %s by bank: %s", refund.id, refused.message)
        return None
    refund.status = WalletRefundStatus.transferring
    refund.note = f"微信转账 {transfer.out_bill_no}"
    return transfer


def on_refund_transfer(transfer: PersonTransfer, succeeded: bool) -> None:
    """Payouts settled a wallet refund's 商家转账 (its own postings moved the money: out of the
    clearing, or back into the wallet); in that transaction the refund follows."""
    refund = db.session.get(WalletRefund, int(transfer.purpose_ref), with_for_update=True,
                            populate_existing=True)
    if refund.status != WalletRefundStatus.transferring:
        return
    refund.done_at = utcnow()
    if succeeded:
        refund.status = WalletRefundStatus.paid
        refund.note = f"已转入微信零钱 {transfer.transfer_bill_no or transfer.out_bill_no}"[:200]
    else:
        refund.status = WalletRefundStatus.failed
        refund.note = f"微信转账未到账，余额已退回：{transfer.fail_reason}"[:200]


def mark_refund_paid(refund_id: int, staff, note: str) -> WalletRefund:
    if not (note or "").strip():
        raise MutualAidError("请填写转账凭证或说明", "reason_missing")
    refund = db.session.get(WalletRefund, refund_id, with_for_update=True)
    if refund is None or refund.status != WalletRefundStatus.requested:
        raise MutualAidError("该退款已处理", "already_done")
    refund.status = WalletRefundStatus.paid
    refund.done_by_id = staff.id
    refund.done_at = utcnow()
    refund.note = note[:200]
    audit.record("wallet_refund_paid", "wallet_refund", refund.id, note, staff=staff)
    db.session.commit()
    return refund


def users_with_balance() -> list[int]:
    rows = db.session.execute(
        select(Account.code).join(Entry, Entry.account_id == Account.id)
        .where(Account.code.startswith("plan_wallet:")).group_by(Account.code)
        .having(func.sum(Entry.amount_fen) > 0)).scalars()
    return [int(code.split(":")[1]) for code in rows]


# --- payables --------------------------------------------------------------------------------

class ShareBatchPayable(PayableHandler):
    type = SHARES
    payable_table = ShareBatch.__table__
    platform_bears_channel_fee = True  # the whole amount is owed: see PayableHandler

    def on_paid(self, payment: PaidPayment) -> PaidOutcome:
        batch = db.session.get(ShareBatch, payment.payable_id, with_for_update=True)
        charges = db.session.scalars(select(ShareCharge).where(
            ShareCharge.id.in_(batch.charge_ids)).with_for_update()).all()
        still_open = [charge for charge in charges if charge.status in OPEN]
        surplus = payment.amount_fen - sum(charge.amount_fen for charge in still_open)
        members = _mark_paid(still_open, "wechat")
        batch.paid_at = payment.paid_at
        batch.to_wallet_fen = surplus
        if surplus:   # paid meanwhile from the wallet, or waived: the money stays the payer's
            post("plan_batch_surplus", str(batch.id),
                 [Leg(plan_custody(batch.plan_id), -surplus),
                  Leg(wallet_account(batch.user_id), surplus)],
                 memo="已缴或已免除的分摊，转入互助余额")
        reactivate_if_clear(members, user_id=batch.user_id)
        return PaidOutcome(account=plan_custody(batch.plan_id), memo="互助计划分摊 · 微信支付",
                           late=surplus > 0)

    def success_url(self, payable_id: int) -> str:
        return url_for("mutual_aid.me", paid="shares")


class TopUpPayable(PayableHandler):
    type = TOPUP
    payable_table = TopUp.__table__
    platform_bears_channel_fee = True  # the whole amount is owed: see PayableHandler

    def on_paid(self, payment: PaidPayment) -> PaidOutcome:
        topup = db.session.get(TopUp, payment.payable_id, with_for_update=True)
        topup.paid_at = payment.paid_at
        return PaidOutcome(account=wallet_account(topup.user_id), memo="互助余额充值 · 微信支付")

    def success_url(self, payable_id: int) -> str:
        return url_for("mutual_aid.me", paid="topup")
