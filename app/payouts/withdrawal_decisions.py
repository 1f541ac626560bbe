"""Who lets a withdrawal go: four eyes, never one person twice (app/payouts/approvals.py).

    the organizer asks          → requested
    a reviewer approves it       → approved     against the documents (invoices approved with it)
    finance countersigns         →              only from SECOND_APPROVAL_FEN (default ¥50,000)
    finance releases it          → released     the transfer job is enqueued after the commit

Each step locks the campaign and then the withdrawal (one lock order), signs its step, writes
the audit log with who and why, and commits once. A reviewer or finance may reject it with a
reason at any step before release. The balance is checked again at release: it is what leaves.
"""
from __future__ import annotations

from flask import current_app
from sqlalchemy import update

from app.auth.models import StaffAccount, StaffRole
from app.core.audit import record_audit
from app.core.reasons import ReasonRefused, clean_reason
from app.extensions import db
from app.models_base import format_yuan, utcnow
from app.notices.services import send_told
from app.payouts import approvals, telling
from app.payouts.approvals import Step
from app.payouts.errors import PayoutError
from app.payouts.funds import custody_balance, lock_campaign, unsettled_refunds, withdrawals_total
from app.payouts.models import (DocKind, DocStatus, PayoutDocument, Withdrawal,
                                WithdrawalStatus)
from app.payouts.withdrawals import (campaign_of, check_can_pay, locked, transfer_id_of,
                                     verified_payee)

W = WithdrawalStatus
SUBJECT = "withdrawal"
REASON_MAX = 500
SECOND_APPROVAL_FEN = 50_000_00
REVIEWERS = (StaffRole.reviewer,)
FINANCE = (StaffRole.finance,)


def second_approval_from_fen() -> int:
    return int(current_app.config.get("PAYOUT_SECOND_APPROVAL_FEN", SECOND_APPROVAL_FEN))


def needs_countersign(withdrawal: Withdrawal) -> bool:
    return withdrawal.amount_fen >= second_approval_from_fen()


def waiting_for(withdrawal: Withdrawal) -> str:
    """Whose move it is, for the console: reviewer, countersign, release or '' (nobody's)."""
    if withdrawal.status == W.requested:
        return "review"
    if withdrawal.status != W.approved:
        return ""
    if needs_countersign(withdrawal) and not approvals.signed(SUBJECT, withdrawal.id,
                                                              Step.countersign):
        return "countersign"
    return "release"


def approve_withdrawal(withdrawal_id: int, staff: StaffAccount, reason: str = "") -> Withdrawal:
    """A reviewer: requested → approved, its invoices approved with it. Nothing moves yet."""
    staff = _staff(staff, REVIEWERS, "只有审核员可以审核提现")
    reason = _reason(reason, required=False)
    withdrawal = _open(withdrawal_id, (W.requested,))
    _check_payable(withdrawal)
    _sign(withdrawal, Step.approve, staff, reason)
    now = utcnow()
    db.session.execute(update(PayoutDocument).where(
        PayoutDocument.withdrawal_id == withdrawal.id, PayoutDocument.kind == DocKind.invoice,
        PayoutDocument.status == DocStatus.pending)
        .values(status=DocStatus.approved, decided_by_id=staff.id, decided_at=now))
    withdrawal.status = W.approved
    withdrawal.decided_by_id, withdrawal.decided_at = staff.id, now
    withdrawal.decision_reason = reason
    record_audit(staff, "withdrawal.approve", SUBJECT, withdrawal.id,
                 before={"status": W.requested},
                 after={"status": W.approved, "amount_fen": withdrawal.amount_fen},
                 reason=reason, campaign_id=withdrawal.campaign_id)
    telling.approved(withdrawal)
    db.session.commit()
    send_told()
    return withdrawal


def countersign_withdrawal(withdrawal_id: int, staff: StaffAccount,
                           reason: str = "") -> Withdrawal:
    """Finance's second approval of a large withdrawal, by someone who did not approve it."""
    staff = _staff(staff, FINANCE, "只有财务人员可以复核提现")
    reason = _reason(reason, required=False)
    withdrawal = _open(withdrawal_id, (W.approved,))
    if not needs_countersign(withdrawal):
        db.session.rollback()
        raise PayoutError(f"¥{format_yuan(second_approval_from_fen())} 以下的提现无需复核",
                          "no_countersign")
    _sign(withdrawal, Step.countersign, staff, reason)
    record_audit(staff, "withdrawal.countersign", SUBJECT, withdrawal.id,
                 before={"status": W.approved}, after={"status": W.approved},
                 reason=reason, campaign_id=withdrawal.campaign_id)
    db.session.commit()
    return withdrawal


