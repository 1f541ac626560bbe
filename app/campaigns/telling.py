"""What a campaign's own changes tell, and to whom (app/notices): each function adds to the
caller's transaction; the calling service commits, then `notices.send_told()`.

The organizer hears each review outcome, a freeze, its lifting, the end and a termination; the
donors (the "donors" audience donations registers) hear updates — at most one message a day per
campaign, none once they muted it — the end, and a termination (muted or not: it is about
their money)."""
from __future__ import annotations

from app.campaigns.models import Campaign
from app.core.chinatime import china_today
from app.core.templating import local_time
from app.models_base import utcnow
from app.notices.services import Message, campaign_audience, tell, tell_many

KIND = "campaign"


def _page(campaign_id: int) -> str:
    return f"/c/{campaign_id}"


def approved(campaign: Campaign, round_number: int) -> None:
    tell(campaign.organizer_id, f"campaign_approved:{campaign.id}:{round_number}", Message(
        KIND, "筹款审核通过", f"“{campaign.title}”已通过审核，现在可以转发给亲友了。",
        _page(campaign.id), "review_result",
        {"thing1": campaign.title, "phrase2": "已通过", "thing3": "筹款已上线，快去转发吧"}))


def rejected(campaign: Campaign, round_number: int, reasons: str) -> None:
    tell(campaign.organizer_id, f"campaign_rejected:{campaign.id}:{round_number}", Message(
        KIND, "筹款审核未通过", f"“{campaign.title}”未通过审核：{reasons}。修改后可重新提交。",
        f"/c/{campaign.id}/documents", "review_result",
        {"thing1": campaign.title, "phrase2": "未通过", "thing3": reasons}))


def frozen(campaign: Campaign, event_id: int, reason: str) -> None:
    tell(campaign.organizer_id, f"campaign_frozen:{event_id}", Message(
        KIND, "筹款已暂停", f"“{campaign.title}”已被平台暂停接受捐款：{reason}",
        _page(campaign.id), "campaign_status",
        {"thing1": campaign.title, "phrase2": "已暂停", "thing3": reason}))


def unfrozen(campaign: Campaign, event_id: int, reason: str) -> None:
    tell(campaign.organizer_id, f"campaign_unfrozen:{event_id}", Message(
        KIND, "筹款已恢复", f"“{campaign.title}”已恢复接受捐款：{reason}",
        _page(campaign.id), "campaign_status",
        {"thing1": campaign.title, "phrase2": "已恢复", "thing3": reason}))


def ended(campaign_id: int, title: str, organizer_id: int, reason: str) -> None:
    """Once per campaign: it ends only once (deadline, target or staff)."""
    page = _page(campaign_id)
    tell(organizer_id, f"campaign_ended:{campaign_id}", Message(
        KIND, "筹款已结束", f"“{title}”已结束（{reason}）。可以在筹款页申请提现、发布动态。",
        page, "campaign_status", {"thing1": title, "phrase2": "已结束", "thing3": reason}))
    donors = [user_id for user_id in campaign_audience("donors", campaign_id)
              if user_id != organizer_id]
    tell_many(donors, f"campaign_ended:{campaign_id}", Message(
        KIND, "您帮助的筹款已结束", f"您帮助过的“{title}”已结束（{reason}），感谢您的爱心。"
        "善款的去向会在筹款页的资金公示中公开。", page, "campaign_status",
        {"thing1": title, "phrase2": "已结束", "thing3": reason}), unless_muted=campaign_id)


def terminated(campaign: Campaign, reason: str) -> None:
    page = _page(campaign.id)
    tell(campaign.organizer_id, f"campaign_terminated:{campaign.id}", Message(
        KIND, "筹款已终止", f"“{campaign.title}”已被平台终止：{reason}。剩余善款将按比例退还捐款人。",
        page, "campaign_status", {"thing1": campaign.title, "phrase2": "已终止", "thing3": reason}))
    donors = [user_id for user_id in campaign_audience("donors", campaign.id)
              if user_id != campaign.organizer_id]
    tell_many(donors, f"campaign_terminated:{campaign.id}", Message(
        KIND, "您帮助的筹款已终止", f"您帮助过的“{campaign.title}”已被平台终止：{reason}。"
        "剩余善款将按您的捐款比例原路退回，到账后会再通知您。", page, "campaign_status",
        {"thing1": campaign.title, "phrase2": "已终止", "thing3": "剩余善款将按比例退回"}))


def update_posted(campaign: Campaign, body: str) -> None:
    """At most one message a day per campaign per donor (the day is in the key)."""
    now = utcnow()
    day = china_today(now).isoformat()
    donors = [user_id for user_id in campaign_audience("donors", campaign.id)
              if user_id != campaign.organizer_id]
    first_line = body.strip().splitlines()[0] if body.strip() else ""
    tell_many(donors, f"campaign_update:{campaign.id}:{day}", Message(
        KIND, "您帮助的筹款有新动态", f"“{campaign.title}”：{first_line}"[:300],
        _page(campaign.id), "campaign_update",
        {"thing1": campaign.title, "thing2": first_line or "发布了新动态",
         "time3": local_time(now)}), unless_muted=campaign.id)
