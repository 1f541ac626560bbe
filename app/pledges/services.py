"""诺言 pledges: made after a campaign ends, repaid by WeChat Pay on a schedule, kept or broken.

A repayment is a payable (`pledge_repayment`, app/pledges/payable.py): payments records it
through the same confirm path as donations, crediting the pledge's own custody account in the
ledger; the distribution job (app/pledges/distribution.py) then passes it on exactly.
"""
from __future__ import annotations

import re
from calendar import monthrange
from datetime import date, datetime, timedelta

from sqlalchemy import select

from app.auth.models import User
from app.campaigns.models import CampaignStatus
from app.core.chinatime import china_today
from app.donations.models import Donation
from app.extensions import db
from app.models_base import format_yuan, utcnow
from app.payments import services as payments
from app.payments.models import Payment
from app.payouts.allocation import even_parts
from app.payouts.errors import PayoutError
from app.payouts.funds import lock_campaign
from app.payouts.models import add_notice
from app.pledges import reminders
from app.pledges.models import (Destination, DonorChoice, Instalment, Pledge, PledgeStatus,
                                Repayment, Schedule)

PAYABLE_TYPE = "pledge_repayment"
MIN_TOTAL_FEN = 1_00
MAX_INSTALMENTS = 60
BROKEN_AFTER_DAYS = 60
FORM_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
STANDING_LABELS = {"on_track": "按期履行中", "late": "已逾期", "kept": "已兑现",
                   "broken": "未兑现"}


def add_months(start: date, months: int) -> date:
    month0 = start.month - 1 + months
    year, month = start.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(start.day, monthrange(year, month)[1]))


def due_dates(schedule: Schedule, count: int, first_due: date) -> list[date]:
    if schedule == Schedule.once:
        return [first_due]
    return [add_months(first_due, k) for k in range(count)]


def create_pledge(campaign_id: int, user: User, *, total_fen: int, schedule: Schedule | str,
                  instalments: int, first_due: date, destination: Destination | str,
                  words: str = "", now: datetime | None = None) -> Pledge:
    try:
        schedule, destination = Schedule(schedule), Destination(destination)
    except ValueError:
        raise PayoutError("请选择还款方式和去向", "choice") from None
    campaign = lock_campaign(campaign_id)
    if campaign.organizer_id != user.id:
        raise PayoutError("只有发起人可以为这笔筹款许下诺言", "forbidden")
    if campaign.status != CampaignStatus.ended:
        raise PayoutError("筹款结束后才能许下诺言", "not_ended")
    if db.session.scalar(select(Pledge.id).where(Pledge.campaign_id == campaign_id)):
        raise PayoutError("这笔筹款已经许下诺言，不能重复创建", "exists")
    if type(total_fen) is not int or total_fen < MIN_TOTAL_FEN:
        raise PayoutError(f"诺言金额至少 {format_yuan(MIN_TOTAL_FEN)} 元", "total")
    if total_fen > campaign.raised_fen:
        raise PayoutError(f"诺言金额不能超过已筹金额 ¥{format_yuan(campaign.raised_fen)}",
                          "over_raised")
    count = 1 if schedule == Schedule.once else instalments
    if type(count) is not int or not 1 <= count <= MAX_INSTALMENTS:
        raise PayoutError(f"分期数为 1 到 {MAX_INSTALMENTS} 期", "instalments")
    if total_fen < count * 100:
        raise PayoutError("每期还款至少 1 元，请减少期数", "instalments")
    today = china_today(now)
    horizon = today + timedelta(days=366 if schedule == Schedule.monthly else 5 * 366)
    if not today < first_due <= horizon:
        raise PayoutError("还款日期需在明天之后、" + ("一年内" if schedule == Schedule.monthly
                                                  else "五年内"), "due")
    words = (words or "").strip()
    if len(words) > 300:
        raise PayoutError("诺言寄语最多 300 字", "words")
    pledge = Pledge(campaign_id=campaign_id, user_id=user.id, total_fen=total_fen,
                    schedule=schedule, destination=destination, words=words)
    db.session.add(pledge)
    db.session.flush()
    for seq, (due, amount) in enumerate(zip(due_dates(schedule, count, first_due),
                                            even_parts(total_fen, count)), start=1):
        db.session.add(Instalment(pledge_id=pledge.id, seq=seq, due_on=due, amount_fen=amount))
    db.session.commit()
    reminders.schedule(pledge.id, now=now)
    return pledge


def standing(pledge: Pledge, today: date | None = None) -> str:
    """on_track / late / kept / broken."""
    if pledge.status == PledgeStatus.kept:
        return "kept"
    if pledge.status == PledgeStatus.broken:
        return "broken"
    today = today or china_today()
    overdue = any(not i.is_paid and i.due_on < today for i in pledge.instalments)
    return "late" if overdue else "on_track"


def next_instalment(pledge: Pledge) -> Instalment | None:
    return next((i for i in pledge.instalments if not i.is_paid), None)


def record_of(user_id: int, except_campaign_id: int | None = None) -> list[Pledge]:
    """Every pledge the person made, newest first (shown on their other campaigns)."""
    query = select(Pledge).where(Pledge.user_id == user_id).order_by(Pledge.id.desc())
    if except_campaign_id is not None:
        query = query.where(Pledge.campaign_id != except_campaign_id)
    return list(db.session.scalars(query))


