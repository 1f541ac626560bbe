"""Withdrawals (提现): asked for by the organizer, approved by a reviewer and released by
finance (app/payouts/withdrawal_decisions.py), paid by the custodian.

One business action, one transaction. Every action that can move money locks the campaign row
first (app/payouts/funds.py), so concurrent requests and decisions are serialised per campaign,
and checks the ledger balance less what is already promised. Release only decides; the
transfer runs after the commit in a job (`execute`), under an idempotent transfer id, and the
ledger moves the money (custody → payout clearing) only when the custodian says it is done.
Releasing twice pays once: the second finds the withdrawal released, and the transfer id and
the ledger's (source, ref) uniqueness make a repeated job harmless.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select

from app.auth.models import User
from app.campaigns.models import Campaign, CampaignStatus
from app.extensions import db
from app.ledger.services import Leg, post
from app.models_base import format_yuan, utcnow
from app.notices.services import send_told
from app.payouts import documents, telling
from app.payouts.accounts import PAYOUT_CLEARING, SOURCE_WITHDRAWAL, campaign_custody
from app.payouts.errors import PayoutError
from app.payouts.funds import available_fen, custody_balance, lock_campaign
from app.payouts.models import DocKind, Withdrawal, WithdrawalStatus
from app.payouts.provider import (PayoutUnavailable, TransferRequest, TransferResult,
                                  get_payout_provider)
from app.review.models import IdentityStatus, Payee
from app.core.uploads import CheckedFile

log = logging.getLogger(__name__)
W = WithdrawalStatus
S = CampaignStatus

MIN_FEN = 1_00
PURPOSE_MAX = 200
# Above this much raised, money goes out in batches, each against invoices covering it (the
# industry's self-regulation convention for large campaigns).
BATCH_THRESHOLD_FEN = 50_000_00
RECONCILE_AFTER = timedelta(minutes=2)
STATUS_REFUSALS = {
    S.frozen: "筹款已被冻结，暂停提现。平台核实完成后才能继续",
    S.terminated: "筹款已终止，剩余善款将按比例退还捐款人，不能再提现",
}


def transfer_id_of(withdrawal_id: int) -> str:
    return f"XZWD{withdrawal_id:012d}"


# --- the organizer ----------------------------------------------------------------------------

def request_withdrawal(campaign_id: int, organizer: User, amount_fen: int, purpose: str,
                       invoice_total_fen: int | None = None,
                       invoices: Sequence[CheckedFile] = ()) -> Withdrawal:
    """Ask to withdraw to the verified payee. Refused with a Chinese message, nothing moved,
    when over the available balance, frozen or terminated, without a verified payee, or
    without the documents the first withdrawal and large campaigns need."""
    purpose = (purpose or "").strip()
    if not 2 <= len(purpose) <= PURPOSE_MAX:
        raise PayoutError(f"请填写用途（2 到 {PURPOSE_MAX} 个字），例如“支付住院押金”", "purpose")
    if type(amount_fen) is not int or amount_fen < MIN_FEN:
        raise PayoutError(f"提现金额至少 {format_yuan(MIN_FEN)} 元", "amount")
    keys = documents.store(invoices)
    committed = False
    try:
        campaign = lock_campaign(campaign_id)
        if campaign.organizer_id != organizer.id:
            raise PayoutError("只有发起人可以申请提现", "forbidden")
        check_can_pay(campaign)
        payee = verified_payee(campaign.id)
        first = not db.session.scalar(select(Withdrawal.id).where(
            Withdrawal.campaign_id == campaign.id,
            Withdrawal.status.in_((W.approved, W.released, W.paid))).limit(1))
        if first:
            missing = documents.unverified_kinds(campaign)
            if missing:
                raise PayoutError("首次提现前，证明材料需全部审核通过（尚未通过："
                                  + "、".join(missing) + "）", "documents")
            if not invoices:
                raise PayoutError("首次提现请上传医院票据、缴费通知或费用清单", "invoices")
        if campaign.raised_fen >= BATCH_THRESHOLD_FEN:
            if not invoices or not invoice_total_fen or invoice_total_fen < amount_fen:
                raise PayoutError(
                    f"已筹超过 {format_yuan(BATCH_THRESHOLD_FEN)} 元的筹款需分批提现：每次提现"
                    "须附票据，且提现金额不能超过票据金额", "batch")
        available = available_fen(campaign.id)
        if amount_fen > available:
            raise PayoutError(f"提现金额超过可提现余额（当前可提现 ¥{format_yuan(available)}）",
                              "over_balance")
        withdrawal = Withdrawal(
            campaign_id=campaign.id, organizer_id=organizer.id, amount_fen=amount_fen,
            purpose=purpose, invoice_total_fen=invoice_total_fen or None, payee_id=payee.id,
            payee_kind=payee.kind.value, payee_last4=payee.account_last4)
        db.session.add(withdrawal)
        db.session.flush()
        documents.attach(withdrawal, DocKind.invoice, invoices, keys, organizer.id)
        db.session.commit()
        committed = True
    finally:
        if not committed:
            db.session.rollback()
            documents.discard(keys)
    return withdrawal


def cancel_withdrawal(withdrawal_id: int, organizer: User) -> Withdrawal:
    withdrawal = locked(withdrawal_id)
    if withdrawal.organizer_id != organizer.id:
        raise PayoutError("提现申请不存在", "not_found")
    if withdrawal.status != W.requested:
        raise PayoutError(f"该提现{withdrawal.status.label}，不能撤回", "decided")
    withdrawal.status = W.cancelled
    db.session.commit()
    return withdrawal


# --- the transfer -----------------------------------------------------------------------------

def execute(withdrawal_id: int) -> str:
    """Send an approved withdrawal's transfer and settle it. Idempotent; raises
    PayoutUnavailable when the custodian did not answer (the job is retried, and the periodic
    reconciliation asks the custodian)."""
    withdrawal = db.session.get(Withdrawal, withdrawal_id)
    if withdrawal is None or withdrawal.status != W.released:
        db.session.rollback()
        return withdrawal.status.value if withdrawal else "missing"
    payee = db.session.get(Payee, withdrawal.payee_id)
    request = TransferRequest(
        transfer_id=withdrawal.transfer_id, amount_fen=withdrawal.amount_fen,
        payee_kind=withdrawal.payee_kind, account_name=payee.account_name,
        account_number=payee.account_number, bank_name=payee.bank_name,
        branch_code=payee.branch_code or "", memo=f"相助筹款{withdrawal.campaign_id}提现")
    db.session.rollback()  # hold no transaction (nor lock) while the custodian works
    result = get_payout_provider().transfer(request)
    return settle(withdrawal_id, result)


def settle(withdrawal_id: int, result: TransferResult) -> str:
    """Record what the custodian says about a released withdrawal's transfer, once."""
    campaign_id = campaign_of(withdrawal_id)
    campaign = lock_campaign(campaign_id)
    withdrawal = locked(withdrawal_id)
    if withdrawal.status != W.released:  # settled before (a repeated job or a twin)
        db.session.rollback()
        return withdrawal.status.value
    if result.state == "processing":     # the custodian is still on it: reconcile later
        db.session.rollback()
        return "processing"
    now = utcnow()
    if result.state == "succeeded" and result.amount_fen == withdrawal.amount_fen:
        if custody_balance(campaign_id) < withdrawal.amount_fen:  # cannot happen: reserved
            db.session.rollback()
            raise RuntimeError(f"withdrawal {withdrawal_id} would overdraw campaign custody")
        post(SOURCE_WITHDRAWAL, str(withdrawal.id),
             [Leg(campaign_custody(campaign_id), -withdrawal.amount_fen),
              Leg(PAYOUT_CLEARING, withdrawal.amount_fen)],
             memo=f"提现至{_payee_label(withdrawal)} · {withdrawal.purpose}"[:200])
        withdrawal.status, withdrawal.paid_at = W.paid, now
        withdrawal.custodian_ref = result.custodian_ref
        telling.paid(withdrawal)
    else:
        withdrawal.status = W.failed
        withdrawal.custodian_ref = result.custodian_ref
        withdrawal.failure = (result.message or "托管机构转账失败")[:300]
        telling.failed(withdrawal)
    log.info("withdrawal %s of campaign %s: %s", withdrawal_id, campaign.id,
             withdrawal.status.value)
    db.session.commit()
    send_told()
    return withdrawal.status.value


