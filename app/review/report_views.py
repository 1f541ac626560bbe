"""Reporting a campaign (举报) and the reporter's own list of reports with their outcomes."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.campaigns import queries as campaign_queries
from app.review import reports
from app.review.forms import ReportForm
from app.review.services import ReviewError
from app.core import pii
from app.core.uploads import UploadError, check_uploads
from app.review.views import bp


@bp.route("/c/<id:campaign_id>/report", methods=["GET", "POST"])
@login_required
def report(campaign_id: int):
    if getattr(current_user, "is_staff", False):
        abort(403)
    campaign = campaign_queries.public_campaign(campaign_id)
    if campaign is None:
        abort(404)
    form = ReportForm()
    errors: list[str] = []
    if form.validate_on_submit():
        try:
            files = request.files.getlist(form.evidence.name)
            evidence = check_uploads(files) if any(f.filename for f in files) else []
            reports.file_report(campaign.id, current_user._get_current_object(),
                                form.category.data, form.details.data, evidence)
        except (UploadError, ReviewError) as error:
            errors.append(getattr(error, "message", str(error)))
        else:
            flash("举报已提交。平台会尽快核实，处理结果可在“我的举报”中查看。", "success")
            if found := pii.kinds(form.details.data):
                flash(f"举报内容中含有{'、'.join(kind.label for kind in found)}："
                      "仅平台审核人员和您本人可见，不会公开。", "info")
            return redirect(url_for(".my_reports"))
    status = 422 if request.method == "POST" and (errors or form.errors) else 200
    return render_template("review/report_form.html", campaign=campaign, form=form,
                           errors=errors, per_day=reports.REPORTS_PER_DAY), status


@bp.get("/me/reports")
@login_required
def my_reports():
    if getattr(current_user, "is_staff", False):
        abort(403)
    return render_template("review/my_reports.html",
                           reports=reports.reports_by(current_user.id))
