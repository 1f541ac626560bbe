"""The campaign form's photos, uploaded the moment they are picked (static/js/forms.js) and
kept in the pending-photo store until the campaign is saved; and the holding of a refused
submission's photos, so the re-rendered form carries them."""
from __future__ import annotations

from flask import jsonify
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import MultipleFileField, ValidationError

from app.campaigns.errors import CampaignError
from app.campaigns.forms import CampaignForm, _process, _uploaded
from app.campaigns.models import MAX_PHOTOS
from app.campaigns.pending_photos import hold_photos
from app.campaigns.views import bp, organizer_required, photo_url


class PendingPhotoForm(FlaskForm):
    photos = MultipleFileField("照片")


def _refused(status: int, code: str, message: str):
    return jsonify(error={"code": code, "message": message}), status


@bp.post("/campaigns/photos/pending")
@organizer_required
def hold_photo():
    """JSON: {"photos": [{"id", "url", "width", "height"}]}, or a 4xx error in Chinese."""
    form = PendingPhotoForm()
    if not form.validate_on_submit():
        return _refused(400, "invalid_form", "页面已过期，请刷新后重试")
    files = _uploaded(form.photos.data)
    if not files:
        return _refused(422, "no_photo", "请选择要上传的照片")
    if len(files) > MAX_PHOTOS:
        return _refused(422, "too_many_photos", f"最多上传 {MAX_PHOTOS} 张照片")
    try:
        images = [_process(storage) for storage in files]
    except ValidationError as error:   # the file's name and why, in Chinese
        return _refused(422, "invalid_photo", str(error))
    try:
        held = hold_photos(current_user, images)
    except CampaignError as error:
        return _refused(422, error.code or "refused", error.message)
    return jsonify(photos=[{"id": photo.id, "url": photo_url(photo), "width": photo.width,
                            "height": photo.height} for photo in held]), 201


def hold_refused_photos(form: CampaignForm) -> None:
    """A refused submission's fresh photos go to the pending-photo store, so the form shown
    again carries them (ids and thumbnails) instead of asking to choose them again."""
    images = form.fresh_images()
    if not images or "csrf_token" in form.errors:
        return
    try:
        held = hold_photos(current_user, images)
    except CampaignError as error:
        if error.message not in form.form_errors:
            form.form_errors.append(error.message)
        return
    form.keep_held(held)
