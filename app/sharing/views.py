"""Share links, the share card's parameters, posters, certificates and the sharers' figures.

  GET  /s/<token>[/<channel code>]       a share link: one visit recorded, then the campaign
  POST /c/<id>/share/link                JSON: this person's links, wx.config and the share card
  GET  /s/<token>/qr.png                 QR code of the desktop link (电脑扫码)
  GET  /c/<id>/share                     我的转发: what this person's shares brought
  GET  /c/<id>/ambassadors               the organizer's ranking (爱心大使) and channels
  POST /c/<id>/poster                    make this person's poster (a job) → its progress page
  POST /donations/<id>/certificate       make the donor's 爱心证书 (a job) → its progress page
  GET  /posters/jobs/<job id>[.json]     progress of a poster job (page, and what it polls)
  GET  /posters/<digest>[.jpg]           the finished poster (page, and the image itself)
"""
from __future__ import annotations

import io
import secrets
from urllib.parse import urlsplit

from flask import (Blueprint, Response, abort, current_app, g, jsonify, redirect,
                   render_template, request, send_file, url_for)
from flask_login import current_user, login_required

from app.campaigns.models import Campaign
from app.campaigns.queries import can_view, is_organizer, is_staff
from app.donations.models import Donation
from app.extensions import db, limiter
from app.sharing import services, stats, tasks
from app.sharing.models import ShareChannel
from app.sharing.poster_store import DIGEST, poster_dir, poster_exists, share_url
from app.sharing.posters import default_card_image, qr_image
from app.wechat import jssdk

bp = Blueprint("sharing", __name__)

VISITOR_COOKIE = "xz_vid"
LINKED_COOKIE = "xz_vlu"         # the user id the visitor cookie was last linked to
COOKIE_MAX_AGE = 365 * 24 * 3600
IMMUTABLE_MAX_AGE = 365 * 24 * 3600


# ---------------------------------------------------------------- the visitor cookie

def _user_id() -> int | None:
    if current_user.is_authenticated and not getattr(current_user, "is_staff", False):
        return current_user.id
    return None


def _visitor_id(create: bool = False) -> str | None:
    value = request.cookies.get(VISITOR_COOKIE, "")
    if len(value) == 32 and value.isalnum():
        return value
    if not create:
        return None
    if "new_visitor_id" not in g:
        g.new_visitor_id = secrets.token_hex(16)
    return g.new_visitor_id


@bp.before_app_request
def _link_signed_in_visitor() -> None:
    """Once per sign-in and browser: visits made before signing in become the user's."""
    if request.endpoint == "static":
        return
    visitor_id = _visitor_id()
    if visitor_id is None:
        return
    user_id = _user_id()
    if user_id is None or request.cookies.get(LINKED_COOKIE) == str(user_id):
        return
    services.link_visitor(user_id, visitor_id)
    g.linked_user_id = user_id


@bp.after_app_request
def _set_cookies(response: Response) -> Response:
    secure = bool(current_app.config.get("SESSION_COOKIE_SECURE"))
    if "new_visitor_id" in g:
        response.set_cookie(VISITOR_COOKIE, g.new_visitor_id, max_age=COOKIE_MAX_AGE,
                            httponly=True, samesite="Lax", secure=secure)
    if "linked_user_id" in g:
        response.set_cookie(LINKED_COOKIE, str(g.linked_user_id), max_age=COOKIE_MAX_AGE,
                            httponly=True, samesite="Lax", secure=secure)
    return response


@bp.app_context_processor
def sharing_helpers():
    def load_jssdk() -> bool:
        agent = request.user_agent.string or ""
        return bool(current_app.config.get("WECHAT_STANDIN")) or "MicroMessenger" in agent

    def inviter(campaign_id: int) -> services.Inviter | None:
        """Who shared the link this visitor arrived through (the thank-you page names them)."""
        return services.inviter_of(campaign_id, _user_id(), _visitor_id())

    return {"sharing_jssdk_url": jssdk.script_url, "sharing_load_jssdk": load_jssdk,
            "sharing_inviter": inviter}


