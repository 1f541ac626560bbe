"""Donating: starting a donation's checkout, and recording it once its payment is paid."""
from __future__ import annotations

import re
import unicodedata

from flask import current_app, url_for
from sqlalchemy import bindparam, update

from app.auth import legal
from app.campaigns.models import Campaign, CampaignStatus
from app.campaigns.services import end_at_target_in_transaction
from app.notices.services import send_told
from app.donations.models import (AMOUNT_MAX_FEN, AMOUNT_MIN_FEN, BLESSING_MAX, PRESETS_FEN,
                                  Donation)
from app.donations.signals import send_donation_paid
from app.extensions import db
from app.ledger.services import campaign_custody
from app.models_base import format_yuan, yuan_to_fen
from app.payments import services as payments
from app.payments.models import Payment
from app.payments.payables import (PaidOutcome, PaidPayment, PayableDescription,
                                   PayableHandler)

FORM_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
PAYABLE_TYPE = "donation"
DONATIONS = Donation.__table__
CAMPAIGNS = Campaign.__table__
# The confirming transaction's statements, built once (the notify hot path).
MARK_PAID = (update(DONATIONS)
             .where(DONATIONS.c.id == bindparam("d_id"), DONATIONS.c.paid_at.is_(None))
             .values(paid_at=bindparam("d_paid_at"))
             .returning(DONATIONS.c.campaign_id, DONATIONS.c.user_id))
ADD_TO_TOTALS = (update(CAMPAIGNS).where(CAMPAIGNS.c.id == bindparam("c_id"))
                 .values(raised_fen=CAMPAIGNS.c.raised_fen + bindparam("c_amount"),
                         donation_count=CAMPAIGNS.c.donation_count + 1)
                 .returning(CAMPAIGNS.c.status, CAMPAIGNS.c.raised_fen, CAMPAIGNS.c.target_fen))


class DonationError(Exception):
    """A donation refused for a reason the donor can read."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


def parse_amount(preset: str | None, custom: str | None) -> int:
    """The amount in fen from a preset button or the custom field (the custom field wins)."""
    text = (custom or "").strip() or (preset or "").strip()
    if not text:
        raise DonationError("请选择或填写捐款金额", "amount_missing")
    try:
        fen = yuan_to_fen(text)
    except ValueError:
        raise DonationError("请填写正确的金额，例如 50 或 50.5", "amount_invalid") from None
    check_amount(fen)
    return fen


def check_amount(fen: int) -> None:
    if fen < AMOUNT_MIN_FEN or fen > AMOUNT_MAX_FEN:
        raise DonationError(f"单笔捐款金额为 {format_yuan(AMOUNT_MIN_FEN)} 元至 "
                            f"{format_yuan(AMOUNT_MAX_FEN)} 元", "amount_out_of_range")


def clean_blessing(text: str | None) -> str:
    text = unicodedata.normalize("NFC", text or "")
    text = "".join(ch for ch in text if ch in "\n" or unicodedata.category(ch)[0] != "C")
    text = text.strip()
    if len(text) > BLESSING_MAX:
        raise DonationError(f"祝福最多 {BLESSING_MAX} 个字", "blessing_too_long")
    return text


def start_donation(*, campaign_id: int, user, amount_fen: int, blessing: str, anonymous: bool,
                   form_key: str, trade_type: str, client_ip: str,
                   claimed_openid: str | None = None) -> Payment:
    """One order per checkout form: the same form submitted twice gives the same payment."""
    if getattr(user, "is_staff", False) or not getattr(user, "openid", None):
        raise DonationError("请使用微信登录后再捐款", "not_wechat_user")
    user_id, openid = user.id, user.openid
    if claimed_openid and claimed_openid != openid:
        raise DonationError("支付用的微信账号与当前登录的账号不一致，请重新登录", "foreign_openid")
    if not FORM_KEY.match(form_key or ""):
        raise DonationError("页面已过期，请刷新后重新提交", "form_key_invalid")
    if trade_type not in ("JSAPI", "NATIVE"):
        raise DonationError("不支持的支付方式", "trade_type_invalid")
    check_amount(amount_fen)
    blessing = clean_blessing(blessing)
    key = f"{PAYABLE_TYPE}:{user_id}:{form_key}"
    existing = payments.find_by_key(key)
    if existing is not None:
        if existing.amount_fen != amount_fen:
            raise DonationError("该订单已提交，请刷新页面后重新捐款", "checkout_conflict")
        return existing
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise DonationError("筹款不存在", "not_found")
    if not campaign.accepts_donations:
        raise DonationError(f"该筹款{campaign.status.label}，暂不接受捐款", "not_live")
    donation = Donation(campaign_id=campaign.id, user_id=user_id, amount_fen=amount_fen,
                        blessing=blessing, anonymous=bool(anonymous))
    db.session.add(donation)
    db.session.flush()
    # Paying is accepting the 用户协议 and 隐私政策 the donate panel links to: kept once per
    # version, committed with the order.
    legal.note_acceptance(user_id, legal.VIA_DONATION)
    try:
        return payments.start_checkout(payments.Checkout(
            payable_type=PAYABLE_TYPE, payable_id=donation.id, amount_fen=amount_fen,
            description=f"相助大病筹款-爱心捐款（筹款编号 {campaign.id}）",
            idempotency_key=key, user_id=user_id, openid=openid, trade_type=trade_type,
            client_ip=client_ip))
    except payments.CheckoutConflict as error:
        raise DonationError(str(error), "checkout_conflict") from error


class DonationPayable(PayableHandler):
    type = PAYABLE_TYPE
    payable_table = DONATIONS

    def on_paid(self, payment: PaidPayment) -> PaidOutcome:
        conn = db.session.connection()  # Core on the confirming transaction: the hot path
        campaign_id, user_id = conn.execute(MARK_PAID, {
            "d_id": payment.payable_id, "d_paid_at": payment.paid_at}).one()
        status, raised, target = conn.execute(ADD_TO_TOTALS, {
            "c_id": campaign_id, "c_amount": payment.amount_fen}).one()
        late = status != CampaignStatus.live
        if late:
            conn.execute(update(DONATIONS).where(DONATIONS.c.id == payment.payable_id)
                         .values(late=True))
        if not late and raised >= target:
            end_at_target_in_transaction(campaign_id, payment.paid_at)

        def after() -> None:
            send_told()   # the end at target, told in this transaction
            send_donation_paid(current_app._get_current_object(),
                               donation_id=payment.payable_id, campaign_id=campaign_id,
                               user_id=user_id, amount_fen=payment.amount_fen, late=late)

        return PaidOutcome(account=campaign_custody(campaign_id), memo="爱心捐款 · 微信支付",
                           late=late, after_commit=after)

    def success_url(self, payable_id: int) -> str:
        return url_for("donations.thanks", donation_id=payable_id)

    def describe(self, payable_id: int) -> PayableDescription | None:
        donation = db.session.get(Donation, payable_id)
        campaign = db.session.get(Campaign, donation.campaign_id) if donation else None
        if campaign is None:
            return None
        return PayableDescription(
            title=campaign.title, back_label="返回修改金额",
            back_url=url_for("campaigns.detail", campaign_id=campaign.id, _anchor="donate"))



__all__ = ["PRESETS_FEN", "DonationError", "parse_amount", "start_donation"]
