"""The organizer's documents page (materials, real names, payee, submission), the private
document view, and reporting a campaign. Views are thin: check input, call a service."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.auth.decorators import organizer_required
from app.campaigns import queries as campaign_queries
from app.campaigns.errors import CampaignError
from app.campaigns.forms import ActionForm
from app.campaigns.models import Campaign
from app.core.errors import error_response
from app.core.storage import get_storage
from app.extensions import db
from app.review import reports, services
from app.review.forms import DocumentUploadForm, IdentityForm, PayeeForm
from app.review.models import REJECT_REASONS, CampaignDocument, DocumentKind
from app.review.queries import documents_by_kind, rounds_of
from app.review.services import ReviewError
from app.core.storage import StorageError, StorageFull
from app.core.uploads import UploadError, check_uploads

bp = Blueprint("review", __name__)

TOO_LARGE = ("上传的文件太大：一次上传合计不能超过 {total} MB（单个图片不超过 10 MB，"
             "PDF 不超过 20 MB）。请压缩或分几次上传。")


@bp.errorhandler(413)
def too_large(error):
    from flask import current_app

    total = (current_app.config.get("MAX_CONTENT_LENGTH") or 0) // (1024 * 1024)
    return error_response(413, "too_large", TOO_LARGE.format(total=total))


def _organizer() -> None:
    if getattr(current_user, "is_staff", False):
        abort(403)


def _own_campaign(campaign_id: int) -> Campaign:
    campaign = campaign_queries.get_campaign(campaign_id)
    if campaign is None or not campaign_queries.is_organizer(campaign, current_user):
        abort(404)
    return campaign


# --- the organizer's documents page --------------------------------------------------------------

@bp.get("/c/<id:campaign_id>/documents")
@login_required
def documents(campaign_id: int):
    _organizer()
    campaign = _own_campaign(campaign_id)
    identity = services.identity_of(campaign.id)
    identity_form = IdentityForm(formdata=None)
    if identity is not None:
        masked = identity.masked()
        identity_form.patient_name.data = identity.patient_name
        identity_form.organizer_name.data = identity.organizer_name
    else:
        masked = None
    payee = services.payee_of(campaign.id)
    payee_form = PayeeForm(formdata=None)
    if payee is not None:
        payee_form.kind.data = payee.kind.value
        payee_form.account_name.data = payee.account_name
        payee_form.bank_name.data = payee.bank_name
        payee_form.branch_code.data = payee.branch_code
    upload_form = DocumentUploadForm(formdata=None, kind=request.args.get("kind", "diagnosis"))
    return render_template(
        "review/documents.html", campaign=campaign, groups=documents_by_kind(campaign.id),
        required=services.required_kinds(campaign), missing=services.missing_kinds(campaign),
        identity=identity, masked=masked, identity_form=identity_form, payee=payee,
        payee_form=payee_form, upload_form=upload_form, action_form=ActionForm(),
        rounds=rounds_of(campaign.id), requests=reports.document_requests_for(campaign.id),
        can_upload=campaign.status in services.UPLOAD_STATUSES,
        can_edit_payee=campaign.status in services.PAYEE_STATUSES)


@bp.post("/c/<id:campaign_id>/documents")
@login_required
def upload(campaign_id: int):
    _organizer()
    campaign = _own_campaign(campaign_id)
    form = DocumentUploadForm()
    if not form.validate_on_submit():
        return _back(campaign, *form.kind.errors or ["请选择材料类型"])
    try:
        checked = check_uploads(request.files.getlist(form.files.name))
        added = services.upload_documents(campaign, current_user, form.kind.data, checked)
    except (UploadError, ReviewError, StorageFull) as error:
        return _back(campaign, getattr(error, "message", str(error)))
    flash(f"已上传 {len(added)} 个文件：{DocumentKind(form.kind.data).label}", "success")
    return redirect(url_for(".documents", campaign_id=campaign.id, _anchor="kind-" + form.kind.data))


@bp.post("/c/<id:campaign_id>/documents/<id:document_id>/remove")
@login_required
def remove(campaign_id: int, document_id: int):
    _organizer()
    campaign = _own_campaign(campaign_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        services.remove_document(campaign, current_user, document_id)
    except ReviewError as error:
        flash(error.message, "error")
    else:
        flash("材料已删除", "success")
    return redirect(url_for(".documents", campaign_id=campaign.id))


@bp.post("/c/<id:campaign_id>/identity")
@login_required
def identity(campaign_id: int):
    _organizer()
    campaign = _own_campaign(campaign_id)
    form = IdentityForm()
    if not form.validate_on_submit():
        return _back(campaign, *[m for errors in form.errors.values() for m in errors])
    try:
        services.save_identity(campaign, current_user, patient_name=form.patient_name.data,
                               patient_id=form.patient_id.data,
                               organizer_name=form.organizer_name.data or "",
                               organizer_id=form.organizer_id.data or "")
    except ReviewError as error:
        return _back(campaign, error.message)
    flash("实名信息已保存（身份证号码已加密保存）", "success")
    return redirect(url_for(".documents", campaign_id=campaign.id, _anchor="identity"))


@bp.post("/c/<id:campaign_id>/payee")
@login_required
def payee(campaign_id: int):
    _organizer()
    campaign = _own_campaign(campaign_id)
    form = PayeeForm()
    if not form.validate_on_submit():
        return _back(campaign, *[m for errors in form.errors.values() for m in errors])
    try:
        services.save_payee(campaign, current_user, kind=form.kind.data,
                            account_name=form.account_name.data, bank_name=form.bank_name.data,
                            account_number=form.account_number.data,
                            branch_code=form.branch_code.data)
    except ReviewError as error:
        return _back(campaign, error.message)
    flash("收款人已保存，等待平台财务核实", "success")
    return redirect(url_for(".documents", campaign_id=campaign.id, _anchor="payee"))


@bp.post("/c/<id:campaign_id>/documents/submit")
@login_required
def submit(campaign_id: int):
    _organizer()
    campaign = _own_campaign(campaign_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        services.submit_for_review(campaign, current_user,
                                   accept_legal=request.form.get("accept_legal") == "1")
    except ReviewError as error:
        return _back(campaign, error.message)
    flash("已提交审核。工作人员会尽快核实，结果会在“我的筹款”中显示。", "success")
    return redirect(url_for("campaigns.detail", campaign_id=campaign.id))


@bp.post("/c/<id:campaign_id>/submit")
@organizer_required
def submit_from_campaign(campaign_id: int):
    """The 提交审核 button of the campaign page and 我的筹款: errors go back to that page, except
    missing documents or real names, which send the organizer to the documents page."""
    campaign = _own_campaign(campaign_id)
    try:
        services.submit_for_review(campaign, current_user._get_current_object(),
                                   accept_legal=request.form.get("accept_legal") == "1")
    except CampaignError as error:
        flash(error.message, "error")
        if error.code in ("documents_missing", "identity_missing"):
            return redirect(url_for(".documents", campaign_id=campaign_id))
        if error.code == "terms_not_accepted":
            return redirect(url_for(".documents", campaign_id=campaign_id,
                                    _anchor="accept-legal"))
    else:
        flash("已提交审核。工作人员会尽快核实，结果会在“我的筹款”中显示。", "success")
    return redirect(url_for("campaigns.detail", campaign_id=campaign_id))


def _back(campaign: Campaign, *messages: str):
    """Post/redirect/get: the messages are shown on the documents page."""
    for message in messages:
        flash(message, "error")
    return redirect(url_for(".documents", campaign_id=campaign.id))


# --- private files -------------------------------------------------------------------------------

@bp.get("/documents/<id:document_id>")
def document_file(document_id: int):
    """The owner and staff only; anyone else gets the same 404 as for a missing document."""
    document = db.session.get(CampaignDocument, document_id)
    if document is None or document.removed_at is not None:
        abort(404)
    campaign = campaign_queries.get_campaign(document.campaign_id)
    if not (campaign_queries.is_staff(current_user)
            or campaign_queries.is_organizer(campaign, current_user)):
        abort(404)
    return private_file(services.read_document, document, f"document-{document.id}")


@bp.get("/reports/evidence/<id:evidence_id>")
def evidence_file(evidence_id: int):
    evidence = db.session.get(reports.ReportEvidence, evidence_id)
    if evidence is None:
        abort(404)
    reporter = (current_user.is_authenticated and not getattr(current_user, "is_staff", False)
                and evidence.report.reporter_id == current_user.id)
    if not (reporter or campaign_queries.is_staff(current_user)):
        abort(404)
    return private_file(lambda e: get_storage().get(e.storage_key), evidence,
                        f"evidence-{evidence.id}")


def private_file(read, item, name: str) -> Response:
    try:
        data = read(item)
    except StorageError:
        abort(404)
    extension = "pdf" if item.content_type == "application/pdf" else "jpg"
    response = Response(data, mimetype=item.content_type)
    response.headers["Cache-Control"] = "no-store, private"
    response.headers["Pragma"] = "no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Content-Disposition"] = f'inline; filename="{name}.{extension}"'
    if item.content_type != "application/pdf":
        response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.app_context_processor
def review_globals():
    return {"reject_reasons": REJECT_REASONS}


from app.review import report_views  # noqa: E402,F401  (routes on this blueprint)
