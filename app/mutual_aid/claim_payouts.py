"""Paying a claim's awarded money to its payee, with four eyes and exactly once.

Finance releases what the claim's account holds (countersigned by a second finance person from
PAYOUT_SECOND_APPROVAL_FEN); the reviewer who approved the claim is signed in as its approver,
so payouts' signoff constraints keep the approver from releasing or countersigning it. A bank
payout is sent after the commit in a job, to the custodian under the transfer id XZMA…
(idempotent), and settled by its answer — or, while it answers "processing" (a bank batch
awaiting its result file), by the reconciler asking again. A WeChat payout is a 商家转账 made in
the release's transaction; its settlement (app/payouts/transfers.py) settles the payout.

    plan_claim_payout   plan_claim:<id>:custody → custodian:plan_payout_clearing   (bank paid)
    wechat_transfer     plan_claim:<id>:custody → the transfer clearing            (on release)
"""
from __future__ import annotations

import logging
from datetime import timedelta

from dataclasses import dataclass

from sqlalchemy import func, select

from app.auth.models import StaffAccount
from app.extensions import db
from app.ledger.services import Leg, balance, post
from app.models_base import as_utc, format_yuan, utcnow
from app.mutual_aid import audit
from app.mutual_aid.accounts import PAYOUT_CLEARING, claim_payable
from app.mutual_aid.claim_payees import (PAYEE_STATUSES, finance, locked_claim, open_payout,
                                         payee_of)
from app.mutual_aid.models import Claim, ClaimStatus
from app.mutual_aid.money_models import RoundItem
from app.mutual_aid.payout_models import (OPEN_PAYOUTS, ClaimPayee, ClaimPayout, PayeeKind,
                                          PayeeStatus, PayoutState)
from app.mutual_aid.services import MutualAidError, notify, real_name
from app.payouts import approvals, transfers
from app.payouts.approvals import Step
from app.payouts.errors import PayoutError, RetryLater
from app.payouts.funds import lock_account
from app.payouts.provider import (PayoutUnavailable, TransferRequest, TransferResult,
                                  get_payout_provider)
from app.payouts.transfer_models import PersonTransfer
from app.payouts.withdrawal_decisions import second_approval_from_fen

log = logging.getLogger(__name__)
P = PayoutState
SUBJECT = "claim_payout"
SOURCE_PAID = "plan_claim_payout"
TRANSFER_PURPOSE = "claim_payout"
RECONCILE_AFTER = timedelta(minutes=2)
PAYABLE_STATUSES = (ClaimStatus.awarded,)
BANK_PAYEE_KINDS = {PayeeKind.member: "patient", PayeeKind.hospital: "hospital"}


def transfer_id_of(payout_id: int) -> str:
    return f"XZMA{payout_id:012d}"


def payable_fen(claim_id: int) -> int:
    return balance(claim_payable(claim_id))


def needs_countersign(amount_fen: int) -> bool:
    return amount_fen >= second_approval_from_fen()


def waiting_for(claim: Claim) -> str:
    """Whose move it is, for the console: claimant, verify, countersign, release, transfer, ''."""
    payout = open_payout(claim.id)
    if payout is not None:
        return "release" if payout.status == P.approved else "transfer"
    if claim.status not in PAYABLE_STATUSES or payable_fen(claim.id) <= 0:
        return ""
    payee = payee_of(claim.id)
    if payee is None or payee.status == PayeeStatus.rejected:
        return "claimant"
    if payee.status == PayeeStatus.pending:
        return "verify"
    return "countersign" if needs_countersign(payable_fen(claim.id)) else "release"


# --- finance's steps -------------------------------------------------------------------------

def countersign(claim_id: int, staff: StaffAccount, reason: str = "") -> ClaimPayout:
    """A large payout's second finance approval: it fixes the amount; another person releases."""
    claim, amount = _payable(claim_id, staff, "只有财务人员可以复核互助金打款")
    try:
        if open_payout(claim.id) is not None:
            raise MutualAidError("该病例已有一笔打款在处理中", "payout_open")
        if not needs_countersign(amount):
            raise MutualAidError(f"¥{format_yuan(second_approval_from_fen())} 以下的打款无需复核",
                                 "no_countersign")
        payout = _new_payout(claim, amount, P.approved)
        _sign(claim, payout, Step.countersign, staff, reason)
        audit.record("claim_payout_countersigned", "claim", claim.id,
                     f"打款 #{payout.id} ¥{format_yuan(amount)}" + (f"：{reason}" if reason else ""),
                     staff=staff)
        db.session.commit()
    except MutualAidError:
        db.session.rollback()
        raise
    return payout


