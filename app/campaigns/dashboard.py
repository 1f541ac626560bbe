"""我的筹款 as a dashboard: each of an organizer's campaigns with its state, what happens next,
what is left to do, its money and its updates, and the organizer's latest notices.

Campaigns knows only campaigns. Review (documents, payee), payouts (withdrawals, receipts, the
leftover statement), donations (today's helps), sharing (share first) and pledges (许下诺言) add
what they know through register_dashboard_source. A source is called once with all of the
organizer's campaigns and answers with one query per kind, never one per campaign, so the page
costs the same few queries for one campaign or twenty.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from flask import Flask, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.campaigns.change_models import CampaignChange, ChangeStatus, EarlyEnd
from app.campaigns.models import Campaign, CampaignStatus
from app.campaigns.trust import UPDATABLE, CampaignUpdate
from app.core.plugins import registry
from app.core.templating import days_left
from app.extensions import db
from app.notices.models import Notice

S = CampaignStatus
NOTICES_SHOWN = 5
# What an item is, and where the page puts it: share and next steps on top, then the to-do list.
KINDS = ("share", "figure", "review", "todo", "action", "money")

NEXT_STEPS = {
    S.draft: "草稿：填写信息、上传证明材料和实名信息后提交审核。",
    S.rejected: "未通过审核：请按下面的原因修改后重新提交。",
    S.submitted: "审核中：通常 1 个工作日内完成，结果会通过微信和通知告诉您。",
    S.live: "筹款中：转发给亲友是最有效的帮助，记得及时发布治疗进展。",
    S.frozen: "已冻结：平台正在核实情况，暂停捐款和提现。",
    S.ended: "已结束：申请提现用于治疗，公示剩余善款说明，也可以许下诺言。",
    S.terminated: "已终止：剩余善款将按捐款比例原路退还捐款人。",
}

# The organizer's self-service on a live campaign (app/campaigns/change_views.py and
# app/review/target_views.py): a change and a target raise are reviewed, one at a time.
REVIEWED_CHANGES = (("campaign_changes.edit", "修改筹款信息"),
                    ("campaign_target.raise_target", "追加目标"))


@dataclass(frozen=True)
class DashboardItem:
    """One line or button of a campaign's panel. `kind` is one of KINDS; `post` makes `url` a
    button in a form carrying the CSRF token; `details` are sub-lines (a reviewer's reasons)."""

    kind: str
    text: str
    url: str = ""
    value: str = ""
    details: tuple[str, ...] = ()
    post: bool = False
    tone: str = ""        # "warn" for what needs the organizer, "ok" for what is done
    order: int = 50

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown dashboard item kind {self.kind!r}")


DashboardSource = Callable[[Sequence[Campaign]], Mapping[int, Iterable[DashboardItem]]]


def register_dashboard_source(app: Flask, source: DashboardSource) -> None:
    """`source(campaigns)` returns {campaign_id: items} for the campaigns it has something on."""
    registry("campaign_dashboard_sources", list, app).append(source)


def dashboard_sources() -> list[DashboardSource]:
    return list(registry("campaign_dashboard_sources", list))


@dataclass
class CampaignPanel:
    campaign: Campaign
    next_step: str
    days_left: int | None
    updates: int
    last_update_at: datetime | None
    items: dict[str, list[DashboardItem]] = field(default_factory=dict)

    def of(self, kind: str) -> list[DashboardItem]:
        return self.items.get(kind, [])


@dataclass
class Dashboard:
    panels: list[CampaignPanel]
    notices: list[Notice]
    unread_notices: int


def dashboard_of(organizer_id: int) -> Dashboard:
    campaigns = list(db.session.scalars(
        select(Campaign).where(Campaign.organizer_id == organizer_id)
        .options(selectinload(Campaign.photos), selectinload(Campaign.events))
        .order_by(Campaign.created_at.desc(), Campaign.id.desc())).unique())
    found: dict[int, list[DashboardItem]] = defaultdict(list)
    if campaigns:
        for source in [_own_items, _change_items, *dashboard_sources()]:
            for campaign_id, items in source(campaigns).items():
                found[campaign_id].extend(items)
    updates = _update_counts([c.id for c in campaigns])
    panels = []
    for campaign in campaigns:
        count, last = updates.get(campaign.id, (0, None))
        grouped: dict[str, list[DashboardItem]] = {}
        for item in sorted(found[campaign.id], key=lambda i: i.order):
            grouped.setdefault(item.kind, []).append(item)
        panels.append(CampaignPanel(
            campaign=campaign, next_step=NEXT_STEPS.get(campaign.status, ""),
            days_left=days_left(campaign.ends_at) if campaign.accepts_donations else None,
            updates=count, last_update_at=last, items=grouped))
    notices = list(db.session.scalars(select(Notice).where(Notice.user_id == organizer_id)
                                      .order_by(Notice.id.desc()).limit(NOTICES_SHOWN)))
    unread = db.session.scalar(select(func.count()).select_from(Notice).where(
        Notice.user_id == organizer_id, Notice.read_at.is_(None))) or 0
    return Dashboard(panels=panels, notices=notices, unread_notices=unread)


def _update_counts(ids: list[int]) -> dict[int, tuple[int, datetime | None]]:
    if not ids:
        return {}
    rows = db.session.execute(
        select(CampaignUpdate.campaign_id, func.count(), func.max(CampaignUpdate.created_at))
        .where(CampaignUpdate.campaign_id.in_(ids)).group_by(CampaignUpdate.campaign_id))
    return {campaign_id: (count, last) for campaign_id, count, last in rows}


def _own_items(campaigns: Sequence[Campaign]) -> dict[int, list[DashboardItem]]:
    """What campaigns itself knows: editing a draft, the reviewer's reason, posting updates.
    No query: the events are loaded already."""
    items: dict[int, list[DashboardItem]] = {}
    for campaign in campaigns:
        mine: list[DashboardItem] = []
        if campaign.is_editable:
            mine.append(DashboardItem("action", "修改信息与照片",
                                      url_for("campaigns.edit", campaign_id=campaign.id),
                                      order=10))
            if not campaign.photos:
                mine.append(DashboardItem("todo", "上传至少一张照片作为封面",
                                          url_for("campaigns.edit", campaign_id=campaign.id),
                                          tone="warn", order=10))
        if campaign.status == S.rejected and campaign.last_decision is not None:
            mine.append(DashboardItem("review", "未通过原因", value=campaign.last_decision.reason,
                                      tone="warn", order=0))
        if campaign.status in UPDATABLE:
            mine.append(DashboardItem("action", "发布动态", url_for(
                "campaigns.detail", campaign_id=campaign.id, _anchor="updates"), order=30))
        items[campaign.id] = mine
    return items


def _change_items(campaigns: Sequence[Campaign]) -> dict[int, list[DashboardItem]]:
    """修改筹款信息 / 追加目标 / 申请提前结束 on a live campaign, the change waiting for review,
    and why a campaign ended early. One query each for pending changes and early ends."""
    live = [c.id for c in campaigns if c.status == S.live]
    closed = [c.id for c in campaigns if c.status in (S.ended, S.terminated)]
    pending = {change.campaign_id: change for change in db.session.scalars(
        select(CampaignChange).where(CampaignChange.campaign_id.in_(live),
                                     CampaignChange.status == ChangeStatus.pending))} if live else {}
    early = {end.campaign_id: end for end in db.session.scalars(
        select(EarlyEnd).where(EarlyEnd.campaign_id.in_(closed)))} if closed else {}
    items: dict[int, list[DashboardItem]] = {}
    for campaign in campaigns:
        found: list[DashboardItem] = []
        log = url_for("campaign_changes.mine", campaign_id=campaign.id)
        if campaign.status == S.live:
            change = pending.get(campaign.id)
            if change is not None:
                found.append(DashboardItem("review", change.kind.label, log, value="待审核",
                                           order=5))
            else:
                found += [DashboardItem("action", label, url_for(endpoint, campaign_id=campaign.id),
                                        order=60) for endpoint, label in REVIEWED_CHANGES]
            found.append(DashboardItem("action", "申请提前结束", url_for(
                "campaign_changes.end_early", campaign_id=campaign.id), order=80))
        if campaign.is_public:
            found.append(DashboardItem("action", "修改记录", log, order=85))
        if campaign.id in early:
            found.append(DashboardItem("review", "已提前结束", value=early[campaign.id].reason_text,
                                       order=0))
        items[campaign.id] = found
    return items
