"""Pledge pages: make one (the organizer, after the end), read it (anyone), repay it (the
pledger, by WeChat Pay), pass one's part on (a donor); the pay-it-forward fund's page; the
helpers other features' templates use (the campaign page's badge, the withdrawal page's link).
Thin: parse, call a service, render."""
from __future__ import annotations

import secrets

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from app.auth.decorators import organizer_required
from app.campaigns.forms import ActionForm
from app.campaigns.models import Campaign, CampaignStatus
from app.core.chinatime import china_today
from app.extensions import db
from app.payments.provider import ProviderError
from app.payouts.errors import PayoutError
from app.payouts.forms import fen_of
from app.pledges import distribution
from app.pledges import services as pledges
from app.pledges.forms import PledgeForm, RepayForm
from app.pledges.models import Pledge, Share
from app.pledges.queries import pledge_badge

bp = Blueprint("pledges", __name__)


@bp.app_context_processor
def pledge_helpers():
    return {"pledge_badge": pledge_badge, "pledge_of": pledges.pledge_of,
            "pledge_standing_labels": pledges.STANDING_LABELS}


def _own_campaign(campaign_id: int) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or campaign.organizer_id != current_user.id:
        abort(404)
    return campaign


@bp.route("/c/<id:campaign_id>/pledge", methods=["GET", "POST"])
@organizer_required
def new_pledge(campaign_id: int):
    campaign = _own_campaign(campaign_id)
    existing = pledges.pledge_of(campaign.id)
    if existing is not None:
        return redirect(url_for(".pledge_page", pledge_id=existing.id))
    form = PledgeForm()
    if form.validate_on_submit():
        total = fen_of(form.total)
        if total is not None:
            try:
                pledge = pledges.create_pledge(
                    campaign.id, current_user, total_fen=total, schedule=form.schedule.data,
                    instalments=form.instalments.data or 1, first_due=form.first_due.data,
                    destination=form.destination.data, words=form.words.data)
            except PayoutError as error:
                form.form_errors.append(error.message)
            else:
                flash("诺言已公开。每期到期前三天，我们会通过微信提醒您。", "success")
                return redirect(url_for(".pledge_page", pledge_id=pledge.id))
    status = 422 if request.method == "POST" else 200
    return render_template("pledges/pledge_form.html", campaign=campaign, form=form,
                           ended=campaign.status == CampaignStatus.ended), status


@bp.get("/pledges/<id:pledge_id>")
def pledge_page(pledge_id: int):
    pledge = db.session.get(Pledge, pledge_id)
    if pledge is None:
        abort(404)
    viewer = current_user if current_user.is_authenticated and not current_user.is_staff else None
    donated = pledges.donated_to(pledge, viewer.id) if viewer else 0
    shares = db.session.scalars(select(Share).where(Share.pledge_id == pledge.id)).all()
    return render_template(
        "pledges/pledge.html", pledge=pledge, campaign=pledge.campaign,
        standing=pledges.standing(pledge), labels=pledges.STANDING_LABELS,
        record=[(p, pledges.standing(p))
                for p in pledges.record_of(pledge.user_id, pledge.campaign_id)],
        is_pledger=viewer is not None and viewer.id == pledge.user_id, donated_fen=donated,
        passes_on=pledges.passes_on(pledge.id, viewer.id) if viewer else False,
        next_instalment=pledges.next_instalment(pledge), rules=distribution.FUND_RULES,
        returned_fen=sum(s.amount_fen for s in shares if s.route.value == "back"
                         and s.status.value == "paid"),
        returning_fen=sum(s.amount_fen for s in shares if s.route.value == "back"
                          and s.status.value != "paid"),
        forwarded_fen=sum(s.amount_fen for s in shares if s.route.value == "forward"),
        repay_form=RepayForm(checkout_key=secrets.token_urlsafe(16)), action_form=ActionForm(),
        paid=request.args.get("paid") == "1", today=china_today())


@bp.post("/pledges/<id:pledge_id>/repay")
@organizer_required
def repay(pledge_id: int):
    form = RepayForm()
    if not form.validate_on_submit():
        abort(400)
    amount = fen_of(form.amount, required=False) if (form.amount.data or "").strip() else None
    if form.amount.errors:
        flash(form.amount.errors[0], "error")
        return redirect(url_for(".pledge_page", pledge_id=pledge_id))
    in_wechat = "MicroMessenger" in (request.user_agent.string or "")
    try:
        payment = pledges.start_repayment(pledge_id, current_user, amount,
                                          form.checkout_key.data,
                                          "JSAPI" if in_wechat else "NATIVE",
                                          request.remote_addr or "127.0.0.1")
    except PayoutError as error:
        flash(error.message, "error")
        return redirect(url_for(".pledge_page", pledge_id=pledge_id))
    except ProviderError as error:
        flash(f"微信支付下单失败：{error.message}", "error")
        return redirect(url_for(".pledge_page", pledge_id=pledge_id))
    return redirect(url_for("payments.order", out_trade_no=payment.out_trade_no))


@bp.post("/pledges/<id:pledge_id>/pass-on")
@organizer_required
def pass_on(pledge_id: int):
    if ActionForm().validate_on_submit():
        wanted = request.form.get("pass_on") == "1"
        try:
            pledges.set_pass_on(pledge_id, current_user, wanted)
            flash("已选择把您的部分转入诺言基金，帮助下一位患者。" if wanted
                  else "已改为把您的部分还给您。", "success")
        except PayoutError as error:
            flash(error.message, "error")
    return redirect(url_for(".pledge_page", pledge_id=pledge_id))


@bp.get("/pledges/fund")
def fund():
    return render_template("pledges/fund.html", balance_fen=distribution.fund_balance(),
                           entries=distribution.fund_entries(), rules=distribution.FUND_RULES)