def release(claim_id: int, staff: StaffAccount, reason: str = "") -> ClaimPayout:
    """Finance lets the claim's money go to its payee: never the person who approved the claim
    (nor who countersigned it). Releasing twice pays once: the second finds it in flight."""
    claim, amount = _payable(claim_id, staff, "只有财务人员可以放款")
    transfer = None
    try:
        payout = open_payout(claim.id)
        if payout is None:
            if needs_countersign(amount):
                raise MutualAidError(f"¥{format_yuan(second_approval_from_fen())} 及以上的打款需"
                                     "另一位财务复核后才能放款", "countersign_missing")
            payout = _new_payout(claim, amount, P.released)
        elif payout.amount_fen > amount:   # cannot happen: only payouts take from the account
            raise MutualAidError("病例账户余额不足", "over_balance")
        _sign(claim, payout, Step.release, staff, reason)
        payout.status = P.released
        payout.released_by_id, payout.released_at = staff.id, utcnow()
        if payout.by_wechat:
            transfer = _start_wechat_transfer(claim, payout)
            payout.transfer_id = transfer.out_bill_no
        else:
            payout.transfer_id = transfer_id_of(payout.id)
        claim.status = ClaimStatus.paying
        audit.record("claim_payout_released", "claim", claim.id,
                     f"打款 #{payout.id} ¥{format_yuan(payout.amount_fen)} 至"
                     f"{_payee_words(payout)}" + (f"：{reason}" if reason else ""), staff=staff)
        db.session.commit()
    except MutualAidError:
        db.session.rollback()
        raise
    if transfer is not None:
        transfers.enqueue_send(transfer.id)
    else:
        enqueue_payout(payout.id)
    return payout


def _payable(claim_id: int, staff, refusal: str) -> tuple[Claim, int]:
    """The claim locked (then its account), with a verified payee and money to pay."""
    try:
        finance(staff, refusal)
        claim = locked_claim(claim_id)
        lock_account(claim_payable(claim.id))
        payout = open_payout(claim.id)
        if payout is not None and payout.status == P.released:
            raise MutualAidError("该笔互助金已放款，不会重复打款", "already_released")
        if claim.status not in PAYABLE_STATUSES:
            raise MutualAidError(f"该申请{claim.status.label}，没有待打款的互助金", "not_payable")
        amount = payable_fen(claim.id)
        if amount <= 0:
            raise MutualAidError("病例账户中没有待打款的互助金", "nothing_payable")
        payee = payee_of(claim.id)
        if payee is None or payee.status != PayeeStatus.verified:
            raise MutualAidError("收款账户尚未通过财务核实", "payee_unverified")
    except MutualAidError:
        db.session.rollback()
        raise
    return claim, amount


def _new_payout(claim: Claim, amount: int, status: PayoutState) -> ClaimPayout:
    payee = payee_of(claim.id)
    payout = ClaimPayout(claim_id=claim.id, amount_fen=amount, payee_kind=payee.kind.value,
                         payee_last4=payee.account_last4, status=status)
    db.session.add(payout)
    db.session.flush()
    # The claim's approver signs in as this payout's approver, so nobody can both approve the
    # case and let its money go: the signoffs' unique constraints decide.
    approver = db.session.get(StaffAccount, claim.decided_by_id or 0)
    if approver is None:
        raise MutualAidError("找不到审核通过该申请的工作人员", "no_approver")
    _sign(claim, payout, Step.approve, approver, claim.decision_reason or "互助申请审核通过")
    return payout


def _sign(claim: Claim, payout: ClaimPayout, step: Step, staff: StaffAccount,
          reason: str) -> None:
    try:
        signoff = approvals.sign(SUBJECT, payout.id, step, staff, reason)
    except PayoutError as refused:
        raise MutualAidError(refused.message, refused.code) from refused
    if step == Step.approve:
        signoff.signed_at = claim.decided_at


