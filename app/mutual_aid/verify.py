"""`ledger verify` checks for the plan, registered through the ledger's hook:

- each plan's custody balance = shares paid in − distributions paid out (and no other flows);
- each (former) wallet balance = top-ups + surpluses + refund payouts made into it − wallet
  payments − refunds and paybacks out of it (less those that came back), ≥ 0 (the paybacks'
  own accounts are payback_checks.py's);
- each computed round's charges sum to its total and number its members;
- a round's items never receive more than granted, and its distributions match their lines;
- a paid top-up or share batch has its paid payment of the same amount.
"""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import and_, func, select

from app.extensions import db
from app.ledger.services import totals_by_account
from app.mutual_aid.accounts import plan_custody, wallet_account
from app.mutual_aid.money_models import (COMPUTED, ChargeStatus, Distribution,
                                         DistributionLine, ItemKind, Round, RoundItem,
                                         ShareBatch, ShareCharge, TopUp, WalletRefund,
                                         WalletRefundStatus)
from app.mutual_aid.money_models import PayBack
from app.mutual_aid.payback_checks import payback_problems
from app.mutual_aid.paybacks import MOVED, WALLET
from app.mutual_aid.payout_checks import claim_payout_problems
from app.payments.models import Payment, PaymentState

PLAN_SOURCES = ("payment", "plan_wallet_pay", "plan_batch_surplus", "plan_distribution",
                "plan_wallet_refund", "wechat_transfer", "wechat_transfer_return",
                "plan_batch_overpaid", "plan_payback", "plan_payback_back",
                "plan_wallet_refund_undo")


def _sum_by(query) -> dict[int, int]:
    return {key: int(total or 0) for key, total in db.session.execute(query)}


def custody_problems() -> list[str]:
    ledger = totals_by_account("plan:", PLAN_SOURCES)
    paid = _sum_by(select(Round.plan_id, func.sum(ShareCharge.amount_fen))
                   .join(Round, Round.id == ShareCharge.round_id)
                   .where(ShareCharge.status == ChargeStatus.paid).group_by(Round.plan_id))
    out = _sum_by(select(Round.plan_id, func.sum(Distribution.items_fen + Distribution.fee_fen))
                  .join(Round, Round.id == Distribution.round_id).group_by(Round.plan_id))
    problems = []
    for plan_id in set(paid) | set(out) | {int(code.split(":")[1]) for code in ledger}:
        expected = paid.get(plan_id, 0) - out.get(plan_id, 0)
        actual = ledger.get(plan_custody(plan_id), (0, 0))[0]
        if expected != actual:
            problems.append(f"plan {plan_id}: custody holds {actual} fen, shares paid less "
                            f"distributed say {expected}")
    return problems


def wallet_problems() -> list[str]:
    ledger = totals_by_account("plan_wallet:", PLAN_SOURCES)
    expected: dict[int, int] = defaultdict(int)
    for user_id, total in db.session.execute(
            select(TopUp.user_id, func.sum(TopUp.amount_fen)).where(TopUp.paid_at.is_not(None))
            .group_by(TopUp.user_id)):
        expected[user_id] += int(total)
    for user_id, total in db.session.execute(
            select(ShareBatch.user_id, func.sum(ShareBatch.to_wallet_fen))
            .where(ShareBatch.paid_at.is_not(None)).group_by(ShareBatch.user_id)):
        expected[user_id] += int(total)
    for user_id, total in db.session.execute(
            select(RoundItem.beneficiary_user_id, func.sum(RoundItem.to_wallet_fen))
            .where(RoundItem.kind == ItemKind.refund).group_by(RoundItem.beneficiary_user_id)):
        expected[user_id] += int(total)
    for user_id, total in db.session.execute(
            select(ShareCharge.user_id, func.sum(ShareCharge.amount_fen))
            .where(ShareCharge.status == ChargeStatus.paid, ShareCharge.paid_via == "wallet")
            .group_by(ShareCharge.user_id)):
        expected[user_id] -= int(total)
    for user_id, total in db.session.execute(
            select(WalletRefund.user_id, func.sum(WalletRefund.amount_fen))
            .where(WalletRefund.status != WalletRefundStatus.failed)  # came back to the wallet
            .group_by(WalletRefund.user_id)):
        expected[user_id] -= int(total)
    for user_id, total in db.session.execute(
            select(PayBack.user_id, func.sum(PayBack.amount_fen))
            .where(PayBack.subject == WALLET, PayBack.status.in_(MOVED))
            .group_by(PayBack.user_id)):
        expected[user_id] -= int(total)
    problems = []
    users = set(expected) | {int(code.split(":")[1]) for code in ledger}
    for user_id in sorted(users):
        actual = ledger.get(wallet_account(user_id), (0, 0))[0]
        if actual != expected.get(user_id, 0):
            problems.append(f"wallet of user {user_id}: ledger {actual} fen, records say "
                            f"{expected.get(user_id, 0)}")
        if actual < 0:
            problems.append(f"wallet of user {user_id} is negative ({actual} fen)")
    return problems + payback_problems()


