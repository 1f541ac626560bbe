"""The minimal review page: the queue of submitted campaigns, approve or reject with a reason.

Until the verification issue builds the real console. Every decision goes through the campaign
services, which record who, when and why.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from app.auth.decorators import staff_required
from app.auth.models import StaffRole
from app.campaigns import queries, services
from app.campaigns.services import CampaignError
from app.staff.forms import ApproveForm, RejectForm

bp = Blueprint("staff", __name__)
REVIEWERS = (StaffRole.reviewer, StaffRole.admin)


@bp.get("/")
@staff_required(*REVIEWERS)
def index():
    return render_template("staff/index.html", queue=queries.review_queue(),
                           decided=queries.recently_decided())


@bp.get("/campaigns/<int:campaign_id>")
@staff_required(*REVIEWERS)
def review(campaign_id: int):
    campaign = _campaign(campaign_id)
    return _render_review(campaign, _approve_form(), _reject_form())


@bp.post("/campaigns/<int:campaign_id>/approve")
@staff_required(*REVIEWERS)
def approve(campaign_id: int):
    campaign = _campaign(campaign_id)
    form = _approve_form()
    if not form.validate_on_submit():
        return _render_review(campaign, form, _reject_form(formdata=None), 422)
    try:
        services.approve_campaign(campaign, by_staff=current_user._get_current_object(),
                                  reason=form.reason.data or "")
    except CampaignError as error:
        flash(error.message, "error")
        return redirect(url_for(".review", campaign_id=campaign_id))
    flash(f"已通过：{campaign.title}", "success")
    return redirect(url_for(".index"))


@bp.post("/campaigns/<int:campaign_id>/reject")
@staff_required(*REVIEWERS)
def reject(campaign_id: int):
    campaign = _campaign(campaign_id)
    form = _reject_form()
    if not form.validate_on_submit():
        return _render_review(campaign, _approve_form(formdata=None), form, 422)
    try:
        services.reject_campaign(campaign, by_staff=current_user._get_current_object(),
                                 reason=form.reason.data)
    except CampaignError as error:
        flash(error.message, "error")
        return redirect(url_for(".review", campaign_id=campaign_id))
    flash(f"已驳回：{campaign.title}", "success")
    return redirect(url_for(".index"))


def _approve_form(**kwargs) -> ApproveForm:
    return ApproveForm(prefix="approve", **kwargs)


def _reject_form(**kwargs) -> RejectForm:
    return RejectForm(prefix="reject", **kwargs)


def _campaign(campaign_id: int):
    campaign = queries.get_campaign(campaign_id)
    if campaign is None:
        abort(404)
    return campaign


def _render_review(campaign, approve_form, reject_form, status: int = 200):
    return render_template("staff/review.html", campaign=campaign, approve_form=approve_form,
                           reject_form=reject_form), status