# ---------------------------------------------------------------- share links

@bp.get("/s/<token>")
@bp.get("/s/<token>/<code>")
def follow(token: str, code: str = "f"):
    user_id = _user_id()
    ref = services.record_visit(token, ShareChannel.from_code(code), user_id,
                                _visitor_id(create=user_id is None))
    if ref is None:
        abort(404)
    return redirect(url_for("campaigns.detail", campaign_id=ref.campaign_id))


def _viewable_campaign(campaign_id: int) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or not can_view(campaign, current_user):
        abort(404)
    return campaign


def _person() -> tuple[int | None, str | None]:
    user_id = _user_id()
    return user_id, (_visitor_id() if user_id else _visitor_id(create=True))


def _limit_key() -> str:
    """Per person where we know them: many phones share one carrier IP."""
    user_id = _user_id()
    if user_id is not None:
        return f"user:{user_id}"
    visitor_id = _visitor_id()
    return f"visitor:{visitor_id}" if visitor_id else f"ip:{request.remote_addr}"


@bp.post("/c/<id:campaign_id>/share/link")
@limiter.limit("60/minute", key_func=_limit_key)
def share_link(campaign_id: int):
    campaign = _viewable_campaign(campaign_id)
    user_id, visitor_id = _person()
    try:
        link = services.share_link_for(campaign, user_id, visitor_id)
    except services.SharingError as error:
        return jsonify(error={"code": "not_shareable", "message": str(error)}), 409
    page_url = str((request.get_json(silent=True) or {}).get("url", ""))
    wx = jssdk.config_for(page_url) if _own_page(page_url) else None
    return jsonify(
        token=link.token,
        links={channel.value: share_url(link, channel) for channel in ShareChannel},
        qr=url_for("sharing.link_qr", token=link.token),
        wx=wx,
        card=_card(campaign))


def _own_page(url: str) -> bool:
    """Only our own pages get a JS-SDK signature."""
    base = urlsplit(current_app.config["PUBLIC_BASE_URL"])
    page = urlsplit(url)
    return page.scheme in ("http", "https") and page.netloc in (base.netloc, request.host)


def _card(campaign: Campaign) -> dict:
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    if campaign.cover is not None:
        image = base + url_for("campaigns.photo", key=campaign.cover.storage_key)
    else:
        image = base + url_for("sharing.card_image")
    return {"title": campaign.title,
            "desc": f"{campaign.hospital} · {campaign.diagnosis}，恳请帮帮 TA，转发也是一种帮助",
            "imgUrl": image}


@bp.get("/s/<token>/qr.png")
def link_qr(token: str):
    if services.resolve_token(token) is None:
        abort(404)
    url = (current_app.config["PUBLIC_BASE_URL"].rstrip("/")
           + f"/s/{token}/{ShareChannel.desktop_qr.code}")
    out = io.BytesIO()
    qr_image(url, 240).save(out, format="PNG", optimize=True)
    out.seek(0)
    response = send_file(out, mimetype="image/png", max_age=IMMUTABLE_MAX_AGE)
    response.cache_control.public = True
    return response


@bp.get("/s/card.png")
def card_image():
    """The share card's picture for a campaign without a cover photo."""
    out = io.BytesIO()
    default_card_image().save(out, format="PNG", optimize=True)
    out.seek(0)
    response = send_file(out, mimetype="image/png", max_age=24 * 3600)
    response.cache_control.public = True
    return response


# ---------------------------------------------------------------- figures

@bp.get("/c/<id:campaign_id>/share")
def my_shares(campaign_id: int):
    campaign = _viewable_campaign(campaign_id)
    user_id, visitor_id = _user_id(), _visitor_id()
    mine = stats.sharer_stats(campaign.id, user_id, visitor_id)
    return render_template("sharing/my_shares.html", campaign=campaign, stats=mine,
                           is_owner=is_organizer(campaign, current_user))


