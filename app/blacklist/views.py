"""The staff page of the 失信名单: list, add (from a campaign or by ID number), remove with a
reason; and the review console's panel helper."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.auth.decorators import staff_required
from app.auth.models import StaffRole
from app.blacklist import services
from app.blacklist.models import ListedRole

bp = Blueprint("blacklist", __name__, url_prefix="/staff/blacklist")
REVIEWERS = (StaffRole.reviewer,)


@bp.get("/")
@staff_required(*REVIEWERS)
def index():
    return render_template("blacklist/index.html", active=services.entries(active=True),
                           removed=services.entries(active=False), roles=list(ListedRole),
                           form=request.args)


@bp.post("/")
@staff_required(*REVIEWERS)
def add():
    form = request.form
    campaign_id = (form.get("campaign_id") or "").strip()
    if campaign_id and not campaign_id.isdigit():
        return _refused("筹款编号应为数字", form)
    try:
        services.add_entry(current_user._get_current_object(), role=form.get("role", ""),
                           reason=form.get("reason", ""), id_number=form.get("id_number", ""),
                           campaign_id=int(campaign_id) if campaign_id else None)
    except services.BlacklistError as error:
        return _refused(error.message, form)
    flash("已列入失信名单", "success")
    back = form.get("back")
    if back == "review" and campaign_id:
        return redirect(url_for("staff.review", campaign_id=int(campaign_id),
                                _anchor="launch-history"))
    return redirect(url_for(".index"))


@bp.post("/<id:entry_id>/remove")
@staff_required(*REVIEWERS)
def remove(entry_id: int):
    try:
        services.remove_entry(entry_id, current_user._get_current_object(),
                              request.form.get("reason", ""))
    except services.BlacklistError as error:
        flash(error.message, "error")
        return redirect(url_for(".index"))
    flash("已移出失信名单，记录已保留在审计日志", "success")
    return redirect(url_for(".index"))


def _refused(message: str, form):
    flash(message, "error")
    if form.get("back") == "review" and (form.get("campaign_id") or "").isdigit():
        return redirect(url_for("staff.review", campaign_id=int(form["campaign_id"]),
                                _anchor="launch-history"))
    return render_template("blacklist/index.html", active=services.entries(active=True),
                           removed=services.entries(active=False), roles=list(ListedRole),
                           form=form), 422


@bp.app_template_global()
def launch_history(campaign):
    """The review console's panel: this person's listings and 诺言 record."""
    return services.launch_history(campaign)


@bp.app_template_global()
def pledge_standing_label(code: str) -> str:
    return services.STANDING_LABELS.get(code, code)