def _start_wechat_transfer(claim: Claim, payout: ClaimPayout) -> PersonTransfer:
    if not transfers.enabled():
        raise MutualAidError("微信转账未开通，请申请人改填银行账户", "wechat_disabled")
    try:
        with db.session.begin_nested():
            return transfers.start_transfer(TRANSFER_PURPOSE, str(payout.id), claim.user_id,
                                            payout.amount_fen, claim_payable(claim.id),
                                            "相助互助金")
    except PayoutError as refused:
        raise MutualAidError(f"微信零钱无法收款（{refused.message}），请申请人改填银行账户",
                             refused.code) from refused


def real_name_for_transfer(payout_ref: str) -> str:
    """WeChat checks the recipient's real name from ¥2,000: the member's, when it is theirs."""
    payout = db.session.get(ClaimPayout, int(payout_ref))
    membership = payout.claim.membership if payout else None
    return real_name(membership) if membership and membership.relation == "self" else ""


# --- the transfer ----------------------------------------------------------------------------

def enqueue_payout(payout_id: int) -> None:
    from app.payouts.tasks import enqueue_retried

    enqueue_retried(execute_payout_job, payout_id)


def execute_payout_job(payout_id: int) -> str:
    try:
        return execute(payout_id)
    except PayoutUnavailable as error:
        db.session.rollback()
        raise RetryLater(f"claim payout {payout_id}: {error}") from error


def execute(payout_id: int) -> str:
    """Send a released bank payout to the custodian and settle its answer. Idempotent by the
    transfer id; PayoutUnavailable propagates (the job is retried, the reconciler asks)."""
    payout = db.session.get(ClaimPayout, payout_id)
    if payout is None or payout.status != P.released or payout.by_wechat:
        db.session.rollback()
        return payout.status.value if payout else "missing"
    payee = payee_of(payout.claim_id)
    request = TransferRequest(
        transfer_id=payout.transfer_id, amount_fen=payout.amount_fen,
        payee_kind=BANK_PAYEE_KINDS[payee.kind], account_name=payee.account_name,
        account_number=payee.account_number, bank_name=payee.bank_name,
        memo=f"相助互助金 病例{payout.claim_id}")
    db.session.rollback()   # no transaction (nor lock) held while the custodian works
    return settle(payout_id, get_payout_provider().transfer(request))


def settle(payout_id: int, result: TransferResult) -> str:
    """Record what the custodian says about a released bank payout, once."""
    claim_id = db.session.scalar(select(ClaimPayout.claim_id).where(ClaimPayout.id == payout_id))
    if claim_id is None:
        db.session.rollback()
        return "missing"
    claim = locked_claim(claim_id)
    payout = db.session.get(ClaimPayout, payout_id, with_for_update=True, populate_existing=True)
    if payout.status != P.released or payout.by_wechat:
        db.session.rollback()
        return payout.status.value
    if result.state not in ("succeeded", "failed"):   # processing: the reconciler asks again
        db.session.rollback()
        return "processing"
    payout.custodian_ref = (result.custodian_ref or "")[:64]
    if result.state == "succeeded" and result.amount_fen == payout.amount_fen:
        post(SOURCE_PAID, payout.transfer_id,
             [Leg(claim_payable(claim.id), -payout.amount_fen),
              Leg(PAYOUT_CLEARING, payout.amount_fen)],
             memo=f"互助金打款至{_payee_words(payout)}（病例 {claim.id}）"[:200])
        _paid(claim, payout)
    else:
        _failed(claim, payout, result.message or "托管机构转账失败")
    status = payout.status.value
    db.session.commit()
    return status


def on_transfer_settled(transfer: PersonTransfer, succeeded: bool) -> None:
    """Payouts settled a claim's 商家转账 (its own postings moved the money: out, or back into
    the claim's account); in that transaction the payout and the claim follow."""
    payout_id = int(transfer.purpose_ref)
    claim_id = db.session.scalar(select(ClaimPayout.claim_id).where(ClaimPayout.id == payout_id))
    claim = locked_claim(claim_id)   # the claim first, then its payout, as settle does
    payout = db.session.get(ClaimPayout, payout_id, with_for_update=True, populate_existing=True)
    if payout.status != P.released:
        return
    payout.custodian_ref = (transfer.transfer_bill_no or "")[:64]
    if succeeded:
        _paid(claim, payout)
    else:
        _failed(claim, payout, f"微信转账未到账：{transfer.fail_reason}")


