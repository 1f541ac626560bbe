"""Where a pledge's repayments go, exactly, and what the pay-it-forward fund (诺言基金) does.

A paid repayment sits in the pledge's custody account until `distribute` splits it into shares
(largest remainder, summing exactly to the repayment): to the donors pro rata to what each gave,
or all of it forward. A donor's share goes forward instead when they chose to pass it on, when
it is below MIN_RETURN_FEN, or when the donation has no donor to return it to. Shares going back
are transferred by the payout provider (idempotent transfer ids) and booked when done; one that
cannot be transferred goes forward too. The fund gives its money away by FUND_RULES.
"""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import func, select

from app.auth.models import User
from app.campaigns.models import Campaign, CampaignStatus
from app.donations.models import Donation
from app.extensions import db
from app.ledger.services import Leg, balance, post
from app.models_base import format_yuan, utcnow
from app.payouts.accounts import PAYOUT_CLEARING, campaign_custody
from app.payouts import transfers
from app.payouts.allocation import pro_rata
from app.payouts.errors import PayoutError
from app.payouts.funds import lock_account
from app.payouts.models import add_notice
from app.payouts.provider import TransferRequest, TransferResult, get_payout_provider
from app.payouts.transfer_models import PersonTransfer
from app.pledges.accounts import (FORWARD_FUND, SOURCE_FORWARD, SOURCE_PLEDGE_RETURN,
                                  pledge_custody)
from app.pledges.models import (Destination, DonorChoice, FundEntry, FundEntryKind, Pledge,
                                Repayment, Share, ShareRoute, ShareStatus)

log = logging.getLogger(__name__)
MIN_RETURN_FEN = 1_00
GRANT_CAP_FEN = 5_000_00
FUND_RULES = (
    "诺言基金只接收诺言还款（以及捐款人转赠的部分），平台不从中收取任何费用。",
    f"每位捐款人应得的还款不足 ¥{format_yuan(MIN_RETURN_FEN)} 时，自动转入诺言基金。",
    "基金每日分配一次：按筹款进度从低到高，资助正在筹款的已审核筹款，每个筹款每次最多 "
    f"¥{format_yuan(GRANT_CAP_FEN)}，且不超过其距目标的缺口。",
    "没有可资助的筹款时，余额注入相助互助计划的资金池，用于减轻会员的分摊。",
    "基金的每一笔收入和支出都在本页公示。",
)


SHARE_PURPOSE = "pledge_share"


def transfer_id_of(share_id: int) -> str:
    return f"XZPR{share_id:012d}"


def distribute(repayment_id: int, now: datetime | None = None) -> list[int]:
    """Split a paid repayment into shares, once. Returns the ids of shares still to transfer."""
    repayment = db.session.get(Repayment, repayment_id, with_for_update=True)
    if repayment is None or repayment.paid_at is None:
        db.session.rollback()
        return []
    if repayment.distributed_at is not None:
        db.session.rollback()
        return pending_shares(repayment_id)
    pledge = db.session.get(Pledge, repayment.pledge_id)
    lock_account(pledge_custody(pledge.id))
    now = now or utcnow()
    lines: list[tuple[int | None, ShareRoute, int]] = []
    if pledge.destination == Destination.forward:
        lines.append((None, ShareRoute.forward, repayment.amount_fen))
    else:
        donors = db.session.execute(
            select(Donation.user_id, func.sum(Donation.amount_fen))
            .where(Donation.campaign_id == pledge.campaign_id, Donation.paid_at.is_not(None))
            .group_by(Donation.user_id).order_by(Donation.user_id)).all()
        passing = set(db.session.scalars(select(DonorChoice.user_id).where(
            DonorChoice.pledge_id == pledge.id, DonorChoice.pass_on.is_(True))))
        # a donor who deleted their account has no WeChat to be paid to: theirs goes forward
        passing |= set(db.session.scalars(select(User.id).where(
            User.id.in_([user_id for user_id, _ in donors if user_id is not None]),
            User.deleted_at.is_not(None))))
        if not donors:
            donors = [(None, 1)]
        for (user_id, _), amount in zip(donors, pro_rata(
                repayment.amount_fen, [int(total) for _, total in donors])):
            if amount == 0:
                continue
            back = user_id is not None and user_id not in passing and amount >= MIN_RETURN_FEN
            lines.append((user_id, ShareRoute.back if back else ShareRoute.forward, amount))
    shares = [Share(repayment_id=repayment.id, pledge_id=pledge.id, user_id=user_id,
                    route=route, amount_fen=amount,
                    status=ShareStatus.pending if route == ShareRoute.back else ShareStatus.paid,
                    paid_at=None if route == ShareRoute.back else now)
              for user_id, route, amount in lines]
    db.session.add_all(shares)
    db.session.flush()
    for share in shares:
        if share.route == ShareRoute.back:
            share.transfer_id = transfer_id_of(share.id)
    forward = sum(s.amount_fen for s in shares if s.route == ShareRoute.forward)
    if forward:
        _into_fund(pledge.id, repayment.id, forward, "诺言还款转入诺言基金")
    repayment.distributed_at = now
    db.session.commit()
    return [s.id for s in shares if s.route == ShareRoute.back]


