"""注销账号: one transaction that erases or anonymises what the law lets us erase and keeps,
linked to the anonymised account, what financial and review records must keep.

Refused (with the reasons, in Chinese) while the person has a campaign in review or live, money
held for their campaign, or money on its way to or from them: an order not yet settled, a
withdrawal, a refund or a transfer in progress, an open 诺言, a mutual-aid membership or claim.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import delete, exists, select

from app.auth.legal import ConsentWithdrawal
from app.auth.models import DEFAULT_NICKNAME, LoginTicket, User
from app.campaigns.models import Campaign, CampaignStatus
from app.core.audit import record_audit
from app.donations.models import Donation
from app.extensions import db
from app.ledger.services import balance, campaign_custody
from app.models_base import utcnow
from app.mutual_aid.models import LIVE_STATUSES, Claim, ClaimStatus, Membership
from app.notices.models import CampaignMute, Notice
from app.payments.models import Payment, PaymentState
from app.payouts.models import DonationRefund, RefundStatus, Withdrawal, WithdrawalStatus
from app.payouts.transfer_models import OPEN_TRANSFERS, PersonTransfer
from app.pledges.models import Pledge, PledgeStatus
from app.sharing import poster_store
from app.sharing.models import ShareLink
from app.wechat.models import WechatMessage

S = CampaignStatus
DELETED_OPENID_PREFIX = "deleted:"
# What stays, and for how long: shown on the page before the person confirms.
KEPT = (
    ("捐款、支付、提现、退款和账本记录", "30 年（《会计档案管理办法》），账本只可追加"),
    ("筹款的审核记录与审核决定", "筹款结束后至少 5 年"),
    ("筹款的医疗材料与证件照片", "筹款结束 5 年后删除"),
    ("您发布过的筹款页、动态和祝福的文字", "继续公开，署名改为“爱心人士”"),
    ("同意用户协议与隐私政策的记录", "与上述记录同期，证明当时的同意"),
)
ERASED = ("微信昵称和头像", "微信账号（openid / unionid）与本账号的对应关系", "站内通知和微信消息记录",
          "登录状态（所有设备上的登录）", "消息免打扰和授权撤回等设置", "您的转发海报和爱心证书图片")


class DeletionRefused(Exception):
    def __init__(self, reasons: list[str]):
        super().__init__("；".join(reasons))
        self.reasons = reasons


@dataclass(frozen=True)
class DeletionResult:
    user_id: int
    posters_removed: int


def blockers(user: User) -> list[str]:
    """Why the account cannot be deleted now; empty when it can."""
    reasons = []

    def any_row(*conditions) -> bool:
        return bool(db.session.scalar(select(exists().where(*conditions))))

    if any_row(Campaign.organizer_id == user.id,
               Campaign.status.in_([S.submitted, S.live, S.frozen])):
        reasons.append("您有正在审核或进行中的筹款，请等筹款结束后再注销")
    ended = db.session.scalars(select(Campaign.id).where(
        Campaign.organizer_id == user.id, Campaign.status.in_([S.ended, S.terminated])))
    if any(balance(campaign_custody(campaign_id)) != 0 for campaign_id in ended):
        reasons.append("您的筹款在监管账户中还有余额，请等提现或退款完成后再注销")
    if any_row(Withdrawal.organizer_id == user.id, Withdrawal.status.in_(
            [WithdrawalStatus.requested, WithdrawalStatus.approved, WithdrawalStatus.released])):
        reasons.append("您有提现申请尚未完成")
    if any_row(Payment.user_id == user.id,
               Payment.state.in_([PaymentState.created, PaymentState.pending])):
        reasons.append("您有一笔支付尚未完成，请稍后再试（未支付的订单会自动关闭）")
    if any_row(DonationRefund.user_id == user.id,
               DonationRefund.status.in_([RefundStatus.pending, RefundStatus.submitted,
                                          RefundStatus.failed])):
        reasons.append("有退还给您的款项尚未到账")
    if any_row(PersonTransfer.user_id == user.id, PersonTransfer.status.in_(OPEN_TRANSFERS)):
        reasons.append("有转给您的款项尚未领取或到账（我的 → 领取）")
    if any_row(Pledge.user_id == user.id, Pledge.status == PledgeStatus.active):
        reasons.append("您许下的诺言尚未履行完毕")
    if any_row(Membership.user_id == user.id, Membership.status.in_(LIVE_STATUSES)):
        reasons.append("您仍是互助计划的会员，请先退出互助计划")
    if any_row(Claim.user_id == user.id,
               Claim.status.not_in([ClaimStatus.paid, ClaimStatus.rejected])):
        reasons.append("您的互助申请尚未处理完毕")
    return reasons


def delete_account(user: User) -> DeletionResult:
    user = db.session.get(User, user.id, with_for_update=True)
    if user is None or user.deleted_at is not None:
        raise DeletionRefused(["账号已注销"])
    reasons = blockers(user)
    if reasons:
        raise DeletionRefused(reasons)
    posters = _poster_digests(user)
    old_openid = user.openid
    db.session.execute(delete(WechatMessage).where(WechatMessage.openid == old_openid))
    for model, column in ((Notice, Notice.user_id), (CampaignMute, CampaignMute.user_id),
                          (LoginTicket, LoginTicket.user_id),
                          (ConsentWithdrawal, ConsentWithdrawal.user_id)):
        db.session.execute(delete(model).where(column == user.id))
    user.nickname = DEFAULT_NICKNAME     # shown as 爱心人士 on every page, as a silent sign-in is
    user.avatar_url = None
    user.openid = DELETED_OPENID_PREFIX + secrets.token_hex(16)   # WeChat maps here no more
    user.unionid = None
    user.deleted_at = utcnow()
    record_audit(None, "user.delete", "user", user.id, before={"deleted": False},
                 after={"deleted": True}, actor_user_id=user.id)
    db.session.commit()
    removed = 0
    for digest in posters:   # after the commit: a failed commit leaves them as they were
        try:
            poster_store.poster_path(digest).unlink()
            removed += 1
        except FileNotFoundError:
            pass
    return DeletionResult(user.id, removed)


def _poster_digests(user: User) -> set[str]:
    """The person's share posters and 爱心证书 as they are drawn now (older ones, drawn at other
    progress, carry other digests and go with the monthly prune of unwanted posters)."""
    links = list(db.session.scalars(select(ShareLink).where(ShareLink.sharer_user_id == user.id)))
    campaigns = {c.id: c for c in db.session.scalars(
        select(Campaign).where(Campaign.id.in_({link.campaign_id for link in links})))}
    digests = {poster_store.content_for_share(link, campaigns[link.campaign_id]).digest()
               for link in links}
    by_campaign = {link.campaign_id: link for link in links}
    name = user.nickname if user.has_profile else "爱心人士"
    for donation in db.session.scalars(select(Donation).where(Donation.user_id == user.id,
                                                              Donation.paid_at.is_not(None))):
        link = by_campaign.get(donation.campaign_id)
        if link is not None:
            digests.add(poster_store.content_for_donation(
                donation, campaigns[donation.campaign_id], link, name).digest())
    return digests
