"""Blessing moderation pages: the organizer's 祝福管理 (hide / show again), 举报祝福 for
anyone signed in (rate-limited), and the staff queue of reported blessings (remove / keep)."""
from __future__ import annotations

from flask import (Blueprint, abort, current_app, flash, jsonify, redirect, render_template,
                   request, url_for)
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required

from app.auth.decorators import staff_required
from app.auth.models import StaffRole
from app.campaigns.models import Campaign
from app.core.errors import wants_json
from app.donations import blessings
from app.donations.blessings import BlessingError
from app.donations.models import REPORT_REASON_MAX
from app.extensions import db, limiter

bp = Blueprint("blessings", __name__)
REVIEWERS = (StaffRole.reviewer, StaffRole.admin)


def _user_or_ip() -> str:
    if current_user.is_authenticated:
        return f"user:{current_user.get_id()}"
    return f"ip:{get_remote_address()}"


def _report_limit() -> str:
    return current_app.config.get("BLESSING_REPORT_RATE_LIMIT", "5/minute;30/hour")


def _refused(error: BlessingError, back: str):
    if wants_json():
        return jsonify(error={"code": error.code, "message": error.message}), error.status
    if error.status in (403, 404):
        abort(error.status)
    flash(error.message, "error")
    return redirect(back)


# --- the organizer ------------------------------------------------------------------------

@bp.get("/c/<id:campaign_id>/blessings")
@login_required
def manage(campaign_id: int):
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        abort(404)
    if current_user.is_staff or campaign.organizer_id != current_user.id:
        abort(403)
    return render_template("donations/blessings_manage.html", campaign=campaign,
                           donations=blessings.campaign_blessings(campaign.id))


@bp.post("/donations/<id:donation_id>/blessing/hide")
@login_required
def hide(donation_id: int):
    return _set_hidden(donation_id, True)


@bp.post("/donations/<id:donation_id>/blessing/unhide")
@login_required
def unhide(donation_id: int):
    return _set_hidden(donation_id, False)


def _set_hidden(donation_id: int, hidden: bool):
    try:
        donation = blessings.set_hidden(donation_id, current_user, hidden)
    except BlessingError as error:
        return _refused(error, request.referrer or url_for("campaigns.mine"))
    if wants_json():
        return jsonify(id=donation.id, hidden=donation.blessing_hidden_at is not None)
    flash("祝福已隐藏，捐款记录仍保留" if hidden else "祝福已恢复显示", "success")
    return redirect(url_for(".manage", campaign_id=donation.campaign_id))


# --- anyone signed in ---------------------------------------------------------------------

@bp.route("/donations/<id:donation_id>/blessing/report", methods=["GET", "POST"])
@limiter.limit(_report_limit, key_func=_user_or_ip, methods=["POST"])
@login_required
def report(donation_id: int):
    try:
        donation = blessings.reportable_donation(donation_id)
    except BlessingError as error:
        return _refused(error, "/")
    back = url_for("campaigns.detail", campaign_id=donation.campaign_id)
    if request.method == "GET":
        return render_template("donations/blessing_report.html", donation=donation,
                               reason_max=REPORT_REASON_MAX)
    try:
        blessings.report(donation.id, current_user, request.form.get("reason"))
    except BlessingError as error:
        if wants_json():
            return _refused(error, back)
        if error.status in (403, 404):
            abort(error.status)
        return render_template("donations/blessing_report.html", donation=donation,
                               reason_max=REPORT_REASON_MAX, error=error.message,
                               reason=request.form.get("reason", "")), error.status
    if wants_json():
        return jsonify(reported=True), 201
    flash("举报已提交，平台会尽快处理", "success")
    return redirect(back)


# --- staff --------------------------------------------------------------------------------

@bp.get("/staff/blessings")
@staff_required(*REVIEWERS)
def staff_queue():
    return render_template("staff/blessings.html", items=blessings.reported_blessings())


@bp.post("/staff/blessings/<id:donation_id>/<action>")
@staff_required(*REVIEWERS)
def staff_decide(donation_id: int, action: str):
    decide = {"remove": blessings.remove, "keep": blessings.keep}.get(action)
    if decide is None:
        abort(404)
    try:
        decide(donation_id, current_user._get_current_object(), request.form.get("reason"))
    except BlessingError as error:
        return _refused(error, url_for(".staff_queue"))
    if wants_json():
        return jsonify(id=donation_id, action=action)
    flash("祝福已删除" if action == "remove" else "已保留该祝福", "success")
    return redirect(url_for(".staff_queue"))
