"""Attesting (证实) and posting updates (动态) from the campaign page; the page's extra context
(badges, attestations, updates, why donations are paused)."""
from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import MultipleFileField, SelectField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length

from app.campaigns import moderation, page_data, trust
from app.campaigns.errors import CampaignError
from app.campaigns.models import Campaign
from app.campaigns.photos import PhotoError, process_upload
from app.campaigns.views import bp, organizer_required
from app.core import pii


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class AttestForm(FlaskForm):
    # validate_choice=False: an unknown value gets AnyOf's Chinese message, not WTForms' English.
    relation = SelectField("您与患者的关系", choices=[("", "请选择")] + trust.ATTEST_RELATIONS,
                           validate_choice=False, validators=[
                               DataRequired("请选择您与患者的关系"),
                               AnyOf([code for code, _ in trust.ATTEST_RELATIONS],
                                     "请选择您与患者的关系")])
    statement = TextAreaField("证实内容", filters=[_strip], validators=[
        DataRequired("请写下您了解的情况"),
        Length(trust.STATEMENT_MIN, trust.STATEMENT_MAX,
               f"证实内容需要 {trust.STATEMENT_MIN} 到 {trust.STATEMENT_MAX} 个字")])


class UpdateForm(FlaskForm):
    body = TextAreaField("动态内容", filters=[_strip], validators=[
        DataRequired("请填写动态内容"),
        Length(trust.UPDATE_MIN, trust.UPDATE_MAX,
               f"动态内容需要 {trust.UPDATE_MIN} 到 {trust.UPDATE_MAX} 个字")])
    photos = MultipleFileField("照片（选填）")


def trust_context(campaign: Campaign, viewer) -> dict:
    """Everything the campaign page shows about verification and the people around it (read
    in the page's one statement when it ran: page_data)."""
    signed_in_user = viewer.is_authenticated and not getattr(viewer, "is_staff", False)
    shared = page_data.prefetched(campaign.id, "trust")
    if shared is page_data.MISSING:
        shared = {"attestations": trust.attestations_of(campaign.id),
                  "attestation_counts": trust.attestation_counts(campaign.id),
                  "updates": trust.updates_of(campaign.id)}
    attested = signed_in_user and _has_attested(campaign, viewer, shared["attestations"])
    return {
        "badges": trust.badges_of(campaign),
        **shared,
        "attest_form": AttestForm(formdata=None),
        "update_form": UpdateForm(formdata=None),
        "can_attest": bool(signed_in_user and campaign.organizer_id != viewer.id
                           and campaign.status in trust.ATTESTABLE and not attested),
        "has_attested": bool(attested),
        "pause_reason": (moderation.freeze_reason(campaign)
                         if campaign.status.value in ("frozen", "terminated") else ""),
    }


def _has_attested(campaign: Campaign, viewer, shown: list) -> bool:
    """From the attestations shown when they are all there; asked otherwise."""
    if any(a.user_id == viewer.id for a in shown):
        return True
    if len(shown) < trust.ATTESTATIONS_SHOWN:
        return False
    return trust.has_attested(campaign.id, viewer.id)


@bp.post("/c/<id:campaign_id>/attest")
@login_required
def attest(campaign_id: int):
    if getattr(current_user, "is_staff", False):
        abort(403)
    form = AttestForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
    else:
        try:
            trust.attest(campaign_id, current_user._get_current_object(), form.relation.data,
                         form.statement.data)
        except CampaignError as error:
            if error.code == "not_found":
                abort(404)
            flash(error.message, "error")
        else:
            flash("感谢您的证实，它会帮助更多人放心帮助患者。", "success")
            _warn_personal_data(form.statement.data)
    return redirect(url_for(".detail", campaign_id=campaign_id, _anchor="attestations"))


@bp.post("/c/<id:campaign_id>/updates")
@organizer_required
def post_update(campaign_id: int):
    form = UpdateForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
        return redirect(url_for(".detail", campaign_id=campaign_id, _anchor="updates"))
    files = [f for f in request.files.getlist(form.photos.name) if f and f.filename]
    try:
        photos = [process_upload(f) for f in files]
        trust.post_update(campaign_id, current_user._get_current_object(), form.body.data, photos)
    except PhotoError as error:
        flash(str(error), "error")
    except CampaignError as error:
        if error.code == "forbidden":
            abort(404)
        flash(error.message, "error")
    else:
        flash("动态已发布", "success")
        _warn_personal_data(form.body.data)
    return redirect(url_for(".detail", campaign_id=campaign_id, _anchor="updates"))


def _warn_personal_data(text: str) -> None:
    message = pii.warning(text)
    if message:
        flash(message, "warning")
