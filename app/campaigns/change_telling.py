"""What a live campaign's changes and its early end tell, and to whom (app/notices). Each function
adds to the caller's transaction; the calling service commits, then `notices.send_told()`.

The organizer hears each decision on a change. The donors hear, once per change, of an approved
change touching the story or the target (not those who muted the campaign), and of an early end
(muted or not: it is about their money)."""
from __future__ import annotations

from app.campaigns.change_models import CampaignChange, EarlyEnd
from app.campaigns.models import Campaign
from app.core.templating import local_time
from app.models_base import utcnow
from app.notices.services import Message, campaign_audience, tell, tell_many

KIND = "campaign"


def _donors(campaign: Campaign) -> list[int]:
    return [user_id for user_id in campaign_audience("donors", campaign.id)
            if user_id != campaign.organizer_id]


def _what(change: CampaignChange) -> str:
    return "、".join(change.field_labels) or change.kind.label


def approved(change: CampaignChange) -> None:
    campaign = change.campaign
    page = f"/c/{campaign.id}#changes"
    tell(campaign.organizer_id, f"campaign_change_approved:{change.id}", Message(
        KIND, "修改已通过审核", f"“{campaign.title}”的{change.kind.label}（{_what(change)}）已通过审核，"
        "筹款页已更新，并列入修改记录。", page, "review_result",
        {"thing1": change.kind.label, "phrase2": "已通过", "thing3": "筹款页已更新"}))
    if not change.touches_donors:
        return
    summary = f"“{campaign.title}”更新了{_what(change)}，修改内容与原因已在筹款页的修改记录中公开。"
    tell_many(_donors(campaign), f"campaign_changed:{change.id}", Message(
        KIND, "您帮助的筹款修改了信息", summary, page, "campaign_update",
        {"thing1": campaign.title, "thing2": f"修改了{_what(change)}"[:20],
         "time3": local_time(utcnow())}), unless_muted=campaign.id)


def rejected(change: CampaignChange) -> None:
    campaign = change.campaign
    tell(campaign.organizer_id, f"campaign_change_rejected:{change.id}", Message(
        KIND, "修改未通过审核", f"“{campaign.title}”的{change.kind.label}未通过审核："
        f"{change.decision_note}。筹款页保持原样，您可以修改后重新申请。",
        f"/c/{campaign.id}/changes", "review_result",
        {"thing1": change.kind.label, "phrase2": "未通过", "thing3": change.decision_note}))


def ended_early(campaign: Campaign, early: EarlyEnd) -> None:
    """The withdraw route: the organizer and donors are told by the end's own notice
    (campaigns.telling.ended); the refund route is told here."""
    page = f"/c/{campaign.id}"
    reason = early.reason_text
    tell(campaign.organizer_id, f"campaign_ended_early:{campaign.id}", Message(
        KIND, "筹款已提前结束", f"“{campaign.title}”已按您的申请提前结束（{reason}）。"
        "剩余善款将按捐款比例原路退还给捐款人。", page, "campaign_status",
        {"thing1": campaign.title, "phrase2": "已结束", "thing3": "剩余善款将按比例退回"}))
    tell_many(_donors(campaign), f"campaign_ended_early:{campaign.id}", Message(
        KIND, "您帮助的筹款已提前结束", f"您帮助过的“{campaign.title}”已提前结束（{reason}）。"
        "剩余善款将按您的捐款比例原路退回，到账后会再通知您。", page, "campaign_status",
        {"thing1": campaign.title, "phrase2": "已结束", "thing3": "剩余善款将按比例退回"}))
