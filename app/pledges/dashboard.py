"""What 我的筹款 shows of 诺言: on an ended campaign, 许下诺言 (the pledge form) or the pledge
already made. One query for all of an organizer's campaigns (registered with
app.campaigns.dashboard)."""
from __future__ import annotations

from collections.abc import Sequence

from flask import url_for
from sqlalchemy import select

from app.campaigns.dashboard import DashboardItem
from app.campaigns.models import Campaign, CampaignStatus
from app.extensions import db
from app.pledges.models import Pledge


def dashboard_items(campaigns: Sequence[Campaign]) -> dict[int, list[DashboardItem]]:
    ended = [c.id for c in campaigns if c.status == CampaignStatus.ended]
    if not ended:
        return {}
    pledged = dict(db.session.execute(select(Pledge.campaign_id, Pledge.id).where(
        Pledge.campaign_id.in_(ended))).all())
    items: dict[int, list[DashboardItem]] = {}
    for campaign_id in ended:
        if campaign_id in pledged:
            items[campaign_id] = [DashboardItem("action", "查看我的诺言", url_for(
                "pledges.pledge_page", pledge_id=pledged[campaign_id]), order=70)]
        else:
            items[campaign_id] = [DashboardItem(
                "action", "许下诺言", url_for("pledges.new_pledge", campaign_id=campaign_id),
                value="有能力时回馈捐款人或帮助下一位患者", order=70)]
    return items
