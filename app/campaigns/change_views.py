"""The organizer's changes to a live campaign (修改筹款信息, their list) and its early end
(提前结束), and the public change log (修改记录) in /api/v1. Views stay thin: forms check
input, app/campaigns/changes.py and ending.py change state.

Endpoints others link to: campaign_changes.edit (修改筹款信息), campaign_changes.mine (the
organizer's changes and their outcomes), campaign_changes.end_early (申请提前结束);
app/review/target_views.py has campaign_target.raise_target (追加目标)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from app.auth.decorators import organizer_required
from app.campaigns import changes, ending, queries
from app.campaigns.change_forms import EndEarlyForm, LiveEditForm
from app.campaigns.change_models import FIELD_LABELS, TEXT_FIELDS, LeftoverRoute
from app.campaigns.errors import CampaignError
from app.campaigns.models import MAX_PHOTOS, Campaign, CampaignStatus
from app.core import pii
from app.core.errors import ApiError
from app.core.replica import reads_from_replica
from app.core.templating import local_time, mask_name
from app.models_base import as_utc

bp = Blueprint("campaign_changes", __name__)


def _own_campaign(campaign_id: int) -> Campaign:
    campaign = queries.get_campaign(campaign_id)
    if campaign is None or not queries.is_organizer(campaign, current_user):
        abort(404)
    return campaign


@bp.route("/c/<id:campaign_id>/changes/new", methods=["GET", "POST"])
@organizer_required
def edit(campaign_id: int):
    campaign = _own_campaign(campaign_id)
    if campaign.is_editable:   # a draft or a rejected campaign is edited directly
        return redirect(url_for("campaigns.edit", campaign_id=campaign.id))
    refusal = _refusal(campaign)
    if refusal:
        flash(refusal, "error")
        return redirect(url_for(".mine", campaign_id=campaign.id))
    form = LiveEditForm(existing_photos=len(campaign.photos))
    form.remove_photos.choices = [(photo.id, f"照片 {i}") for i, photo in
                                  enumerate(campaign.photos, 1)]
    if request.method == "GET":
        form.fill_from(campaign)
    elif form.validate_on_submit():
        try:
            changes.propose_edit(campaign.id, current_user._get_current_object(),
                                 form.change_data(), form.reason.data,
                                 new_photos=form.processed_photos,
                                 remove_photo_ids=form.remove_photos.data or [])
        except CampaignError as error:
            form.form_errors.append(error.message)
        else:
            flash("修改已提交审核。审核通过前，筹款页仍显示原来的内容。", "success")
            for text in (form.story.data, form.reason.data):
                message = pii.warning(text)
                if message:
                    flash(message, "warning")
                    break
            name = campaign.patient_name or ""
            if len(name) >= 2 and name in (form.title.data or ""):
                flash(f"标题中含有患者全名“{name}”，公开页面将照原样显示；如不希望公开全名，"
                      f"可改为“{mask_name(name)}”。", "info")
            return redirect(url_for(".mine", campaign_id=campaign.id))
    status = 422 if request.method == "POST" else 200
    return render_template("campaigns/change_form.html", form=form, campaign=campaign,
                           max_photos=MAX_PHOTOS), status


@bp.get("/c/<id:campaign_id>/changes")
@organizer_required
def mine(campaign_id: int):
    campaign = _own_campaign(campaign_id)
    return render_template("campaigns/changes.html", campaign=campaign,
                           changes=changes.changes_of(campaign.id),
                           can_change=campaign.status in changes.CHANGEABLE
                           and changes.pending_change(campaign.id) is None,
                           early_end=ending.early_end_of(campaign.id))


@bp.route("/c/<id:campaign_id>/end", methods=["GET", "POST"])
@organizer_required
def end_early(campaign_id: int):
    campaign = _own_campaign(campaign_id)
    if campaign.status != CampaignStatus.live:
        flash(f"筹款{campaign.status.label}，不能提前结束。", "error")
        return redirect(url_for("campaigns.detail", campaign_id=campaign.id))
    form = EndEarlyForm()
    if request.method == "GET":
        form.route.data = LeftoverRoute.withdraw.value
    elif form.validate_on_submit():
        try:
            early = ending.end_early(campaign.id, current_user._get_current_object(),
                                     form.reason_kind.data, form.note.data or "",
                                     form.route.data)
        except CampaignError as error:
            form.form_errors.append(error.message)
        else:
            flash("筹款已提前结束，不再接受捐款。" + (
                "剩余善款将按捐款比例原路退还给捐款人。" if early.route == LeftoverRoute.refund
                else "您可以申请提现支付已发生的医疗费用，并在提现页填写剩余善款说明。"), "success")
            return redirect(url_for("campaigns.detail", campaign_id=campaign.id))
    status = 422 if request.method == "POST" else 200
    return render_template("campaigns/end_early.html", form=form, campaign=campaign), status


def _refusal(campaign: Campaign) -> str | None:
    if campaign.status not in changes.CHANGEABLE:
        return f"筹款{campaign.status.label}，不能再申请修改。"
    if changes.pending_change(campaign.id) is not None:
        return "已有一项修改正在审核，审核完成后才能再次申请。"
    return None


# --- public --------------------------------------------------------------------------------------

def public_entry(change) -> dict:
    """One 修改记录 line: when, what (in Chinese) and the organizer's reason; text masked."""
    items = []
    for name in change.fields:
        before, after = change.before.get(name), change.after.get(name)
        if name in TEXT_FIELDS:
            before, after = pii.mask(before), pii.mask(after)
        elif name in ("photos_added", "photos_removed"):
            before, after = None, len(after or before or [])
        items.append({"field": name, "label": FIELD_LABELS[name], "before": before,
                      "after": after})
    return {"id": change.id, "kind": change.kind.value, "kind_label": change.kind.label,
            "approved_at": as_utc(change.decided_at).isoformat() if change.decided_at else None,
            "approved_date": local_time(change.decided_at, "%Y-%m-%d"),
            "reason": pii.mask(change.reason), "items": items}


@bp.app_template_global()
def campaign_change_log(campaign_id: int) -> list[dict]:
    return [public_entry(change) for change in changes.change_log(campaign_id)]


@bp.app_template_global()
def campaign_early_end(campaign_id: int):
    return ending.early_end_of(campaign_id)


@bp.get("/api/v1/campaigns/<id:campaign_id>/changes")
@reads_from_replica
def api_log(campaign_id: int):
    campaign = queries.public_campaign(campaign_id)
    if campaign is None:
        raise ApiError(404, "campaign_not_found", "筹款不存在或尚未公开")
    early = ending.early_end_of(campaign.id)
    return jsonify(changes=campaign_change_log(campaign.id), ended_early=None if early is None else {
        "reason": pii.mask(early.reason_text), "route": early.route.value,
        "route_label": early.route.label, "at": as_utc(early.created_at).isoformat()})
