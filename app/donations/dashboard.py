"""What 我的筹款 shows of donations: today's helps (donations paid since midnight, China time)
of each campaign still taking donations. One query for all of an organizer's campaigns (registered with
app.campaigns.dashboard)."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timezone

from sqlalchemy import func, select

from app.campaigns.dashboard import DashboardItem
from app.campaigns.models import Campaign
from app.core.chinatime import CHINA, china_today
from app.donations.models import Donation
from app.extensions import db
from app.models_base import format_yuan


def china_midnight(now: datetime | None = None) -> datetime:
    """The start of today in China, in UTC (as the database keeps times, SQLite included)."""
    return datetime.combine(china_today(now), time(0), tzinfo=CHINA).astimezone(timezone.utc)


def dashboard_items(campaigns: Sequence[Campaign]) -> dict[int, list[DashboardItem]]:
    ids = [c.id for c in campaigns if c.accepts_donations]
    if not ids:
        return {}
    today = dict((campaign_id, (count, total)) for campaign_id, count, total in db.session.execute(
        select(Donation.campaign_id, func.count(), func.sum(Donation.amount_fen))
        .where(Donation.campaign_id.in_(ids), Donation.paid_at >= china_midnight())
        .group_by(Donation.campaign_id)))
    items: dict[int, list[DashboardItem]] = {}
    for campaign_id in ids:
        count, total = today.get(campaign_id, (0, 0))
        value = f"{count} 次 · ¥{format_yuan(total or 0)}" if count else "还没有，转发试试"
        items[campaign_id] = [DashboardItem("figure", "今日帮助", value=value, order=30)]
    return items
