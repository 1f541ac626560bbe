"""What 我的筹款 shows of money out: 申请提现, the latest withdrawals and their state, the
hospital's receipt still to upload after a payout, the leftover statement (剩余善款说明) of
an ended campaign and its 资金公示. One query per kind for all of an organizer's campaigns (registered with
app.campaigns.dashboard)."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from flask import url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.campaigns.dashboard import DashboardItem
from app.campaigns.models import Campaign, CampaignStatus
from app.extensions import db
from app.models_base import format_yuan
from app.payouts.models import DocStatus, LeftoverStatement, Withdrawal, WithdrawalStatus

S = CampaignStatus
W = WithdrawalStatus
MONEY_STATUSES = frozenset({S.live, S.frozen, S.ended, S.terminated})
WITHDRAWABLE = frozenset({S.live, S.ended})
WITHDRAWALS_SHOWN = 3


def dashboard_items(campaigns: Sequence[Campaign]) -> dict[int, list[DashboardItem]]:
    ids = [c.id for c in campaigns if c.status in MONEY_STATUSES]
    if not ids:
        return {}
    withdrawals: dict[int, list[Withdrawal]] = defaultdict(list)
    for withdrawal in db.session.scalars(
            select(Withdrawal).where(Withdrawal.campaign_id.in_(ids))
            .options(selectinload(Withdrawal.documents))
            .order_by(Withdrawal.id.desc())):
        withdrawals[withdrawal.campaign_id].append(withdrawal)
    ended = [c.id for c in campaigns if c.status == S.ended]
    stated = set(db.session.scalars(select(LeftoverStatement.campaign_id).where(
        LeftoverStatement.campaign_id.in_(ended)))) if ended else set()
    items: dict[int, list[DashboardItem]] = {}
    for campaign in campaigns:
        if campaign.id not in ids:
            continue
        page = url_for("payouts.withdraw", campaign_id=campaign.id)
        found: list[DashboardItem] = []
        if campaign.status in WITHDRAWABLE:
            found.append(DashboardItem("action", "申请提现", page, order=15))
        for withdrawal in withdrawals[campaign.id]:
            if withdrawal.status == W.paid and not _receipt_given(withdrawal):
                found.append(DashboardItem(
                    "todo", f"上传 ¥{format_yuan(withdrawal.amount_fen)} 提现的医院收据", page,
                    value="收据会公示在筹款页", tone="warn", order=50))
        for withdrawal in withdrawals[campaign.id][:WITHDRAWALS_SHOWN]:
            found.append(DashboardItem(
                "money", f"¥{format_yuan(withdrawal.amount_fen)}", page,
                value=withdrawal.status.label, details=(withdrawal.purpose,),
                tone="warn" if withdrawal.status in (W.rejected, W.failed) else "", order=50))
        if campaign.status in (S.ended, S.terminated):
            # The final statement donors read: what came in, what went out, what is left.
            found.append(DashboardItem("action", "资金公示", url_for(
                "campaigns.detail", campaign_id=campaign.id, _anchor="funds"), order=56))
        if campaign.status == S.ended:
            found.append(DashboardItem(
                "todo" if campaign.id not in stated else "action",
                "公示剩余善款说明" if campaign.id not in stated else "剩余善款说明",
                page, tone="warn" if campaign.id not in stated else "", order=55))
        items[campaign.id] = found
    return items


def _receipt_given(withdrawal: Withdrawal) -> bool:
    """A receipt uploaded and not refused (pending or approved) counts as given."""
    return any(doc.status != DocStatus.rejected for doc in withdrawal.receipts)
