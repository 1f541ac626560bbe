"""What 我的筹款 shows of sharing, first on a live campaign: 转发 (the campaign page's share
panel, whose links carry the organizer as sharer), 生成海报 and 我的转发成绩. No query
(registered with app.campaigns.dashboard)."""
from __future__ import annotations

from collections.abc import Sequence

from flask import url_for

from app.campaigns.dashboard import DashboardItem
from app.campaigns.models import Campaign


def dashboard_items(campaigns: Sequence[Campaign]) -> dict[int, list[DashboardItem]]:
    items: dict[int, list[DashboardItem]] = {}
    for campaign in campaigns:
        if not campaign.accepts_donations:
            continue
        items[campaign.id] = [
            DashboardItem("share", "转发给亲友", url_for(
                "campaigns.detail", campaign_id=campaign.id, _anchor="share"), order=0),
            DashboardItem("share", "生成海报", url_for("sharing.poster", campaign_id=campaign.id),
                          post=True, order=1),
            DashboardItem("share", "我的转发成绩",
                          url_for("sharing.my_shares", campaign_id=campaign.id), order=2),
        ]
    return items
