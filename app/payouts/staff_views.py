"""Finance's console for money going out: withdrawals to decide, receipts to publish, refunds of
terminated campaigns. Every decision goes through a service that writes the audit log."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.auth.decorators import staff_required
from app.auth.models import StaffRole
from app.campaigns.forms import ActionForm
from app.campaigns.models import Campaign
from app.core.params import id_arg
from app.extensions import db
from app.payouts import disclosure as queries
from app.payouts import approvals, documents, refunds, withdrawal_decisions
from app.payouts.errors import PayoutError, RetryLater
from app.payouts.forms import ReasonForm
from app.payouts.funds import available_fen, custody_balance, withdrawals_total
from app.payouts.models import PayoutDocument, Withdrawal, WithdrawalStatus
from app.core.audit import AuditEntry
from app.review.models import Payee

bp = Blueprint("payouts_staff", __name__, url_prefix="/staff/payouts")
W = WithdrawalStatus


DECISIONS = {
    "approve": (withdrawal_decisions.approve_withdrawal, "已审核通过，等待财务放款。"),
    "countersign": (withdrawal_decisions.countersign_withdrawal, "已复核，等待财务放款。"),
    "release": (withdrawal_decisions.release_withdrawal, "已放款，正在通过托管机构转账。"),
    "reject": (withdrawal_decisions.reject_withdrawal, "已驳回，发起人会看到原因。"),
}


@bp.get("/")
@staff_required(StaffRole.finance, StaffRole.reviewer)
def index():
    approved = queries.withdrawals_in(W.approved)
    waiting = {w.id: withdrawal_decisions.waiting_for(w) for w in approved}
    return render_template(
        "payouts/staff/index.html", requested=queries.withdrawals_in(W.requested),
        to_countersign=[w for w in approved if waiting[w.id] == "countersign"],
        to_release=[w for w in approved if waiting[w.id] == "release"],
        in_flight=queries.withdrawals_in(W.released), failed=queries.withdrawals_in(W.failed),
        receipts=queries.receipts_to_review(), refund_problems=queries.refunds_needing_attention(),
        terminated=queries.terminated_campaigns(), action_form=ActionForm(),
        second_approval_fen=withdrawal_decisions.second_approval_from_fen(),
        reason_form=ReasonForm())


@bp.get("/withdrawals/<id:withdrawal_id>")
@staff_required(StaffRole.finance, StaffRole.reviewer)
def withdrawal(withdrawal_id: int):
    item = db.session.get(Withdrawal, withdrawal_id)
    if item is None:
        abort(404)
    payee = db.session.get(Payee, item.payee_id)
    history = db.session.scalars(db.select(AuditEntry).where(
        AuditEntry.target_type == "withdrawal", AuditEntry.target_id == item.id)
        .order_by(AuditEntry.id)).all()
    others = db.session.scalars(db.select(Withdrawal).where(
        Withdrawal.campaign_id == item.campaign_id, Withdrawal.id != item.id)
        .order_by(Withdrawal.id.desc())).all()
    return render_template(
        "payouts/staff/withdrawal.html", item=item, campaign=item.campaign, payee=payee,
        payee_label=queries.payee_label(payee), balance_fen=custody_balance(item.campaign_id),
        in_flight_fen=withdrawals_total(item.campaign_id, (W.released,)),
        available_fen=available_fen(item.campaign_id), history=history, others=others,
        signoffs=approvals.signoffs(withdrawal_decisions.SUBJECT, item.id),
        waiting=withdrawal_decisions.waiting_for(item),
        second_approval_fen=withdrawal_decisions.second_approval_from_fen(),
        reason_form=ReasonForm(), action_form=ActionForm())


@bp.post("/withdrawals/<id:withdrawal_id>/<any(approve, countersign, release, reject):decision>")
@staff_required(StaffRole.finance, StaffRole.reviewer)
def decide(withdrawal_id: int, decision: str):
    form = ReasonForm()
    if not form.validate_on_submit():
        flash("原因最多 500 字", "error")
        return redirect(url_for(".withdrawal", withdrawal_id=withdrawal_id))
    act, done = DECISIONS[decision]
    try:
        act(withdrawal_id, current_user._get_current_object(), form.reason.data)
        flash(done, "success")
    except PayoutError as error:
        flash(error.message, "error")
    return redirect(url_for(".withdrawal", withdrawal_id=withdrawal_id))


@bp.post("/documents/<id:document_id>/<any(approve, reject):decision>")
@staff_required(StaffRole.finance)
def decide_document(document_id: int, decision: str):
    form = ReasonForm()
    document = db.session.get(PayoutDocument, document_id)
    if document is None or not form.validate_on_submit():
        abort(404 if document is None else 400)
    try:
        documents.decide_document(document_id, current_user._get_current_object(),
                                  decision == "approve", form.reason.data)
        flash("收据已公示。" if decision == "approve" else "已退回收据。", "success")
    except PayoutError as error:
        flash(error.message, "error")
    return redirect(request.form.get("next") or url_for(".index"))


@bp.get("/campaigns/<id:campaign_id>/refunds")
@staff_required(StaffRole.finance)
def campaign_refunds(campaign_id: int):
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        abort(404)
    return render_template(
        "payouts/staff/refunds.html", campaign=campaign, rows=queries.refunds_of(campaign_id),
        progress=queries.refund_progress(campaign_id), balance_fen=custody_balance(campaign_id),
        action_form=ActionForm(), reason_form=ReasonForm())


@bp.post("/campaigns/<id:campaign_id>/refunds/start")
@staff_required(StaffRole.finance)
def start_refunds(campaign_id: int):
    if ActionForm().validate_on_submit():
        try:
            refund_ids = refunds.plan(campaign_id, by_staff=current_user._get_current_object())
        except RetryLater:
            flash("有提现正在转账，转账完成后系统会自动发起退款。", "error")
        except PayoutError as error:
            flash(error.message, "error")
        else:
            from app.payouts.tasks import enqueue_refunds

            enqueue_refunds(refund_ids)
            flash(f"已发起 {len(refund_ids)} 笔退款。", "success")
    return redirect(url_for(".campaign_refunds", campaign_id=campaign_id))


@bp.post("/refunds/<id:refund_id>/retry")
@staff_required(StaffRole.finance)
def retry_refund(refund_id: int):
    form = ReasonForm()
    campaign_id = id_arg(request.form, "campaign_id", "筹款编号")
    if form.validate_on_submit():
        try:
            refund = refunds.retry_failed(refund_id, current_user._get_current_object(),
                                          form.reason.data)
        except PayoutError as error:
            flash(error.message, "error")
        else:
            from app.payouts.tasks import enqueue_refunds

            enqueue_refunds([refund.id])
            flash("已重新发起退款。", "success")
            campaign_id = refund.campaign_id
    if campaign_id:
        return redirect(url_for(".campaign_refunds", campaign_id=campaign_id))
    return redirect(url_for(".index"))
