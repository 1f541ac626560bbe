"""Campaign pages: explore, the public page, the organizer's own campaigns, photos.

Views stay thin: forms check input, app.campaigns.services changes state, queries read.
"""
from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_login import current_user

from app.auth.decorators import organizer_required
from app.campaigns import page_cache, page_render, pending_photos, queries, services
from app.campaigns.dashboard import dashboard_of
from app.campaigns.forms import ActionForm, CampaignForm, PhotoUploadForm, target_range_text
from app.campaigns.models import MAX_PHOTOS, Campaign
from app.campaigns.photos import KEY_PATTERN, photo_dir
from app.campaigns.services import CampaignError
from app.core import pii
from app.core.params import page_arg_or_first
from app.core.replica import reads_from_replica
from app.core.signals import announce_funnel_step
from app.core.templating import mask_name

bp = Blueprint("campaigns", __name__)

PHOTO_MAX_AGE = 365 * 24 * 3600



def _warn_personal_data(form: CampaignForm) -> None:
    """Shown after saving a draft, which the organizer can still edit: what the public page
    will hide, and the masked form of the patient's name when the title carries it in full."""
    message = pii.warning(form.story.data)
    if message:
        flash(message, "warning")
    name, title = form.patient_name.data or "", form.title.data or ""
    in_title = pii.kinds(title)
    if in_title:
        # Titles are shown as written (share cards, lists, the page's heading): say so.
        flash(f"标题中含有{'、'.join(kind.label for kind in in_title)}，标题会照原样公开显示，"
              "请删去后再提交审核。", "warning")
    if len(name) >= 2 and name in title:
        flash(f"标题中含有患者全名“{name}”，公开页面将照原样显示；如不希望公开全名，"
              f"可改为“{mask_name(name)}”。", "info")


def _own_campaign(campaign_id: int) -> Campaign:
    """The signed-in organizer's campaign, or 404 (someone else's campaign is not found)."""
    campaign = queries.get_campaign(campaign_id)
    if campaign is None or not queries.is_organizer(campaign, current_user):
        abort(404)
    return campaign


# --- public -------------------------------------------------------------------------------------

@bp.get("/campaigns")
@reads_from_replica
def explore():
    q = request.args.get("q", "").strip()
    page = page_arg_or_first(request.args)
    pagination = queries.search_live(q, page)
    ended = queries.recently_ended() if not q and pagination.page == 1 else []
    return render_template("campaigns/explore.html", campaigns=pagination.items,
                           pagination=pagination, q=q, ended=ended)


@bp.get("/c/<id:campaign_id>")
@reads_from_replica
def detail(campaign_id: int):
    kind = page_cache.variant(current_user)
    if kind is not None:
        viewer = current_user._get_current_object()
        viewer_id = viewer.id if viewer.is_authenticated else None
        key = page_cache.figures_key(campaign_id, _loads_jssdk(), kind, viewer_id)
        if key is not None:
            html = page_cache.serve(
                key, lambda: page_render.render_shared(campaign_id, kind, viewer), viewer_id)
            if html is not None:
                announce_funnel_step("campaign_view", campaign_id)
                return html
    campaign = queries.campaign_for_page(campaign_id)
    if campaign is None or not queries.can_view(campaign, current_user):
        abort(404)
    html = page_render.render_page(campaign, current_user)
    # After rendering: the step's commit would expire the campaign the page is still reading.
    if campaign.is_public:
        announce_funnel_step("campaign_view", campaign_id)
    return html


def _loads_jssdk() -> bool:
    """What sharing's `sharing_load_jssdk()` decides for this request (part of the page)."""
    return (bool(current_app.config.get("WECHAT_STANDIN"))
            or "MicroMessenger" in (request.user_agent.string or ""))


@bp.get("/photos/<key>.jpg")
def photo(key: str):
    """Re-encoded public photos under unguessable keys; immutable, so cached for a year."""
    if not KEY_PATTERN.match(key):
        abort(404)
    response = send_from_directory(photo_dir(), f"{key}.jpg", mimetype="image/jpeg",
                                   max_age=PHOTO_MAX_AGE)
    response.cache_control.public = True
    response.cache_control.immutable = True
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# --- the organizer --------------------------------------------------------------------------------

@bp.get("/me/campaigns")
@organizer_required
def mine():
    return render_template("campaigns/mine.html", dashboard=dashboard_of(current_user.id),
                           action_form=ActionForm())


