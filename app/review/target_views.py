"""追加目标, the organizer's side: the new target, the reason and the new medical bills in one
form (endpoint campaign_target.raise_target). Files are checked by content (app/core/uploads.py);
app/review/target_raise.py decides."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import MultipleFileField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from app.auth.decorators import organizer_required
from app.campaigns import changes
from app.campaigns import queries as campaign_queries
from app.campaigns.errors import CampaignError
from app.campaigns.models import Campaign
from app.core import pii
from app.core.storage import StorageFull
from app.core.uploads import UploadError, check_uploads
from app.models_base import format_yuan, yuan_to_fen
from app.review.target_raise import propose_target_raise, range_message, target_range

bp = Blueprint("campaign_target", __name__)


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class TargetRaiseForm(FlaskForm):
    target_yuan = StringField("新的目标金额（元）", filters=[_strip],
                              validators=[DataRequired("请填写新的目标金额")])
    reason = TextAreaField("追加原因", filters=[_strip], validators=[
        DataRequired("请说明为什么需要追加目标（捐款人会在修改记录中看到）"),
        Length(changes.REASON_MIN, changes.REASON_MAX,
               f"追加原因需要 {changes.REASON_MIN} 到 {changes.REASON_MAX} 个字")])
    bills = MultipleFileField("新的医疗费用票据")

    def __init__(self, *args, campaign: Campaign, **kwargs):
        super().__init__(*args, **kwargs)
        self.campaign = campaign
        self.target_fen: int | None = None

    def validate_target_yuan(self, field):
        try:
            fen = yuan_to_fen(field.data or "")
        except ValueError:
            raise ValidationError(range_message(self.campaign)) from None
        low, high = target_range(self.campaign)
        if not low <= fen <= high:
            raise ValidationError(range_message(self.campaign))
        self.target_fen = fen


@bp.route("/c/<id:campaign_id>/target", methods=["GET", "POST"])
@organizer_required
def raise_target(campaign_id: int):
    campaign = campaign_queries.get_campaign(campaign_id)
    if campaign is None or not campaign_queries.is_organizer(campaign, current_user):
        abort(404)
    if campaign.status not in changes.CHANGEABLE or changes.pending_change(campaign.id):
        flash(f"筹款{campaign.status.label}，不能追加目标。" if campaign.status
              not in changes.CHANGEABLE else "已有一项修改正在审核，审核完成后才能追加目标。",
              "error")
        return redirect(url_for("campaign_changes.mine", campaign_id=campaign.id))
    form = TargetRaiseForm(campaign=campaign)
    errors: list[str] = []
    if request.method == "POST" and form.validate_on_submit():
        try:
            bills = check_uploads(request.files.getlist(form.bills.name))
            propose_target_raise(campaign.id, current_user._get_current_object(),
                                 form.target_fen, form.reason.data, bills)
        except (UploadError, CampaignError, StorageFull) as error:
            errors.append(getattr(error, "message", str(error)))
        else:
            flash("追加目标已提交审核。审核通过后，新的目标金额会显示在筹款页并列入修改记录。",
                  "success")
            message = pii.warning(form.reason.data)
            if message:
                flash(message, "warning")
            return redirect(url_for("campaign_changes.mine", campaign_id=campaign.id))
    low, high = target_range(campaign)
    status = 422 if request.method == "POST" else 200
    return render_template("review/target_raise.html", form=form, campaign=campaign,
                           errors=errors, low_yuan=format_yuan(low), high_yuan=format_yuan(high),
                           range_message=range_message(campaign)), status
