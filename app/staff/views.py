"""The staff console at /staff: the review queue (longest waiting first), the review page with
every document, per-document decisions, real-name and payee checks, approve or reject, and
freeze / unfreeze / terminate. Reports, staff accounts and the audit log live in
report_views.py and admin_views.py on the same blueprint.

Roles: any staff may look; reviewers (and admins) decide on documents, real names, campaigns
and reports; finance (and admins) verify payees; only admins terminate and manage accounts.
Every decision goes through a service that writes its audit row in the same transaction.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from sqlalchemy import select
from flask_login import current_user

from app.auth.decorators import staff_required
from app.auth.models import StaffAccount, StaffRole
from app.campaigns import moderation
from app.campaigns import queries as campaign_queries
from app.campaigns.errors import CampaignError
from app.core import audit
from app.review import decisions, reports, services
from app.extensions import db
from app.review.models import CampaignDocument, IdentityStatus, Payee
from app.review.queries import (
    documents_by_kind,
    duplicate_uploads,
    removed_documents,
    review_queue,
    rounds_of,
)
from app.staff import workbench
from app.staff.forms import (
    ApproveForm,
    CheckForm,
    DocumentDecisionForm,
    ReasonForm,
    RejectForm,
)

bp = Blueprint("staff", __name__)
REVIEWERS = (StaffRole.reviewer, StaffRole.admin)
FINANCE = (StaffRole.finance, StaffRole.admin)
ADMINS = (StaffRole.admin,)


def me():
    return current_user._get_current_object()


@bp.get("/")
@staff_required()
def index():
    can_review = current_user.has_role(*REVIEWERS)
    return render_template(
        "staff/index.html", can_review=can_review,
        queue=review_queue() if can_review else [],
        report_count=len(reports.report_queue()) if can_review else 0,
        decided=campaign_queries.recently_decided(10) if can_review else [],
        payees=_pending_payees() if current_user.has_role(*FINANCE) else [],
        finance=workbench.finance_work() if current_user.has_role(*FINANCE) else None)


def _pending_payees():
    return list(db.session.scalars(select(Payee).where(Payee.status == IdentityStatus.pending)
                                   .order_by(Payee.updated_at)))


@bp.get("/campaigns/<id:campaign_id>")
@staff_required()
def review(campaign_id: int):
    return _render_review(_campaign(campaign_id))


def _render_review(campaign, approve_form=None, reject_form=None, status: int = 200):
    identity = services.identity_of(campaign.id)
    payee = services.payee_of(campaign.id)
    sees_ids = current_user.has_role(*REVIEWERS)
    sees_accounts = current_user.has_role(*FINANCE)
    return render_template(
        "staff/review.html", campaign=campaign, groups=documents_by_kind(campaign.id),
        duplicates=duplicate_uploads(campaign.id),
        removed=removed_documents(campaign.id), required=services.required_kinds(campaign),
        identity=identity,
        names=(identity.revealed() if sees_ids else identity.masked()) if identity else None,
        payee=payee, payee_account=(payee.account_number if sees_accounts
                                    else payee.masked_account) if payee else None,
        payee_verifier=(db.session.get(StaffAccount, payee.verified_by_id)
                        if payee and payee.verified_by_id else None),
        rounds=rounds_of(campaign.id), blockers=decisions.approval_blockers(campaign),
        audit_entries=audit.for_campaign(campaign.id),
        can_review=sees_ids, can_verify_payee=sees_accounts,
        can_terminate=current_user.has_role(*ADMINS),
        approve_form=approve_form or ApproveForm(prefix="approve", formdata=None),
        reject_form=reject_form or RejectForm(prefix="reject", formdata=None),
        decision_form=DocumentDecisionForm(formdata=None), check_form=CheckForm(formdata=None),
        reason_form=ReasonForm(formdata=None)), status


@bp.post("/campaigns/<id:campaign_id>/documents/<id:document_id>")
@staff_required(*REVIEWERS)
def decide_document(campaign_id: int, document_id: int):
    campaign = _campaign(campaign_id)
    form = DocumentDecisionForm()
    if not form.validate_on_submit() or form.decision.data not in ("approve", "reject"):
        abort(400)
    document = _document_of(campaign, document_id)
    _attempt(lambda: decisions.decide_document(document.id, me(), form.decision.data == "approve",
                                               form.reasons.data, form.note.data or ""),
             "已通过该材料" if form.decision.data == "approve" else "已驳回该材料")
    return redirect(url_for(".review", campaign_id=campaign.id, _anchor=f"doc-{document.id}"))


@bp.post("/campaigns/<id:campaign_id>/identity")
@staff_required(*REVIEWERS)
def check_identity(campaign_id: int):
    campaign = _campaign(campaign_id)
    form = _check_form()
    _attempt(lambda: decisions.verify_identity(campaign.id, me(), form.decision.data == "ok",
                                               form.note.data or ""),
             "实名信息已核实" if form.decision.data == "ok" else "已标记实名信息不一致")
    return redirect(url_for(".review", campaign_id=campaign.id, _anchor="identity"))


@bp.post("/campaigns/<id:campaign_id>/payee")
@staff_required(*FINANCE)
def check_payee(campaign_id: int):
    campaign = _campaign(campaign_id)
    form = _check_form()
    _attempt(lambda: decisions.verify_payee(campaign.id, me(), form.decision.data == "ok",
                                            form.note.data or ""),
             "收款人已核实" if form.decision.data == "ok" else "已标记收款人不通过")
    return redirect(url_for(".review", campaign_id=campaign.id, _anchor="payee"))


@bp.post("/campaigns/<id:campaign_id>/approve")
@staff_required(*REVIEWERS)
def approve(campaign_id: int):
    campaign = _campaign(campaign_id)
    form = ApproveForm(prefix="approve")
    if not form.validate_on_submit():
        return _render_review(campaign, approve_form=form, status=422)
    if _attempt(lambda: decisions.approve_review(campaign.id, me(), form.reason.data or ""),
                f"已通过：{campaign.title}"):
        return redirect(url_for(".index"))
    return redirect(url_for(".review", campaign_id=campaign.id))


@bp.post("/campaigns/<id:campaign_id>/reject")
@staff_required(*REVIEWERS)
def reject(campaign_id: int):
    campaign = _campaign(campaign_id)
    form = RejectForm(prefix="reject")
    if not form.validate_on_submit():
        return _render_review(campaign, reject_form=form, status=422)
    if _attempt(lambda: decisions.reject_review(campaign.id, me(), form.reason.data or ""),
                f"已驳回：{campaign.title}"):
        return redirect(url_for(".index"))
    return redirect(url_for(".review", campaign_id=campaign.id))


@bp.post("/campaigns/<id:campaign_id>/freeze")
@staff_required(*REVIEWERS)
def freeze(campaign_id: int):
    return _moderate(campaign_id, moderation.freeze_campaign, "已冻结，捐款已暂停")


@bp.post("/campaigns/<id:campaign_id>/unfreeze")
@staff_required(*REVIEWERS)
def unfreeze(campaign_id: int):
    return _moderate(campaign_id, moderation.unfreeze_campaign, "已解除冻结，恢复接受捐款")


@bp.post("/campaigns/<id:campaign_id>/terminate")
@staff_required(*ADMINS)
def terminate(campaign_id: int):
    return _moderate(campaign_id, moderation.terminate_campaign, "筹款已终止")


def _moderate(campaign_id: int, action, done: str):
    campaign = _campaign(campaign_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        for message in form.reason.errors or ["请填写原因"]:
            flash(message, "error")
    else:
        _attempt(lambda: action(campaign.id, me(), form.reason.data), done)
    return redirect(url_for(".review", campaign_id=campaign.id, _anchor="moderation"))


# --- helpers ---------------------------------------------------------------------------------------

def _attempt(action, done: str) -> bool:
    """Run a service; its refusal becomes a flash message."""
    try:
        action()
    except CampaignError as error:  # ReviewError is a CampaignError
        flash(error.message, "error")
        return False
    flash(done, "success")
    return True


def _check_form() -> CheckForm:
    form = CheckForm()
    if not form.validate_on_submit() or form.decision.data not in ("ok", "reject"):
        abort(400)
    return form


def _campaign(campaign_id: int):
    campaign = campaign_queries.get_campaign(campaign_id)
    if campaign is None:
        abort(404)
    return campaign


def _document_of(campaign, document_id: int):
    document = db.session.get(CampaignDocument, document_id)
    if document is None or document.campaign_id != campaign.id:
        abort(404)
    return document


from app.staff import admin_views, report_views  # noqa: E402,F401  (routes on this blueprint)