@bp.route("/campaigns/new", methods=["GET", "POST"])
@organizer_required
def new():
    from app.campaigns.pending_views import hold_refused_photos

    form = CampaignForm(organizer_id=current_user.id)
    if form.validate_on_submit():
        try:
            campaign = services.create_campaign(current_user, form.campaign_data(),
                                                form.ordered_images())
        except CampaignError as error:
            form.form_errors.append(error.message)
        else:
            pending_photos.release(current_user.id, form.held_ids())
            flash("草稿已保存。确认信息无误后，请提交审核。", "success")
            _warn_personal_data(form)
            return redirect(url_for(".detail", campaign_id=campaign.id))
    if request.method == "POST":
        hold_refused_photos(form)
    return (render_template("campaigns/form.html", form=form, campaign=None,
                            max_photos=MAX_PHOTOS, target_range=target_range_text()),
            _status(form))


@bp.route("/c/<id:campaign_id>/edit", methods=["GET", "POST"])
@organizer_required
def edit(campaign_id: int):
    campaign = _own_campaign(campaign_id)
    if not campaign.is_editable:
        flash(f"筹款{campaign.status.label}，不能再修改。", "error")
        return redirect(url_for(".detail", campaign_id=campaign.id))
    form = CampaignForm(existing_photos=len(campaign.photos))
    if request.method == "GET":
        form.fill_from(campaign)
    elif form.validate_on_submit():
        try:
            services.update_campaign(campaign, current_user, form.campaign_data(),
                                     photos=form.processed_photos, cover=form.processed_cover)
        except CampaignError as error:
            form.form_errors.append(error.message)
        else:
            flash("修改已保存。", "success")
            _warn_personal_data(form)
            return redirect(url_for(".detail", campaign_id=campaign.id))
    return (render_template("campaigns/form.html", form=form, campaign=campaign,
                            photo_form=PhotoUploadForm(), action_form=ActionForm(),
                            max_photos=MAX_PHOTOS, target_range=target_range_text()),
            _status(form))


@bp.post("/c/<id:campaign_id>/photos")
@organizer_required
def add_photos(campaign_id: int):
    campaign = _own_campaign(campaign_id)
    form = PhotoUploadForm(existing_photos=len(campaign.photos))
    if not form.validate_on_submit():
        for message in form.photos.errors:
            flash(message, "error")
        return redirect(url_for(".edit", campaign_id=campaign_id))
    try:
        services.add_photos(campaign, current_user, form.processed_photos)
    except CampaignError as error:
        flash(error.message, "error")
    else:
        flash("照片已上传。", "success")
    return redirect(url_for(".edit", campaign_id=campaign_id))


@bp.post("/c/<id:campaign_id>/photos/<id:photo_id>/delete")
@organizer_required
def remove_photo(campaign_id: int, photo_id: int):
    campaign = _own_campaign(campaign_id)
    try:
        services.remove_photo(campaign, current_user, photo_id)
    except CampaignError as error:
        flash(error.message, "error")
    else:
        flash("照片已删除。", "success")
    return redirect(url_for(".edit", campaign_id=campaign_id))


@bp.post("/c/<id:campaign_id>/photos/<id:photo_id>/cover")
@organizer_required
def set_cover(campaign_id: int, photo_id: int):
    campaign = _own_campaign(campaign_id)
    try:
        services.set_cover(campaign, current_user, photo_id)
    except CampaignError as error:
        flash(error.message, "error")
    else:
        flash("封面已更换。", "success")
    return redirect(url_for(".edit", campaign_id=campaign_id))


def _status(form: CampaignForm) -> int:
    """422 when a posted form is sent back with errors, so scripts and tests can tell."""
    return 422 if request.method == "POST" and (form.errors or form.form_errors) else 200


@bp.app_template_global()
def photo_url(photo, external: bool = False) -> str:
    return url_for("campaigns.photo", key=photo.storage_key, _external=external)


@bp.app_context_processor
def upload_limits():
    return {"upload_limit_mb": current_app.config.get("MAX_IMAGE_BYTES", 0) // (1024 * 1024)}


from app.campaigns import trust_views  # noqa: E402,F401  (attest and update routes on bp)
from app.campaigns import pending_views  # noqa: E402,F401  (the form's pending photos)
