"""A donor's own donations (我的捐款): the list, one donation's 捐款凭证, and a statement of a
date range — the donor's name unmasked, nobody else's donations."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import select

from app.auth.models import User
from app.campaigns.models import Campaign
from app.core.chinatime import CHINA, china_today
from app.donations.models import Donation
from app.donations.queries import WECHAT_DEFAULT_NICKNAME
from app.donations.refund_status import RefundView, refunds_of
from app.extensions import db
from app.models_base import as_utc
from app.payments.models import Payment

NOT_A_CHARITABLE_GIFT = "个人大病求助不属于慈善捐赠，不能开具捐赠票据，不能抵扣个人所得税。"
STATEMENT_MAX_DAYS = 366 * 3
LIST_LIMIT = 500


class StatementRangeError(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class MyDonation:
    id: int
    campaign_id: int
    campaign_title: str
    amount_fen: int
    channel_fee_fen: int
    blessing: str
    anonymous: bool
    paid_at: datetime
    out_trade_no: str
    refund: RefundView | None

    @property
    def status(self) -> str:
        if self.refund is None:
            return "已支付"
        whole = self.refund.amount_fen >= self.amount_fen
        kind = "全额退款" if whole else "部分退款"
        return f"{kind} ¥{self.refund.amount_fen / 100:,.2f} · {self.refund.status_label}"

    @property
    def refunded_fen(self) -> int:
        return self.refund.amount_fen if self.refund and self.refund.settled else 0


def donor_name(user: User) -> str:
    """The donor's own name, unmasked, on their own pages."""
    if user.nickname and user.nickname != WECHAT_DEFAULT_NICKNAME:
        return user.nickname
    return "我"


def _query(user_id: int):
    return (select(Donation, Campaign.title, Payment.channel_fee_fen, Payment.out_trade_no)
            .join(Campaign, Campaign.id == Donation.campaign_id)
            .outerjoin(Payment, Payment.id == Donation.payment_id)
            .where(Donation.user_id == user_id, Donation.paid_at.is_not(None))
            .order_by(Donation.paid_at.desc(), Donation.id.desc()))


def _rows(query) -> list[MyDonation]:
    found = db.session.execute(query).all()
    refunds = refunds_of(d.id for d, *_ in found)
    return [MyDonation(id=d.id, campaign_id=d.campaign_id, campaign_title=title,
                       amount_fen=d.amount_fen, channel_fee_fen=fee or 0, blessing=d.blessing,
                       anonymous=d.anonymous, paid_at=as_utc(d.paid_at),
                       out_trade_no=trade_no or "", refund=refunds.get(d.id))
            for d, title, fee, trade_no in found]


def my_donations(user_id: int) -> list[MyDonation]:
    return _rows(_query(user_id).limit(LIST_LIMIT))


def my_donation(user_id: int, donation_id: int) -> MyDonation | None:
    """One of the donor's own paid donations; None for anyone else's (then the page is 404)."""
    rows = _rows(_query(user_id).where(Donation.id == donation_id))
    return rows[0] if rows else None


def parse_range(start: str | None, end: str | None) -> tuple[date, date]:
    """The statement's from/to dates (China calendar days, both included)."""
    if not (start or "").strip() or not (end or "").strip():
        raise StatementRangeError("请填写开始日期和结束日期")
    try:
        first, last = date.fromisoformat(start.strip()), date.fromisoformat(end.strip())
    except ValueError:
        raise StatementRangeError("日期格式不正确，请按 年-月-日 填写，例如 2024-01-31") from None
    if first > last:
        raise StatementRangeError("开始日期不能晚于结束日期")
    if first > china_today():
        raise StatementRangeError("开始日期不能晚于今天")
    if (last - first).days >= STATEMENT_MAX_DAYS:
        raise StatementRangeError("一次最多可开具三年的明细，请缩短日期范围")
    return first, last


def donations_between(user_id: int, first: date, last: date) -> list[MyDonation]:
    # bounds in UTC, as paid_at is stored: SQLite compares the text, so +08:00 would not do
    since = datetime.combine(first, time.min, CHINA).astimezone(timezone.utc)
    before = datetime.combine(last + timedelta(days=1), time.min, CHINA).astimezone(timezone.utc)
    return list(reversed(_rows(_query(user_id).where(Donation.paid_at >= since,
                                                     Donation.paid_at < before))))