def pending_shares(repayment_id: int | None = None) -> list[int]:
    query = select(Share.id).where(Share.route == ShareRoute.back,
                                   Share.status == ShareStatus.pending).order_by(Share.id)
    if repayment_id is not None:
        query = query.where(Share.repayment_id == repayment_id)
    return list(db.session.scalars(query))


def transfer_share(share_id: int) -> str:
    """Send one donor's share to their WeChat (idempotent by transfer id) and book it: by
    商家转账 (the donor confirms in 我的 · 领取) unless WeChat cannot take it (over the daily
    limit, …), else through the payout provider. A share once given to either stays with it.
    PayoutUnavailable propagates: the job is retried and reconciliation asks again."""
    share = db.session.get(Share, share_id)
    if share is None or share.status != ShareStatus.pending:
        db.session.rollback()
        return share.status.value if share else "missing"
    if transfers.enabled() and _by_wechat_transfer(share):
        return "transferring"
    donor = db.session.get(User, share.user_id)
    request = TransferRequest(transfer_id=share.transfer_id, amount_fen=share.amount_fen,
                              payee_kind="wechat_user", account_name=donor.nickname or "捐款人",
                              account_number=donor.openid, bank_name="微信零钱",
                              memo=f"相助诺言{share.pledge_id}还款")
    db.session.rollback()
    provider = get_payout_provider()
    result = provider.query(request.transfer_id) or provider.transfer(request)
    return settle_share(share_id, result)


def _by_wechat_transfer(share: Share) -> bool:
    """The share goes (or went) by 商家转账: its transfer is made, committed and sent."""
    share_id, transfer_id = share.id, share.transfer_id
    db.session.rollback()
    known = db.session.scalar(select(PersonTransfer.id).where(
        PersonTransfer.purpose == SHARE_PURPOSE, PersonTransfer.purpose_ref == str(share_id)))
    if known is None:
        if get_payout_provider().query(transfer_id) is not None:
            return False  # the custodian has it already
        lock_account(pledge_custody(share.pledge_id))
        share = db.session.get(Share, share_id, with_for_update=True, populate_existing=True)
        if share.status != ShareStatus.pending:
            db.session.rollback()
            return True
        try:
            known = transfers.start_transfer(
                SHARE_PURPOSE, str(share.id), share.user_id, share.amount_fen,
                pledge_custody(share.pledge_id), f"相助诺言{share.pledge_id}还款").id
        except PayoutError as refused:
            db.session.rollback()
            log.info("pledge share %s by bank: %s", share_id, refused.message)
            return False
        db.session.commit()
    transfers.enqueue_send(known)
    return True


def on_share_transfer(transfer: PersonTransfer, succeeded: bool) -> None:
    """Payouts settled a share's 商家转账 (its money moved by the transfer's own postings); in
    that transaction: the share is paid, or failed and its money, back in the pledge's custody,
    goes forward to the fund."""
    share = db.session.get(Share, int(transfer.purpose_ref), with_for_update=True,
                           populate_existing=True)
    if share.status != ShareStatus.pending:
        return
    if succeeded:
        share.status, share.paid_at = ShareStatus.paid, utcnow()
        return
    share.status = ShareStatus.failed
    share.failure = (transfer.fail_reason + "，已转入诺言基金")[:300]
    _into_fund(share.pledge_id, share.repayment_id, share.amount_fen,
               "未能转给捐款人的诺言还款，转入诺言基金")


def settle_share(share_id: int, result: TransferResult) -> str:
    share = db.session.get(Share, share_id)
    if share is None:
        return "missing"
    lock_account(pledge_custody(share.pledge_id))
    share = db.session.get(Share, share_id, with_for_update=True, populate_existing=True)
    if share.status != ShareStatus.pending or result.state == "processing":
        db.session.rollback()
        return share.status.value
    if result.state == "succeeded" and result.amount_fen == share.amount_fen:
        post(SOURCE_PLEDGE_RETURN, str(share.id),
             [Leg(pledge_custody(share.pledge_id), -share.amount_fen),
              Leg(PAYOUT_CLEARING, share.amount_fen)], memo="诺言还款 · 按比例还给捐款人")
        share.status, share.paid_at = ShareStatus.paid, utcnow()
        add_notice(share.user_id, "pledge", "收到诺言还款",
                   f"您曾帮助过的人兑现诺言，¥{format_yuan(share.amount_fen)} 已转入您的微信零钱。",
                   f"/pledges/{share.pledge_id}")
    else:
        share.status = ShareStatus.failed
        share.failure = ((result.message or "转账失败") + "，已转入诺言基金")[:300]
        _into_fund(share.pledge_id, share.repayment_id, share.amount_fen,
                   "无法转给捐款人的诺言还款，转入诺言基金")
    db.session.commit()
    return share.status.value


