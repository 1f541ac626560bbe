"""The review console's changes of live campaigns (/staff/changes): the queue, one change as a
diff (before → after) with a 追加目标's bills decided one by one, approve or reject with a reason,
and a campaign's target cap (/staff/campaigns/<id>/target-cap), which admins lift. Every decision goes through a service that
writes its audit row in the same transaction."""
from __future__ import annotations

import difflib

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import HiddenField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.auth.decorators import staff_required
from app.auth.models import StaffRole
from app.campaigns import changes
from app.campaigns.change_models import FIELD_LABELS, CampaignChange, TargetCapLift
from app.campaigns.errors import CampaignError
from app.campaigns.models import Campaign
from app.extensions import db
from app.models_base import yuan_to_fen
from app.review import decisions
from app.review.models import REJECT_REASONS
from app.review.target_raise import bills_of

bp = Blueprint("changes_staff", __name__)
REVIEWERS = (StaffRole.reviewer, StaffRole.admin)


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class ChangeDecisionForm(FlaskForm):
    note = TextAreaField("审核意见", filters=[_strip], validators=[
        Optional(), Length(max=500, message="不能超过 500 字")])


class ChangeRejectForm(FlaskForm):
    note = TextAreaField("驳回原因", filters=[_strip], validators=[
        DataRequired("请填写驳回原因（发起人会看到）"), Length(max=500, message="不能超过 500 字")])


class BillDecisionForm(FlaskForm):
    decision = HiddenField(validators=[DataRequired("请选择处理结果")])
    reasons = SelectMultipleField("驳回原因", choices=REJECT_REASONS, validate_choice=False,
                                  widget=ListWidget(prefix_label=False),
                                  option_widget=CheckboxInput())
    note = TextAreaField("补充说明", filters=[_strip], validators=[
        Optional(), Length(max=500, message="不能超过 500 字")])


class CapLiftForm(FlaskForm):
    cap_yuan = StringField("新的目标上限（元）", filters=[_strip],
                           validators=[DataRequired("请填写新的目标上限")])
    reason = TextAreaField("调整原因", filters=[_strip], validators=[
        DataRequired("请填写调整原因"), Length(max=500, message="不能超过 500 字")])


@bp.get("/changes")
@staff_required(*REVIEWERS)
def queue():
    return render_template("review/change_queue.html", changes=changes.pending_queue())


@bp.get("/changes/<id:change_id>")
@staff_required(*REVIEWERS)
def change(change_id: int):
    return _render(_change(change_id))


def _render(item: CampaignChange, status: int = 200, **forms):
    return render_template(
        "review/change_review.html", change=item, campaign=item.campaign,
        diff=diff_rows(item), bills=bills_of(item), blockers=changes.change_blockers(item),
        history=changes.changes_of(item.campaign_id),
        cap_fen=changes.target_cap_fen(item.campaign_id),
        cap_lifts=_lifts(item.campaign_id),
        approve_form=forms.get("approve_form") or ChangeDecisionForm(prefix="approve",
                                                                     formdata=None),
        reject_form=forms.get("reject_form") or ChangeRejectForm(prefix="reject", formdata=None),
        bill_form=BillDecisionForm(formdata=None)), status


@bp.post("/changes/<id:change_id>/approve")
@staff_required(*REVIEWERS)
def approve(change_id: int):
    item = _change(change_id)
    form = ChangeDecisionForm(prefix="approve")
    if not form.validate_on_submit():
        return _render(item, 422, approve_form=form)
    if _attempt(lambda: changes.approve_change(item.id, _me(), form.note.data or ""),
                "已通过，筹款页已更新"):
        return redirect(url_for(".queue"))
    return redirect(url_for(".change", change_id=change_id))


@bp.post("/changes/<id:change_id>/reject")
@staff_required(*REVIEWERS)
def reject(change_id: int):
    item = _change(change_id)
    form = ChangeRejectForm(prefix="reject")
    if not form.validate_on_submit():
        return _render(item, 422, reject_form=form)
    if _attempt(lambda: changes.reject_change(item.id, _me(), form.note.data or ""),
                "已驳回，筹款页保持原样"):
        return redirect(url_for(".queue"))
    return redirect(url_for(".change", change_id=change_id))


@bp.post("/changes/<id:change_id>/bills/<id:document_id>")
@staff_required(*REVIEWERS)
def decide_bill(change_id: int, document_id: int):
    item = _change(change_id)
    form = BillDecisionForm()
    if not form.validate_on_submit() or form.decision.data not in ("approve", "reject"):
        abort(400)
    if document_id not in (item.document_ids or []):
        abort(404)
    approve_it = form.decision.data == "approve"
    _attempt(lambda: decisions.decide_document(document_id, _me(), approve_it,
                                               form.reasons.data, form.note.data or ""),
             "已通过该票据" if approve_it else "已驳回该票据")
    return redirect(url_for(".change", change_id=change_id, _anchor=f"doc-{document_id}"))


@bp.route("/campaigns/<id:campaign_id>/target-cap", methods=["GET", "POST"])
@staff_required(*REVIEWERS)
def target_cap(campaign_id: int):
    """The campaign's target cap and its lifts; admins lift it (POST) with a reason."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        abort(404)
    form = CapLiftForm(formdata=None) if request.method == "GET" else CapLiftForm()
    if request.method == "POST":
        if not current_user.has_role(StaffRole.admin):
            abort(403)
        cap_fen = _cap_fen(form)
        if cap_fen is not None and _attempt(
                lambda: changes.lift_target_cap(campaign.id, _me(), cap_fen, form.reason.data),
                "已调整本筹款的目标上限"):
            return redirect(url_for(".target_cap", campaign_id=campaign.id))
    status = 422 if request.method == "POST" else 200
    return render_template("review/target_cap.html", campaign=campaign, form=form,
                           cap_fen=changes.target_cap_fen(campaign.id),
                           lifts=_lifts(campaign.id),
                           can_lift=current_user.has_role(StaffRole.admin)), status


def _cap_fen(form: CapLiftForm) -> int | None:
    if not form.validate_on_submit():
        return None
    try:
        return yuan_to_fen(form.cap_yuan.data)
    except ValueError:
        form.cap_yuan.errors = ["请填写金额数字，例如 800000"]
        return None


def _lifts(campaign_id: int) -> list[TargetCapLift]:
    return list(db.session.scalars(select(TargetCapLift).where(
        TargetCapLift.campaign_id == campaign_id).order_by(TargetCapLift.id.desc())))


def diff_rows(item: CampaignChange) -> list[dict]:
    """For each changed field: its Chinese label, before and after; long text as line diff."""
    rows = []
    for name in item.fields:
        before, after = item.before.get(name), item.after.get(name)
        row = {"field": name, "label": FIELD_LABELS[name], "before": before, "after": after,
               "lines": None}
        if name == "story":
            row["lines"] = [(line[0], line[2:]) for line in difflib.ndiff(
                (before or "").splitlines(), (after or "").splitlines()) if line[0] in " +-"]
        rows.append(row)
    return rows


def _attempt(action, done: str) -> bool:
    try:
        action()
    except CampaignError as error:   # ReviewError is a CampaignError
        flash(error.message, "error")
        return False
    flash(done, "success")
    return True


def _change(change_id: int) -> CampaignChange:
    item = db.session.get(CampaignChange, change_id)
    if item is None:
        abort(404)
    return item


def _me():
    return current_user._get_current_object()