@bp.get("/c/<id:campaign_id>/ambassadors")
@login_required
def ambassadors(campaign_id: int):
    campaign = _viewable_campaign(campaign_id)
    if not (is_organizer(campaign, current_user) or is_staff(current_user)):
        abort(404)
    return render_template("sharing/ambassadors.html", campaign=campaign,
                           ranking=stats.ambassador_ranking(campaign.id),
                           channels=stats.channel_breakdown(campaign.id))


# ---------------------------------------------------------------- posters

@bp.post("/c/<id:campaign_id>/poster")
@limiter.limit("20/minute", key_func=_limit_key)
def poster(campaign_id: int):
    campaign = _viewable_campaign(campaign_id)
    user_id, visitor_id = _person()
    try:
        link = services.share_link_for(campaign, user_id, visitor_id)
    except services.SharingError as error:
        return render_template("errors/error.html", status=409, message=str(error)), 409
    return _after_request(tasks.request_share_poster(link, campaign), campaign.id)


@bp.post("/donations/<id:donation_id>/certificate")
@limiter.limit("20/minute", key_func=_limit_key)
@login_required
def certificate(donation_id: int):
    donation = db.session.get(Donation, donation_id)
    if donation is None or _user_id() is None or donation.user_id != _user_id():
        abort(404)
    ticket = tasks.request_certificate(donation.id)
    if ticket is None:
        abort(404)
    return _after_request(ticket, donation.campaign_id, kind="certificate")


def _after_request(ticket: tasks.PosterTicket, campaign_id: int, kind: str = "poster"):
    if ticket.ready or ticket.job_id is None:
        return redirect(url_for("sharing.poster_page", digest=ticket.digest, c=campaign_id,
                                kind=kind))
    return redirect(url_for("sharing.poster_job", job_id=ticket.job_id, c=campaign_id,
                            kind=kind))


def _job_id_ok(job_id: str) -> bool:
    return job_id.startswith("poster-") and len(job_id) <= 64 and \
        all(ch.isalnum() or ch == "-" for ch in job_id)


@bp.get("/posters/jobs/<job_id>")
def poster_job(job_id: str):
    if not _job_id_ok(job_id):
        abort(404)
    state = tasks.job_state(job_id)
    if state is None:
        abort(404)
    if state["digest"]:
        return redirect(url_for("sharing.poster_page", digest=state["digest"],
                                c=request.args.get("c", type=int),
                                kind=request.args.get("kind", "poster")))
    return render_template("sharing/poster_job.html", job_id=job_id, state=state,
                           campaign_id=request.args.get("c", type=int),
                           kind=request.args.get("kind", "poster"))


@bp.get("/posters/jobs/<job_id>.json")
def poster_job_status(job_id: str):
    state = tasks.job_state(job_id) if _job_id_ok(job_id) else None
    if state is None:
        return jsonify(error={"code": "not_found", "message": "任务不存在或已过期"}), 404
    if state["digest"]:
        state["url"] = url_for("sharing.poster_file", digest=state["digest"])
        state["page"] = url_for("sharing.poster_page", digest=state["digest"],
                                c=request.args.get("c", type=int),
                                kind=request.args.get("kind", "poster"))
    response = jsonify(state)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/posters/<digest>")
def poster_page(digest: str):
    if not DIGEST.match(digest) or not poster_exists(digest):
        abort(404)
    campaign_id = request.args.get("c", type=int)
    nameless = (current_user.is_authenticated and not getattr(current_user, "is_staff", False)
                and not current_user.has_profile)
    return render_template("sharing/poster.html", digest=digest, campaign_id=campaign_id,
                           kind=request.args.get("kind", "poster"), nameless=nameless)


@bp.get("/posters/<digest>.jpg")
def poster_file(digest: str):
    """Named by the digest of its content, so it never changes: cached for a year."""
    if not DIGEST.match(digest) or not poster_exists(digest):
        abort(404)
    response = send_file(poster_dir() / f"{digest}.jpg", mimetype="image/jpeg",
                         max_age=IMMUTABLE_MAX_AGE, etag=True, conditional=True)
    response.cache_control.public = True
    response.cache_control.immutable = True
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
