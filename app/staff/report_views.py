"""The report queue (举报): oldest first; dismiss, ask the organizer for documents, freeze or
terminate. Reviewers handle reports; terminating needs an admin (the service checks)."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for

from app.auth.decorators import staff_required
from app.extensions import db
from app.review import reports
from app.review.queries import documents_by_kind
from app.review.services import ReviewError
from app.staff.forms import ReportActionForm
from app.staff.views import ADMINS, REVIEWERS, bp, me

ACTIONS = {
    "dismiss": (lambda r, f: reports.dismiss_report(r, me(), f.text.data), "已处理：举报不成立"),
    "request-documents": (lambda r, f: reports.request_documents(r, me(), f.text.data,
                                                                 f.outcome.data or ""),
                          "已要求发起人补充材料"),
    "freeze": (lambda r, f: reports.freeze_from_report(r, me(), f.text.data), "筹款已冻结"),
    "terminate": (lambda r, f: reports.terminate_from_report(r, me(), f.text.data),
                  "筹款已终止"),
}


@bp.get("/reports")
@staff_required(*REVIEWERS)
def report_queue():
    return render_template("staff/reports.html", reports=reports.report_queue())


@bp.get("/reports/<id:report_id>")
@staff_required(*REVIEWERS)
def report_detail(report_id: int):
    report = _report(report_id)
    return render_template("staff/report.html", report=report, campaign=report.campaign,
                           groups=documents_by_kind(report.campaign_id),
                           form=ReportActionForm(formdata=None),
                           can_terminate=me().has_role(*ADMINS))


@bp.post("/reports/<id:report_id>/<action>")
@staff_required(*REVIEWERS)
def handle_report(report_id: int, action: str):
    if action not in ACTIONS:
        abort(404)
    if action == "terminate" and not me().has_role(*ADMINS):
        abort(403)
    report = _report(report_id)
    form = ReportActionForm()
    if not form.validate_on_submit():
        for message in form.text.errors or ["请填写内容"]:
            flash(message, "error")
        return redirect(url_for(".report_detail", report_id=report.id))
    run, done = ACTIONS[action]
    try:
        run(report.id, form)
    except ReviewError as error:
        flash(error.message, "error")
        return redirect(url_for(".report_detail", report_id=report.id))
    flash(done, "success")
    return redirect(url_for(".report_queue"))


def _report(report_id: int) -> reports.Report:
    report = db.session.get(reports.Report, report_id)
    if report is None:
        abort(404)
    return report
