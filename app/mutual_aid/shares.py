"""Paying shares: each round's share is paid by WeChat Pay through the payments service (a
share batch is the payable), after the round is announced (后付费). There is no wallet and no
prepaid balance: a batch that pays for shares already settled is refunded (paybacks.py).

The top-up payable of the removed wallet stays registered so that an order made before the
wallet went and paid after it is still booked; its balance is returned by paybacks.py.
"""
from __future__ import annotations

import re

from flask import url_for
from sqlalchemy import select

from app.extensions import db
from app.ledger.services import Leg, post
from app.models_base import utcnow
from app.mutual_aid.accounts import PAYBACK_DUE, plan_custody, wallet_account
from app.mutual_aid.money_models import ChargeStatus, Round, ShareBatch, ShareCharge, TopUp
from app.mutual_aid.paybacks import OVERPAID, WALLET, enqueue_pay_back
from app.mutual_aid.services import MutualAidError, reactivate_if_clear
from app.payments import services as payments
from app.payments.models import Payment
from app.payments.payables import PaidOutcome, PaidPayment, PayableHandler

SHARES = "plan_shares"
TOPUP = "plan_topup"
SOURCE_OVERPAID = "plan_batch_overpaid"   # custody → payback due: a batch paid for settled shares
OPEN = (ChargeStatus.due, ChargeStatus.overdue)
FORM_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


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


def _mark_paid(charges: list[ShareCharge], via: str) -> set[int]:
    now = utcnow()
    for charge in charges:
        charge.status = ChargeStatus.paid
        charge.paid_via = via
        charge.paid_at = now
    return {charge.membership_id for charge in charges}


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
        batch_id = batch.id
        batch.paid_at = payment.paid_at
        batch.overpaid_fen = surplus
        if surplus:   # paid meanwhile by another order, or waived: refunded to the payer
            post(SOURCE_OVERPAID, str(batch.id),
                 [Leg(plan_custody(batch.plan_id), -surplus), Leg(PAYBACK_DUE, surplus)],
                 memo="已缴或已免除的分摊，原路退回")
        reactivate_if_clear(members, user_id=batch.user_id)
        return PaidOutcome(account=plan_custody(batch.plan_id), memo="互助计划分摊 · 微信支付",
                           late=surplus > 0,
                           after_commit=(lambda: enqueue_pay_back(OVERPAID, batch_id))
                           if surplus else None)

    def success_url(self, payable_id: int) -> str:
        return url_for("mutual_aid.me", paid="shares")


class TopUpPayable(PayableHandler):
    """An order of the removed wallet paid late: credited to the wallet, then returned."""

    type = TOPUP
    payable_table = TopUp.__table__
    platform_bears_channel_fee = True  # the whole amount is owed: see PayableHandler

    def on_paid(self, payment: PaidPayment) -> PaidOutcome:
        topup = db.session.get(TopUp, payment.payable_id, with_for_update=True)
        topup.paid_at = payment.paid_at
        user_id = topup.user_id
        return PaidOutcome(account=wallet_account(topup.user_id), memo="互助余额充值 · 微信支付",
                           after_commit=lambda: enqueue_pay_back(WALLET, user_id))

    def success_url(self, payable_id: int) -> str:
        return url_for("mutual_aid.me", paid="topup")
