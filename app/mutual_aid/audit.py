"""The plan's decisions (staff, member or system) in the platform's audit log (app/core/audit.py):
actions are written `mutual_aid.<action>` on targets `mutual_aid_<subject>`, so the plan's staff
pages read their own history from the one log that lists every decision."""
from __future__ import annotations

from app.core.audit import AuditEntry, record_audit

ACTION_PREFIX = "mutual_aid."
TARGET_PREFIX = "mutual_aid_"

MUTUAL_AID_AUDIT_LABELS = {
    f"{ACTION_PREFIX}{action}": label for action, label in {
        "join": "加入互助计划",
        "rejoin": "补缴后恢复会员资格",
        "waiting": "会员进入观察期",
        "active": "会员进入保障期",
        "suspended": "会员暂停",
        "left": "会员退出",
        "removed": "移除会员",
        "claim_submitted": "提交互助申请",
        "claim_approved": "互助申请通过",
        "claim_rejected": "互助申请驳回",
        "claim_waiting_refund": "互助申请待退还",
        "claim_revoked": "互助申请撤销",
        "claim_confirmed": "互助申请公示期满",
        "objection_filed": "提出公示异议",
        "objection_upheld": "异议成立",
        "objection_dismissed": "异议不成立",
        "round_announced": "公布分摊",
        "round_computed": "计算分摊",
        "round_cancelled": "取消分摊",
        "round_closed": "分摊宽限期结束",
        "round_closed_early": "提前结束缴费并打款",
        "round_distributed": "划拨互助金",
        "claim_payee_named": "填写互助金收款账户",
        "claim_payee_verified": "核实互助金收款账户",
        "claim_payee_rejected": "收款账户未通过核实",
        "claim_payout_countersigned": "财务复核互助金打款",
        "claim_payout_released": "财务放款互助金",
        "claim_payout_paid": "互助金已打款",
        "claim_payout_failed": "互助金打款失败",
        "wallet_refund_requested": "申请余额退款",   # the removed wallet's, kept for history
        "wallet_refund_paid": "余额退款已打款",
    }.items()}

MUTUAL_AID_AUDIT_TARGETS = {
    f"{TARGET_PREFIX}{subject}": label for subject, label in {
        "claim": "互助申请", "membership": "互助会员", "objection": "公示异议", "round": "分摊",
    }.items()}


def record(action: str, subject_type: str, subject_id: int, reason: str = "", *,
           staff=None, user_id: int | None = None) -> AuditEntry:
    """Add an audit row to the current transaction (the caller's service commits)."""
    return record_audit(staff, f"{ACTION_PREFIX}{action}", f"{TARGET_PREFIX}{subject_type}"[:32],
                        int(subject_id), reason=reason or "", actor_user_id=user_id)