def _paid(claim: Claim, payout: ClaimPayout) -> None:
    payout.status, payout.settled_at = P.paid, utcnow()
    # More may have come meanwhile (late shares): then the claim waits for its next payout.
    claim.status = ClaimStatus.paid if payable_fen(claim.id) <= 0 else ClaimStatus.awarded
    audit.record("claim_payout_paid", "claim", claim.id,
                 f"打款 #{payout.id} ¥{format_yuan(payout.amount_fen)} 已到{_payee_words(payout)}")
    notify(claim.user_id, "claim_paid",
           f"{claim.membership.name_masked} 的互助金 ¥{format_yuan(payout.amount_fen)} 已打款至"
           f"{_payee_words(payout)}。")


def _failed(claim: Claim, payout: ClaimPayout, reason: str) -> None:
    payout.status, payout.settled_at = P.failed, utcnow()
    payout.failure = reason[:300]
    claim.status = ClaimStatus.awarded
    audit.record("claim_payout_failed", "claim", claim.id, f"打款 #{payout.id}：{payout.failure}")
    notify(claim.user_id, "claim_payout_failed",
           f"{claim.membership.name_masked} 的互助金 ¥{format_yuan(payout.amount_fen)} 未能打出："
           f"{payout.failure}。款项仍在病例账户中，请核对收款账户，财务会重新打款。")


def _payee_words(payout: ClaimPayout) -> str:
    if payout.by_wechat:
        return "申请人的微信零钱"
    label = "医院对公账户" if payout.payee_kind == PayeeKind.hospital.value else "会员本人账户"
    return f"{label}（尾号 {payout.payee_last4}）"


def reconcile(older_than: timedelta = RECONCILE_AFTER) -> dict[str, int]:
    """Released bank payouts still unsettled: ask the custodian about each (a bank batch answers
    once its result file is in), settle what it knows, send again (same transfer id) what it
    never saw once `older_than` has passed. WeChat payouts settle with their transfers."""
    cutoff = utcnow() - older_than
    rows = db.session.execute(select(ClaimPayout.id, ClaimPayout.released_at).where(
        ClaimPayout.status == P.released, ClaimPayout.payee_kind != PayeeKind.wechat.value)
        .order_by(ClaimPayout.id)).all()
    db.session.rollback()
    counts: dict[str, int] = {}
    provider = get_payout_provider() if rows else None
    for payout_id, released_at in rows:
        try:
            known = provider.query(transfer_id_of(payout_id))
            if known is not None:
                outcome = settle(payout_id, known)
            elif as_utc(released_at) <= cutoff:
                outcome = execute(payout_id)
            else:
                outcome = "sending"
        except PayoutUnavailable as error:
            log.warning("reconcile claim payout %s: %s", payout_id, error)
            db.session.rollback()
            outcome = "unavailable"
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


# --- reading ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class ClaimMoney:
    """The claim page's truth: distributed to the claim, paid, in flight, still payable."""
    awarded_fen: int
    paid_fen: int
    sending_fen: int
    payable_fen: int
    payee: ClaimPayee | None
    payouts: list[ClaimPayout]
    can_name: bool


def money_of(claim: Claim) -> ClaimMoney:
    payouts = payouts_of(claim.id)
    awarded = db.session.scalar(select(func.coalesce(func.sum(RoundItem.distributed_fen), 0))
                                .where(RoundItem.claim_id == claim.id))
    sending = sum(p.amount_fen for p in payouts if p.status == P.released)
    return ClaimMoney(
        awarded_fen=int(awarded), paid_fen=sum(p.amount_fen for p in payouts if p.status == P.paid),
        sending_fen=sending, payable_fen=payable_fen(claim.id), payee=payee_of(claim.id),
        payouts=payouts, can_name=claim.status in PAYEE_STATUSES and not any(
            p.status in OPEN_PAYOUTS for p in payouts))


def payouts_of(claim_id: int) -> list[ClaimPayout]:
    return list(db.session.scalars(select(ClaimPayout).where(ClaimPayout.claim_id == claim_id)
                                   .order_by(ClaimPayout.id.desc())))


def claims_to_pay() -> list[Claim]:
    """Claims with awarded money not yet paid, or a payout in flight (the finance console)."""
    return list(db.session.scalars(select(Claim).where(
        Claim.status.in_((ClaimStatus.awarded, ClaimStatus.paying))).order_by(Claim.id)))
