"""The organizer's withdrawal page, receipts and leftover statement; a donor's refunds. Thin: parse, call a service, render. Files of withdrawals are served from the private
store."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from app.auth.decorators import organizer_required
from app.campaigns.forms import ActionForm
from app.campaigns.models import Campaign
from app.core import pii
from app.extensions import db
from app.payouts import disclosure as queries
from app.payouts import documents, withdrawals
from app.payouts.errors import PayoutError
from app.payouts.forms import ReceiptForm, StatementForm, WithdrawalForm, checked_files, fen_of
from app.payouts.funds import available_fen, custody_balance
from app.payouts.models import (
    DocKind,
    DocStatus,
    LeftoverStatement,
    PayoutDocument,
    Withdrawal,
)
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
    return {"payout_disclosure": queries.disclosure}


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
            "statement": statement,
            "first_withdrawal": not any(w.status.value in ("approved", "released", "paid") for w in history)}


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
            if message := pii.warning(form.body.data):
                flash(message, "warning")
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


# --- a person's own -----------------------------------------------------------------------

@bp.get("/me/refunds")
@organizer_required
def my_refunds():
    return render_template("payouts/my_refunds.html",
                           refunds=queries.my_refunds(current_user.id))