def reconcile(older_than: timedelta = RECONCILE_AFTER) -> dict[str, int]:
    """Released withdrawals still unsettled: ask the custodian, settle what it knows, send
    again (same transfer id) what it never saw. Safe to run at any time, in any number."""
    cutoff = utcnow() - older_than
    ids = db.session.scalars(select(Withdrawal.id).where(
        Withdrawal.status == W.released, Withdrawal.released_at <= cutoff)
        .order_by(Withdrawal.id)).all()
    db.session.rollback()
    counts: dict[str, int] = {}
    provider = get_payout_provider()
    for withdrawal_id in ids:
        transfer_id = transfer_id_of(withdrawal_id)
        try:
            known = provider.query(transfer_id)
            outcome = settle(withdrawal_id, known) if known else execute(withdrawal_id)
        except PayoutUnavailable as error:
            log.warning("reconcile withdrawal %s: %s", withdrawal_id, error)
            db.session.rollback()
            outcome = "unavailable"
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


# --- helpers ----------------------------------------------------------------------------------

def check_can_pay(campaign: Campaign) -> None:
    if campaign.status in STATUS_REFUSALS:
        raise PayoutError(STATUS_REFUSALS[campaign.status], "campaign_" + campaign.status.value)
    if campaign.status not in (S.live, S.ended):
        raise PayoutError(f"筹款{campaign.status.label}，还不能提现", "not_public")


def verified_payee(campaign_id: int) -> Payee:
    payee = db.session.scalar(select(Payee).where(Payee.campaign_id == campaign_id))
    if payee is None or payee.status != IdentityStatus.verified:
        raise PayoutError("收款账户尚未通过财务核实，暂不能提现。请先在“证明材料、收款人”中"
                          "填写收款人并等待核实", "payee_unverified")
    return payee


def _payee_label(withdrawal: Withdrawal) -> str:
    return {"hospital": "医院对公账户", "patient": "患者本人账户",
            "family": "患者家属账户"}.get(withdrawal.payee_kind, "收款账户")


def campaign_of(withdrawal_id: int) -> int:
    campaign_id = db.session.scalar(select(Withdrawal.campaign_id)
                                    .where(Withdrawal.id == withdrawal_id))
    if campaign_id is None:
        raise PayoutError("提现申请不存在", "not_found")
    return campaign_id


def locked(withdrawal_id: int) -> Withdrawal:
    withdrawal = db.session.scalars(
        select(Withdrawal).where(Withdrawal.id == withdrawal_id).with_for_update(of=Withdrawal)
        .execution_options(populate_existing=True)).one_or_none()
    if withdrawal is None:
        raise PayoutError("提现申请不存在", "not_found")
    return withdrawal