def _into_fund(pledge_id: int, repayment_id: int, amount: int, memo: str) -> FundEntry:
    entry = FundEntry(kind=FundEntryKind.pledge, amount_fen=amount, repayment_id=repayment_id)
    db.session.add(entry)
    db.session.flush()
    post(SOURCE_FORWARD, str(entry.id),
         [Leg(pledge_custody(pledge_id), -amount), Leg(FORWARD_FUND, amount)], memo=memo)
    return entry


def fund_balance() -> int:
    return balance(FORWARD_FUND)


def allocate_fund() -> list[FundEntry]:
    """Give the fund's balance away by FUND_RULES. Safe to run concurrently (one at a time
    holds the fund's lock) and again (an empty fund grants nothing)."""
    lock_account(FORWARD_FUND)
    left = balance(FORWARD_FUND)
    grants: list[FundEntry] = []
    if left > 0:
        granted = dict(db.session.execute(
            select(FundEntry.campaign_id, func.sum(FundEntry.amount_fen))
            .where(FundEntry.kind == FundEntryKind.campaign).group_by(FundEntry.campaign_id)
        ).all())
        live = db.session.execute(
            select(Campaign.id, Campaign.raised_fen, Campaign.target_fen)
            .where(Campaign.status == CampaignStatus.live)
            .order_by(Campaign.raised_fen * 10000 / Campaign.target_fen, Campaign.id)).all()
        for campaign_id, raised, target in live:
            gap = target - raised - int(granted.get(campaign_id) or 0)
            amount = min(left, gap, GRANT_CAP_FEN)
            if amount <= 0:
                continue
            grants.append(_grant(FundEntryKind.campaign, amount, campaign_id=campaign_id))
            left -= amount
            if left == 0:
                break
        plan_id = _open_plan() if left > 0 else None
        if plan_id is not None:
            grants.append(_grant(FundEntryKind.plan, left, plan_id=plan_id))
    db.session.commit()
    if grants:
        log.info("pay-it-forward fund granted %s", [(g.kind.value, g.amount_fen) for g in grants])
    return grants


def _grant(kind: FundEntryKind, amount: int, campaign_id: int | None = None,
           plan_id: int | None = None) -> FundEntry:
    entry = FundEntry(kind=kind, amount_fen=amount, campaign_id=campaign_id, plan_id=plan_id)
    db.session.add(entry)
    db.session.flush()
    if kind == FundEntryKind.campaign:
        target, memo = campaign_custody(campaign_id), "诺言基金资助"
    else:
        from app.mutual_aid.accounts import plan_custody

        target, memo = plan_custody(plan_id), "诺言基金注入互助计划"
    post(SOURCE_FORWARD, str(entry.id), [Leg(FORWARD_FUND, -amount), Leg(target, amount)],
         memo=memo)
    return entry


def _open_plan() -> int | None:
    from app.mutual_aid.models import Plan, PlanStatus

    return db.session.scalar(select(Plan.id).where(Plan.status == PlanStatus.open)
                             .order_by(Plan.id).limit(1))


def fund_entries(limit: int = 100) -> list[FundEntry]:
    return list(db.session.scalars(select(FundEntry).order_by(FundEntry.id.desc()).limit(limit)))


def granted_to(campaign_id: int) -> int:
    from app.campaigns import page_data

    fetched = page_data.prefetched(campaign_id, "forward_fund_grant")
    if fetched is not page_data.MISSING:
        return fetched
    return int(db.session.scalar(select(func.coalesce(func.sum(FundEntry.amount_fen), 0)).where(
        FundEntry.kind == FundEntryKind.campaign, FundEntry.campaign_id == campaign_id)))



def receive_leftover(campaign_id: int, amount: int) -> FundEntry:
    """A terminated campaign held more than its donations can take back (what the fund had
    granted it): it returns to the fund. In the refund plan's transaction; does not commit."""
    entry = FundEntry(kind=FundEntryKind.leftover, amount_fen=amount, campaign_id=campaign_id)
    db.session.add(entry)
    db.session.flush()
    post(SOURCE_FORWARD, str(entry.id), [Leg(campaign_custody(campaign_id), -amount),
                                         Leg(FORWARD_FUND, amount)],
         memo="终止筹款超出捐款的剩余资金，退回诺言基金")
    return entry