def pledge_of(campaign_id: int) -> Pledge | None:
    return db.session.scalar(select(Pledge).where(Pledge.campaign_id == campaign_id))


def donated_to(pledge: Pledge, user_id: int) -> int:
    return int(db.session.scalar(select(db.func.coalesce(db.func.sum(Donation.amount_fen), 0))
                                 .where(Donation.campaign_id == pledge.campaign_id,
                                        Donation.user_id == user_id,
                                        Donation.paid_at.is_not(None))))


def passes_on(pledge_id: int, user_id: int) -> bool:
    return bool(db.session.scalar(select(DonorChoice.pass_on).where(
        DonorChoice.pledge_id == pledge_id, DonorChoice.user_id == user_id)))


def set_pass_on(pledge_id: int, user: User, pass_on: bool) -> DonorChoice:
    """A donor passes their part on to the pay-it-forward fund (or takes it back again)."""
    pledge = db.session.get(Pledge, pledge_id)
    if pledge is None:
        raise PayoutError("诺言不存在", "not_found")
    if pledge.destination != Destination.donors:
        raise PayoutError("这份诺言的还款全部转入诺言基金，无需选择", "forward")
    if pledge.is_closed:
        raise PayoutError("这份诺言已结束", "closed")
    if getattr(user, "is_staff", False) or donated_to(pledge, user.id) <= 0:
        raise PayoutError("只有这笔筹款的捐款人可以选择", "not_donor")
    choice = db.session.scalar(select(DonorChoice).where(
        DonorChoice.pledge_id == pledge_id, DonorChoice.user_id == user.id)) or DonorChoice(
            pledge_id=pledge_id, user_id=user.id)
    choice.pass_on = bool(pass_on)
    db.session.add(choice)
    db.session.commit()
    return choice


def start_repayment(pledge_id: int, user: User, amount_fen: int | None, form_key: str,
                    trade_type: str, client_ip: str) -> Payment:
    """A WeChat Pay order for a repayment: by default the next instalment's remainder."""
    if getattr(user, "is_staff", False) or not getattr(user, "openid", None):
        raise PayoutError("请使用微信登录后再还款", "not_wechat_user")
    if not FORM_KEY.match(form_key or ""):
        raise PayoutError("页面已过期，请刷新后重新提交", "form_key")
    if trade_type not in ("JSAPI", "NATIVE"):
        raise PayoutError("不支持的支付方式", "trade_type")
    key = f"{PAYABLE_TYPE}:{user.id}:{form_key}"
    existing = payments.find_by_key(key)
    if existing is not None:
        return existing
    pledge = db.session.get(Pledge, pledge_id)
    if pledge is None or pledge.user_id != user.id:
        raise PayoutError("只有许下诺言的人可以还款", "forbidden")
    if pledge.is_closed:
        done = "已兑现" if pledge.status == PledgeStatus.kept else "已结束（未兑现）"
        raise PayoutError(f"这份诺言{done}，不再接受还款", "closed")
    following = next_instalment(pledge)
    if amount_fen is None:
        amount_fen = following.amount_fen - following.paid_fen if following else 0
    if (type(amount_fen) is not int or amount_fen <= 0
            or (amount_fen < 1_00 and amount_fen != pledge.remaining_fen)):
        raise PayoutError("还款金额至少 1 元", "amount")
    if amount_fen > pledge.remaining_fen:
        raise PayoutError(f"还款金额不能超过尚未归还的 ¥{format_yuan(pledge.remaining_fen)}",
                          "amount")
    repayment = Repayment(pledge_id=pledge.id, user_id=user.id, amount_fen=amount_fen)
    db.session.add(repayment)
    db.session.flush()
    try:
        return payments.start_checkout(payments.Checkout(
            payable_type=PAYABLE_TYPE, payable_id=repayment.id, amount_fen=amount_fen,
            description=f"相助诺言还款（诺言编号 {pledge.id}）", idempotency_key=key,
            user_id=user.id, openid=user.openid, trade_type=trade_type, client_ip=client_ip))
    except payments.CheckoutConflict as error:
        raise PayoutError(str(error), "checkout_conflict") from error


def mark_broken(now: datetime | None = None) -> int:
    """Close as broken the active pledges with an instalment unpaid long past its due date."""
    limit = china_today(now) - timedelta(days=BROKEN_AFTER_DAYS)
    ids = db.session.scalars(select(Instalment.pledge_id).join(
        Pledge, Pledge.id == Instalment.pledge_id).where(
        Pledge.status == PledgeStatus.active, Instalment.due_on < limit,
        Instalment.paid_fen < Instalment.amount_fen).distinct()).all()
    for pledge_id in ids:
        pledge = db.session.get(Pledge, pledge_id, with_for_update=True)
        if pledge.status != PledgeStatus.active:
            continue
        pledge.status, pledge.closed_at = PledgeStatus.broken, now or utcnow()
        add_notice(pledge.user_id, "pledge", "诺言未能兑现",
                   f"有一期还款逾期超过 {BROKEN_AFTER_DAYS} 天，这份诺言已记为未兑现。",
                   f"/pledges/{pledge.id}")
    db.session.commit()
    return len(ids)