def round_problems() -> list[str]:
    problems = []
    sums = {rid: (int(total or 0), int(n)) for rid, total, n in db.session.execute(
        select(ShareCharge.round_id, func.sum(ShareCharge.amount_fen), func.count())
        .group_by(ShareCharge.round_id))}
    for round_ in db.session.scalars(select(Round).where(Round.status.in_(COMPUTED))):
        total, count = sums.get(round_.id, (0, 0))
        if (total, count) != (round_.total_fen, round_.members):
            problems.append(f"round {round_.id}: {count} charges sum to {total} fen; the round "
                            f"says {round_.members} members and {round_.total_fen} fen")
        if round_.items_granted_fen + round_.fee_fen != round_.total_fen:
            problems.append(f"round {round_.id}: items and fee do not add up to the total")
    over = db.session.scalars(select(RoundItem.id).where(
        RoundItem.granted_fen.is_not(None), RoundItem.distributed_fen > RoundItem.granted_fen))
    problems += [f"round item {i} received more than it was granted" for i in over]
    lines = (select(DistributionLine.distribution_id, func.sum(DistributionLine.amount_fen)
                    .label("total")).group_by(DistributionLine.distribution_id).subquery())
    mismatched = db.session.scalars(
        select(Distribution.id).outerjoin(lines, lines.c.distribution_id == Distribution.id)
        .where(func.coalesce(lines.c.total, 0) != Distribution.items_fen))
    problems += [f"distribution {i}: its lines do not add up" for i in mismatched]
    return problems


def payable_problems() -> list[str]:
    problems = []
    for model, kind in ((TopUp, "plan_topup"), (ShareBatch, "plan_shares")):
        paid_payment = and_(Payment.payable_type == kind, Payment.payable_id == model.id,
                            Payment.state.in_((PaymentState.paid, PaymentState.refunded)))
        marked_unpaid = db.session.scalars(
            select(model.id).join(Payment, paid_payment).where(model.paid_at.is_(None)))
        unbacked = db.session.scalars(
            select(model.id).outerjoin(Payment, paid_payment)
            .where(model.paid_at.is_not(None), Payment.id.is_(None)))
        wrong = db.session.scalars(select(model.id).join(Payment, paid_payment)
                                   .where(Payment.amount_fen != model.amount_fen))
        problems += [f"{kind} {i}: payment paid but not recorded" for i in marked_unpaid]
        problems += [f"{kind} {i}: recorded paid without a paid payment" for i in unbacked]
        problems += [f"{kind} {i}: amount differs from its payment" for i in wrong]
    return problems


def mutual_aid_problems() -> list[str]:
    return (custody_problems() + wallet_problems() + round_problems() + payable_problems()
            + claim_payout_problems())  # claims paid for real: payout_checks.py
