"""The donate form, the thank-you page, the public donations list (HTML and JSON)."""
from __future__ import annotations

import secrets

from flask import (Blueprint, abort, current_app, jsonify, redirect, render_template, request,
                   session, url_for)
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required

from app.auth import legal
from app.campaigns.models import Campaign
from app.core import pii
from app.core.errors import wants_json
from app.core.replica import reads_from_replica
from app.donations import services
from app.donations.ledger_receipt import ledger_receipt
from app.donations.models import AMOUNT_MAX_FEN, AMOUNT_MIN_FEN, BLESSING_MAX, PRESETS_FEN, Donation
from app.donations.queries import paid_donations
from app.core.signals import announce_funnel_step
from app.extensions import db, limiter
from app.ledger.views import AccountPage, describe_campaign_accounts
from app.models_base import format_yuan
from app.payments.models import Payment
from app.payments.pay_sheet import pay_sheet
from app.payments.provider import ProviderError

bp = Blueprint("donations", __name__)

DEFAULT_PRESET_FEN = 20_00
PENDING_CHECKOUT = "pending_donation"  # session: the amount panel's choice while signing in
CHECKOUT_FIELDS = ("preset", "amount", "blessing", "anonymous", "show_profile", "checkout_key",
                   "blessing_confirmed")
BLESSING_PII_CODE = "blessing_personal_data"


def _user_or_ip() -> str:
    if current_user.is_authenticated:
        return f"user:{current_user.get_id()}"
    return f"ip:{get_remote_address()}"


def _limit_per_user() -> str:
    return current_app.config.get("DONATION_RATE_LIMIT_USER", "10/minute;60/hour")


def _limit_per_ip() -> str:
    return current_app.config.get("DONATION_RATE_LIMIT_IP", "30/minute;300/hour")


def _blessings_of_user_or_ip() -> str:
    return f"blessing:{_user_or_ip()}"


def _limit_blessings() -> str:
    """Donations that carry a blessing, per person: a flood of blessings is refused (429)."""
    return current_app.config.get("BLESSING_RATE_LIMIT_USER", "3/minute;20/hour")


def _without_blessing() -> bool:
    return not (request.form.get("blessing") or "").strip()


@bp.app_context_processor
def donate_helpers():
    return {"new_checkout_key": lambda: secrets.token_urlsafe(16),
            "donation_presets": PRESETS_FEN, "donation_default_fen": DEFAULT_PRESET_FEN,
            "donation_min_fen": AMOUNT_MIN_FEN, "donation_max_fen": AMOUNT_MAX_FEN,
            "blessing_max": BLESSING_MAX, "recent_donations": _recent_donations,
            "donation_amount_fen": _amount_chosen}


def _amount_chosen(form) -> int | None:
    """The amount the panel quotes the channel fee on: the default preset on a fresh form, what
    a refused form would have paid, None when that is no amount one can pay (a tampered preset
    such as -10): a fee is never computed for an amount that could not be charged."""
    preset, custom = form.get("preset"), form.get("amount")
    if not (preset or "").strip() and not (custom or "").strip():
        return DEFAULT_PRESET_FEN
    try:
        return services.parse_amount(preset, custom)
    except services.DonationError:
        return None


def _public_campaign(campaign_id: int) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or not campaign.is_public:
        abort(404)
    return campaign


def _in_wechat() -> bool:
    return "MicroMessenger" in (request.user_agent.string or "")


@bp.route("/c/<id:campaign_id>/donate", methods=["GET", "POST"])
@limiter.limit(_limit_per_user, key_func=_user_or_ip, methods=["POST"])
@limiter.limit(_limit_per_ip, key_func=get_remote_address, methods=["POST"])
@limiter.limit(_limit_blessings, key_func=_blessings_of_user_or_ip, methods=["POST"],
               exempt_when=_without_blessing)
def donate(campaign_id: int):
    """The amount panel posts here from the campaign page, signed in or not: a visitor is signed
    in first (silently inside WeChat) with the chosen amount kept, then the order is made."""
    campaign = _public_campaign(campaign_id)
    if request.method == "GET":
        if not current_user.is_authenticated:
            return redirect(url_for("campaigns.detail", campaign_id=campaign.id,
                                    _anchor="donate"))
        return render_template("donations/donate.html", campaign=campaign)
    form = request.form
    if not current_user.is_authenticated and wants_json():
        return _json_error(401, "sign_in_required", "请先登录")
    warning = _blessing_warning(form)
    if warning:
        if wants_json():
            return _json_error(422, BLESSING_PII_CODE, warning)
        return render_template("donations/donate.html", campaign=campaign, form=form,
                               blessing_warning=warning)
    if not current_user.is_authenticated:
        return _sign_in_first(campaign, form)
    if _wants_profile(form) and not getattr(current_user, "has_profile", True) and _in_wechat():
        return _sign_in_first(campaign, form)
    return _checkout(campaign, form)


@bp.get("/c/<id:campaign_id>/donate/continue")
@login_required
def resume(campaign_id: int):
    """Back from signing in: the order for the amount chosen before. It is made from what the
    CSRF-checked POST kept in this session only, so a link alone cannot start one."""
    campaign = _public_campaign(campaign_id)
    pending = session.pop(PENDING_CHECKOUT, None)
    if not isinstance(pending, dict) or pending.get("campaign_id") != campaign.id:
        return redirect(url_for("campaigns.detail", campaign_id=campaign.id, _anchor="donate"))
    return _checkout(campaign, pending)