def release_withdrawal(withdrawal_id: int, staff: StaffAccount, reason: str = "") -> Withdrawal:
    """Finance lets the money go: approved (and countersigned when large) → released; the
    transfer follows in a job. A second release is refused: the money goes out once."""
    staff = _staff(staff, FINANCE, "只有财务人员可以放款")
    reason = _reason(reason, required=False)
    withdrawal = _open(withdrawal_id, (W.approved,))
    if waiting_for(withdrawal) == "countersign":
        db.session.rollback()
        raise PayoutError(f"¥{format_yuan(second_approval_from_fen())} 及以上的提现需另一位财务"
                          "复核后才能放款", "countersign_missing")
    _check_payable(withdrawal)
    _sign(withdrawal, Step.release, staff, reason)
    withdrawal.status = W.released
    withdrawal.transfer_id = transfer_id_of(withdrawal.id)
    withdrawal.released_by_id, withdrawal.released_at = staff.id, utcnow()
    record_audit(staff, "withdrawal.release", SUBJECT, withdrawal.id,
                 before={"status": W.approved},
                 after={"status": W.released, "amount_fen": withdrawal.amount_fen,
                        "transfer_id": withdrawal.transfer_id},
                 reason=reason, campaign_id=withdrawal.campaign_id)
    db.session.commit()
    from app.payouts.tasks import enqueue_withdrawal

    enqueue_withdrawal(withdrawal.id)  # after the commit: the transfer job finds it released
    return withdrawal


def reject_withdrawal(withdrawal_id: int, staff: StaffAccount, reason: str) -> Withdrawal:
    staff = _staff(staff, REVIEWERS + FINANCE, "只有审核员或财务人员可以驳回提现")
    reason = _reason(reason, required=True)
    withdrawal = _open(withdrawal_id, (W.requested, W.approved))
    before = withdrawal.status
    withdrawal.status = W.rejected
    withdrawal.decided_by_id, withdrawal.decided_at = staff.id, utcnow()
    withdrawal.decision_reason = reason
    record_audit(staff, "withdrawal.reject", SUBJECT, withdrawal.id,
                 before={"status": before}, after={"status": W.rejected}, reason=reason,
                 campaign_id=withdrawal.campaign_id)
    telling.rejected(withdrawal, reason)
    db.session.commit()
    send_told()
    return withdrawal


# --- helpers ----------------------------------------------------------------------------------

def _open(withdrawal_id: int, statuses: tuple[WithdrawalStatus, ...]) -> Withdrawal:
    lock_campaign(campaign_of(withdrawal_id))  # campaign first, then the withdrawal
    withdrawal = locked(withdrawal_id)
    if withdrawal.status in statuses:
        return withdrawal
    db.session.rollback()
    if withdrawal.status in (W.released, W.paid):
        raise PayoutError("该提现已放款，不会重复打款", "already_released")
    raise PayoutError(f"该提现{withdrawal.status.label}，不能再处理", "decided")


def _sign(withdrawal: Withdrawal, step: Step, staff: StaffAccount, reason: str) -> None:
    try:
        approvals.sign(SUBJECT, withdrawal.id, step, staff, reason)
    except PayoutError:
        db.session.rollback()
        raise


def _check_payable(withdrawal: Withdrawal) -> None:
    """The campaign may pay, the payee is the one asked for, and custody holds the money."""
    try:
        check_can_pay(withdrawal.campaign)
        payee = verified_payee(withdrawal.campaign_id)
        if payee.id != withdrawal.payee_id or payee.account_last4 != withdrawal.payee_last4:
            raise PayoutError("申请后收款账户已变更，请发起人重新申请提现", "payee_changed")
        in_flight = withdrawals_total(withdrawal.campaign_id, (W.released,),
                                      exclude_id=withdrawal.id)
        spendable = (custody_balance(withdrawal.campaign_id) - in_flight
                     - unsettled_refunds(withdrawal.campaign_id))
        if withdrawal.amount_fen > spendable:
            raise PayoutError(f"监管账户余额不足（可用 ¥{format_yuan(max(0, spendable))}）",
                              "over_balance")
    except PayoutError:
        db.session.rollback()
        raise


def _staff(staff: StaffAccount, roles: tuple[StaffRole, ...], refusal: str) -> StaffAccount:
    if not isinstance(staff, StaffAccount) or not staff.active or not staff.has_role(*roles):
        raise PayoutError(refusal, "forbidden")
    return staff


def _reason(reason: str | None, required: bool) -> str:
    try:
        return clean_reason(reason, required, REASON_MAX)
    except ReasonRefused as refused:
        raise PayoutError(refused.message, refused.code) from refused
