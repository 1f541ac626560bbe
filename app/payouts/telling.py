"""What money out tells, and to whom (app/notices), in the caller's transaction: the organizer
hears a withdrawal approved, paid, failed or rejected; donors hear where the money went once
it is paid (unless they muted the campaign) and their own refund after a termination."""
from __future__ import annotations

from app.campaigns.models import Campaign
from app.extensions import db
from app.models_base import format_yuan
from app.notices.services import Message, campaign_audience, tell, tell_many
from app.payouts.models import Withdrawal

KIND = "withdrawal"
PAYEE_LABELS = {"hospital": "医院对公账户", "patient": "患者本人账户", "family": "患者家属账户"}


def _title(campaign_id: int) -> str:
    return db.session.get(Campaign, campaign_id).title


def _to_organizer(withdrawal: Withdrawal, state: str, title: str, body: str, phrase: str,
                  note: str) -> None:
    tell(withdrawal.organizer_id, f"withdrawal_{state}:{withdrawal.id}", Message(
        KIND, title, body, f"/c/{withdrawal.campaign_id}/withdraw", "withdrawal_status",
        {"thing1": _title(withdrawal.campaign_id),
         "amount2": f"¥{format_yuan(withdrawal.amount_fen)}", "phrase3": phrase,
         "thing4": note}))


def approved(withdrawal: Withdrawal) -> None:
    amount = format_yuan(withdrawal.amount_fen)
    _to_organizer(withdrawal, "approved", "提现审核通过",
                  f"¥{amount} 的提现已审核通过，财务放款后将转入尾号 {withdrawal.payee_last4} 的账户。",
                  "审核通过", "等待财务放款")


def rejected(withdrawal: Withdrawal, reason: str) -> None:
    amount = format_yuan(withdrawal.amount_fen)
    _to_organizer(withdrawal, "rejected", "提现申请未通过",
                  f"¥{amount} 的提现未通过：{reason}", "未通过", reason)


def failed(withdrawal: Withdrawal) -> None:
    amount = format_yuan(withdrawal.amount_fen)
    _to_organizer(withdrawal, "failed", "提现转账失败",
                  f"¥{amount} 未能转出：{withdrawal.failure}。款项仍在监管账户中，可重新申请。",
                  "转账失败", withdrawal.failure)


def paid(withdrawal: Withdrawal) -> None:
    amount = format_yuan(withdrawal.amount_fen)
    payee = PAYEE_LABELS.get(withdrawal.payee_kind, "收款账户")
    _to_organizer(withdrawal, "paid", "提现已到账",
                  f"¥{amount} 已转入尾号 {withdrawal.payee_last4} 的账户。请上传收据，以便向捐款人公示。",
                  "已到账", "请上传收据向捐款人公示")
    title = _title(withdrawal.campaign_id)
    donors = [user_id for user_id in campaign_audience("donors", withdrawal.campaign_id)
              if user_id != withdrawal.organizer_id]
    tell_many(donors, f"funds_disbursed:{withdrawal.id}", Message(
        "campaign", "善款已拨付", f"您帮助过的“{title}”有 ¥{amount} 善款已从监管账户拨付至{payee}"
        f"（{withdrawal.purpose}），明细见筹款页的资金公示。", f"/c/{withdrawal.campaign_id}",
        "funds_disbursed", {"thing1": title, "amount2": f"¥{amount}", "thing3": payee}),
        unless_muted=withdrawal.campaign_id)


def refunded(user_id: int, refund_id: int, campaign_id: int, amount_fen: int) -> None:
    amount = format_yuan(amount_fen)
    tell(user_id, f"refund_paid:{refund_id}", Message(
        "refund", "捐款已按比例退回", f"您捐助的筹款已终止，¥{amount} 已原路退回微信支付。",
        "/me/refunds", "refund_done",
        {"thing1": _title(campaign_id), "amount2": f"¥{amount}", "thing3": "已原路退回微信支付"}))
