"""The organizer's withdrawal page, receipts and leftover statement; pledges (make, read, repay,
pass on); the pay-it-forward fund; a donor's refunds; in-app notices. Thin: parse, call a
service, render. Files of withdrawals are served from the private store."""
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
from app.payouts import disclosure as queries
from app.payouts import distribution, documents, pledges, withdrawals
from app.payouts.errors import PayoutError
from app.payouts.forms import (
    PledgeForm,
    ReceiptForm,
    RepayForm,
    StatementForm,
    WithdrawalForm,
    checked_files,
    fen_of,
)
from app.payouts.funds import available_fen, custody_balance
from app.payouts.models import (
    DocKind,
    DocStatus,
    LeftoverStatement,
    PayoutDocument,
    Withdrawal,
)
from app.payouts.notices import read_notices
from app.payouts.pledge_models import Pledge, Share
from app.review.models import IdentityStatus, Payee
from app.core.storage import StorageError

bp = Blueprint("payouts", __name__)



def _own_campaign(campaign_id: int) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or campaign.organizer_id != current_user.id:
        abort(404)
    return campaign


@bp.app_context_processor
def payout_helpers():
    return {"payout_disclosure": queries.disclosure, "pledge_badge": queries.pledge_badge,
            "pledge_standing_labels": pledges.STANDING_LABELS}


# --- withdrawals --------------------------------------------------------------------------

@bp.route("/c/<id:campaign_id>/withdraw", methods=["GET", "POST"])
@organizer_required
def withdraw(campaign_id: int):
    campaign = _own_campaign(campaign_id)
    form = WithdrawalForm()
    status = 200
    if form.validate_on_submit():
        amount = fen_of(form.amount)
        invoice_total = fen_of(form.invoice_total, required=False)
        files = checked_files(form.invoices)
        if amount is not None and files is not None and not form.invoice_total.errors:
            try:
                withdrawals.request_withdrawal(campaign.id, current_user, amount,
                                               form.purpose.data, invoice_total, files)
            except PayoutError as error:
                form.form_errors.append(error.message)
            else:
                flash("提现申请已提交，财务审核通过后将转入收款账户。", "success")
                return redirect(url_for(".withdraw", campaign_id=campaign.id))
    if request.method == "POST":
        status = 422
    return render_template("payouts/withdraw.html", **_withdraw_context(campaign, form)), status


def _withdraw_context(campaign: Campaign, form: WithdrawalForm) -> dict:
    payee = db.session.scalar(select(Payee).where(Payee.campaign_id == campaign.id))
    history = list(db.session.scalars(select(Withdrawal).where(
        Withdrawal.campaign_id == campaign.id).order_by(Withdrawal.id.desc())))
    statement = db.session.scalar(select(LeftoverStatement).where(
        LeftoverStatement.campaign_id == campaign.id))
    return {"campaign": campaign, "form": form, "payee": payee,
            "payee_ok": payee is not None and payee.status == IdentityStatus.verified,
            "payee_label": queries.payee_label(payee), "available_fen": available_fen(campaign.id),
            "balance_fen": custody_balance(campaign.id), "history": history,
            "batch_threshold_fen": withdrawals.BATCH_THRESHOLD_FEN, "action_form": ActionForm(), "receipt_form": ReceiptForm(),
            "statement_form": StatementForm(body=statement.body if statement else None),
            "statement": statement, "pledge": pledges.pledge_of(campaign.id),
            "first_withdrawal": not any(w.status.value in ("approved", "paid") for w in history)}


@bp.post("/c/<id:campaign_id>/withdrawals/<id:withdrawal_id>/cancel")
@organizer_required
def cancel(campaign_id: int, withdrawal_id: int):
    campaign = _own_campaign(campaign_id)
    if ActionForm().validate_on_submit():
        try:
            withdrawals.cancel_withdrawal(withdrawal_id, current_user)
            flash("提现申请已撤回。", "success")
        except PayoutError as error:
            flash(error.message, "error")
    return redirect(url_for(".withdraw", campaign_id=campaign.id))


@bp.post("/c/<id:campaign_id>/withdrawals/<id:withdrawal_id>/receipts")
@organizer_required
def receipts(campaign_id: int, withdrawal_id: int):
    campaign = _own_campaign(campaign_id)
    form = ReceiptForm()
    if form.validate_on_submit():
        files = checked_files(form.receipts)
        if files is None:
            flash(form.receipts.errors[-1], "error")
        else:
            try:
                documents.upload_receipts(withdrawal_id, current_user, files)
                flash("收据已上传，财务审核后将在筹款页公示。", "success")
            except PayoutError as error:
                flash(error.message, "error")
    return redirect(url_for(".withdraw", campaign_id=campaign.id))


@bp.post("/c/<id:campaign_id>/statement")
@organizer_required
def statement(campaign_id: int):
    campaign = _own_campaign(campaign_id)
    form = StatementForm()
    if form.validate_on_submit():
        try:
            documents.save_statement(campaign.id, current_user, form.body.data)
            flash("剩余善款说明已公示在筹款页。", "success")
        except PayoutError as error:
            flash(error.message, "error")
    else:
        for errors in form.errors.values():
            flash(errors[0], "error")
    return redirect(url_for(".withdraw", campaign_id=campaign.id))


@bp.get("/payout-files/<id:document_id>")
def document_file(document_id: int):
    """Approved receipts are public (disclosure); anything else only to organizer and staff."""
    from app.review.views import private_file

    document = db.session.get(PayoutDocument, document_id)
    if document is None:
        abort(404)
    public = document.kind == DocKind.receipt and document.status == DocStatus.approved
    campaign = db.session.get(Campaign, document.campaign_id)
    staff = current_user.is_authenticated and getattr(current_user, "is_staff", False)
    owner = (current_user.is_authenticated and not staff
             and campaign.organizer_id == current_user.id)
    if not (public or staff or owner):
        abort(404)
    try:
        return private_file(documents.read, document, f"payout-{document.id}")
    except StorageError:
        abort(404)


# --- pledges ------------------------------------------------------------------------------

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
    return render_template("payouts/pledge_form.html", campaign=campaign, form=form,
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
        "payouts/pledge.html", pledge=pledge, campaign=pledge.campaign,
        standing=pledges.standing(pledge), labels=pledges.STANDING_LABELS,
        record=[(p, pledges.standing(p)) for p in pledges.record_of(pledge.user_id, pledge.campaign_id)],
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
                                          form.checkout_key.data, "JSAPI" if in_wechat else "NATIVE",
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
    return render_template("payouts/fund.html", balance_fen=distribution.fund_balance(),
                           entries=distribution.fund_entries(), rules=distribution.FUND_RULES)


# --- a person's own -----------------------------------------------------------------------

@bp.get("/me/refunds")
@organizer_required
def my_refunds():
    return render_template("payouts/my_refunds.html",
                           refunds=queries.my_refunds(current_user.id))


@bp.get("/me/notices")
@organizer_required
def notices():
    return render_template("payouts/notices.html", notices=read_notices(current_user.id))
