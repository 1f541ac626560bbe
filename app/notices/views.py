"""A person's 通知 page, and muting a campaign's messages (不再接收此筹款的消息) from its page."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from app.auth.decorators import organizer_required
from app.notices import reading, services

bp = Blueprint("notices", __name__)


class MuteForm(FlaskForm):
    """The button's CSRF token only."""


@bp.get("/me/notices")
@organizer_required
def mine():
    return render_template("notices/mine.html", notices=reading.read_notices(current_user.id))


@bp.post("/c/<id:campaign_id>/mute")
@organizer_required
def mute(campaign_id: int):
    return _set_muted(campaign_id, True, "已不再接收此筹款的消息；与您的捐款、退款有关的通知仍会送达")


@bp.post("/c/<id:campaign_id>/unmute")
@organizer_required
def unmute(campaign_id: int):
    return _set_muted(campaign_id, False, "已恢复接收此筹款的消息")


def _set_muted(campaign_id: int, muted: bool, done: str):
    if not MuteForm().validate_on_submit():
        abort(400)
    if not services.set_muted(current_user.id, campaign_id, muted):
        abort(404)
    flash(done, "success")
    return redirect(url_for("campaigns.detail", campaign_id=campaign_id) + "#updates")


@bp.app_template_global()
def campaign_muted(campaign_id: int) -> bool:
    """Whether the signed-in person muted this campaign (the campaign page's mute button)."""
    if not current_user.is_authenticated or getattr(current_user, "is_staff", False):
        return False
    return reading.is_muted(current_user.id, campaign_id)