def _blessing_warning(form) -> str | None:
    """Before any order: a blessing holding a phone, ID, card number or e-mail is shown to
    everyone (masked), so the donor is asked once whether to correct it. Sending the form
    again with blessing_confirmed=1 goes on to pay."""
    if form.get("blessing_confirmed") == "1":
        return None
    found = pii.kinds(form.get("blessing"))
    if not found:
        return None
    names = "、".join(kind.label for kind in found)
    return (f"祝福中含有{names}。祝福会公开显示，号码将自动隐藏一部分；"
            "如不想公开，请删去后再捐款，或不修改继续捐款。")


def _wants_profile(form) -> bool:
    return form.get("show_profile") == "1" and form.get("anonymous") != "1"


def _sign_in_first(campaign: Campaign, form):
    """Keep the chosen amount in the session and sign in: snsapi_base (no consent page) unless
    the donor chose to show their WeChat name and avatar (snsapi_userinfo)."""
    try:
        services.parse_amount(form.get("preset"), form.get("amount"))
        services.clean_blessing(form.get("blessing", ""))
    except services.DonationError as error:
        return render_template("donations/donate.html", campaign=campaign, error=error.message,
                               form=form), 422
    session[PENDING_CHECKOUT] = {"campaign_id": campaign.id,
                                 **{name: form.get(name, "") for name in CHECKOUT_FIELDS}}
    return redirect(url_for("auth.login", scope="userinfo" if _wants_profile(form) else "base",
                            next=url_for("donations.resume", campaign_id=campaign.id)))


def _checkout(campaign: Campaign, form):
    in_wechat = _in_wechat()
    try:
        amount_fen = services.parse_amount(form.get("preset"), form.get("amount"))
        payment = services.start_donation(
            campaign_id=campaign.id, user=current_user, amount_fen=amount_fen,
            blessing=form.get("blessing", ""), anonymous=form.get("anonymous") == "1",
            form_key=form.get("checkout_key", ""), trade_type="JSAPI" if in_wechat else "NATIVE",
            client_ip=request.remote_addr or "127.0.0.1",
            claimed_openid=form.get("openid") or None)
    except services.DonationError as error:
        status = 409 if error.code in ("not_live", "checkout_conflict") else 422
        if error.code == "not_found":
            abort(404)
        if wants_json():
            return _json_error(status, error.code, error.message)
        return render_template("donations/donate.html", campaign=campaign, error=error.message,
                               form=form), status
    except ProviderError as error:
        message = f"微信支付下单失败：{error.message}"
        if wants_json():
            return _json_error(502, "provider_error", message)
        return render_template("donations/donate.html", campaign=campaign, error=message,
                               form=form), 502
    announce_funnel_step("donate_started", campaign.id)
    if wants_json():
        return jsonify(pay_sheet(payment))
    if payment.trade_type == "JSAPI" and in_wechat:
        # Straight to WeChat's pay sheet, opened on the campaign page itself (donate.js).
        return redirect(url_for("campaigns.detail", campaign_id=campaign.id,
                                _anchor=f"pay={payment.out_trade_no}"))
    return redirect(url_for("payments.order", out_trade_no=payment.out_trade_no))


def _json_error(status: int, code: str, message: str):
    return jsonify(error={"code": code, "message": message}), status


@bp.get("/donations/<id:donation_id>/thanks")
@login_required
def thanks(donation_id: int):
    donation = db.session.get(Donation, donation_id)
    if donation is None or current_user.is_staff or donation.user_id != current_user.id:
        abort(404)
    campaign = db.session.get(Campaign, donation.campaign_id)
    if donation.paid_at is None:
        payment = db.session.get(Payment, donation.payment_id) if donation.payment_id else None
        if payment is None:
            abort(404)
        return redirect(url_for("payments.order", out_trade_no=payment.out_trade_no))
    if legal.allows(current_user.id, legal.OptionalPurpose.MUTUAL_AID_INVITATION):
        announce_funnel_step("invitation_shown", campaign.id)
    payment = db.session.get(Payment, donation.payment_id) if donation.payment_id else None
    receipt = ledger_receipt(donation.id, payment.out_trade_no if payment else "")
    return render_template("donations/thanks.html", donation=donation, campaign=campaign,
                           receipt=receipt)


@bp.get("/c/<id:campaign_id>/donations")
@reads_from_replica
def donations_page(campaign_id: int):
    campaign = _public_campaign(campaign_id)
    rows, next_cursor = _page(campaign.id)
    return render_template("donations/list.html", campaign=campaign, rows=rows,
                           next_cursor=next_cursor)


@bp.get("/api/v1/campaigns/<id:campaign_id>/donations")
@reads_from_replica
def donations_json(campaign_id: int):
    campaign = _public_campaign(campaign_id)
    rows, next_cursor = _page(campaign.id)
    return jsonify(donations=[dict(row.as_json(), amount_yuan=format_yuan(row.amount_fen),
                                   blessing=pii.mask(row.blessing))
                              for row in rows], next_cursor=next_cursor)


def _viewer_id() -> int | None:
    if current_user.is_authenticated and not getattr(current_user, "is_staff", False):
        return current_user.id
    return None


def _recent_donations(campaign_id: int):
    return paid_donations(campaign_id, viewer_id=_viewer_id())


def _page(campaign_id: int):
    try:
        return paid_donations(campaign_id, request.args.get("cursor"), viewer_id=_viewer_id())
    except ValueError:
        abort(400)


def _describe(campaign_id: int) -> AccountPage | None:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or not campaign.is_public:
        return None
    return AccountPage(title=campaign.title,
                       back_url=url_for("campaigns.detail", campaign_id=campaign.id),
                       back_label="返回筹款页")


describe_campaign_accounts(_describe)
