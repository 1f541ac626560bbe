"""Background jobs of the sharing feature (queue "posters"), and how pages ask for them.

Jobs take ids and are idempotent: a poster's file is named by the digest of its content, so a
job that runs twice (rq runs jobs at least once) finds its file and stops. With Redis they run
in `python worker.py` with retries and a time limit; without, in-process (app/core/jobs.py).
"""
from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass

from flask import Flask
from redis.exceptions import RedisError
from rq import Retry

from app.auth.models import User
from app.campaigns.models import Campaign, CampaignStatus
from app.donations.models import Donation
from app.donations.signals import donation_paid
from app.core.plugins import PeriodicJob
from app.extensions import db, jobs
from app.core.jobs import InlineJob
from app.sharing import poster_store as store
from app.sharing.models import ShareLink
from app.sharing.posters import PosterContent, renderer
from app.sharing.services import SharingError, attribute_donation, share_link_for

log = logging.getLogger(__name__)

QUEUE = "posters"
RQ_OPTIONS = {"retry": Retry(max=3, interval=[2, 10, 30]), "job_timeout": 60,
              "result_ttl": 24 * 3600, "failure_ttl": 7 * 24 * 3600}
ACTIVE_STATES = ("queued", "started", "deferred", "scheduled")


@dataclass(frozen=True)
class PosterTicket:
    """What a page needs after asking for a poster: the file if ready, else the job to watch."""

    digest: str
    job_id: str | None
    ready: bool


# ---------------------------------------------------------------- jobs

def render_share_poster(share_id: int) -> str | None:
    """Draw (or find) the poster of one share link. Returns the poster's digest."""
    jobs.set_progress(5, "读取筹款信息")
    link = db.session.get(ShareLink, share_id)
    campaign = db.session.get(Campaign, link.campaign_id) if link is not None else None
    if link is None or campaign is None:
        return None
    content = store.content_for_share(link, campaign)
    return _render(content, campaign)


def render_certificate(donation_id: int) -> str | None:
    """Draw (or find) the thank-you certificate of one paid donation."""
    jobs.set_progress(5, "读取捐款信息")
    prepared = _certificate_content(donation_id)
    if prepared is None:
        return None
    content, campaign = prepared
    return _render(content, campaign)


def attribute_donation_job(donation_id: int) -> int:
    """Enqueued after a donation's payment commits: credit the shares that brought it."""
    return attribute_donation(donation_id)


def on_donation_paid(sender, donation_id: int, **extra) -> None:
    """Receiver of `app.donations.signals.donation_paid`, sent after the payment committed.
    It only enqueues: nothing here may slow or fail the payment notice that sent it."""
    try:
        jobs.enqueue(attribute_donation_job, donation_id, queue="default",
                     retry=Retry(max=3, interval=[5, 30, 120]), job_timeout=30)
    except RedisError:
        log.exception("attribution of donation %s not queued; `flask sharing "
                      "attribute-donations` catches up", donation_id)


def connect_donation_signal(app: Flask) -> None:
    """Listen to `app`'s paid donations (sharing depends on donations, never the reverse)."""
    donation_paid.connect(on_donation_paid, sender=app)


def _render(content: PosterContent, campaign: Campaign) -> str:
    digest = content.digest()
    if store.poster_exists(digest):
        store.touch_poster(digest)      # asked for again: keep it past the monthly prune
        jobs.set_progress(100, "完成")
        return digest
    jobs.set_progress(25, "加载封面与头像")
    cover = store.load_cover(campaign)
    avatar = (store.load_avatar(content.avatar_url, content.sharer_name)
              if content.kind == "poster" else None)
    jobs.set_progress(60, "绘制海报")
    data = renderer.render_jpeg(content, cover, avatar)
    jobs.set_progress(90, "保存海报")
    store.store_poster(digest, data)
    jobs.set_progress(100, "完成")
    return digest


def _certificate_content(donation_id: int) -> tuple[PosterContent, Campaign] | None:
    donation = db.session.get(Donation, donation_id)
    if donation is None or donation.paid_at is None or donation.user_id is None:
        return None
    campaign = db.session.get(Campaign, donation.campaign_id)
    donor = db.session.get(User, donation.user_id)
    try:
        link = share_link_for(campaign, donation.user_id, None)
    except SharingError:
        return None
    name = donor.nickname if donor.has_profile else "爱心人士"
    return store.content_for_donation(donation, campaign, link, name), campaign


# ---------------------------------------------------------------- asking for a poster

def request_share_poster(link: ShareLink, campaign: Campaign) -> PosterTicket:
    content = store.content_for_share(link, campaign)
    return _request(content, render_share_poster, link.id)


def request_certificate(donation_id: int) -> PosterTicket | None:
    prepared = _certificate_content(donation_id)
    if prepared is None:
        return None
    return _request(prepared[0], render_certificate, donation_id)


def _request(content: PosterContent, func, subject_id: int) -> PosterTicket:
    digest = content.digest()
    if store.poster_exists(digest):
        store.touch_poster(digest)
        return PosterTicket(digest, None, True)
    job_id = f"poster-{digest[:40]}"
    job = jobs.fetch(job_id)
    if job is not None and _status(job) in ACTIVE_STATES:
        return PosterTicket(digest, job.id, False)
    if job is not None:   # finished or failed before, yet no file now: a fresh job
        job_id = f"{job_id}-{secrets.token_hex(3)}"
    job = jobs.enqueue(func, subject_id, queue=QUEUE, job_id=job_id, **RQ_OPTIONS)
    return PosterTicket(digest, job.id, store.poster_exists(digest))


def _status(job) -> str:
    status = job.get_status()
    return getattr(status, "value", status) or ""


def job_state(job_id: str) -> dict | None:
    """What the progress page polls: state, progress 0-100, message, digest when done."""
    job = jobs.fetch(job_id)
    if job is None:
        return None
    status = _status(job)
    result = job.result if isinstance(job, InlineJob) else job.return_value()
    digest = result if status == "finished" and isinstance(result, str) else None
    if status == "finished" and digest is None:
        status = "failed"
    meta = job.meta or {}
    return {"state": status, "progress": 100 if digest else int(meta.get("progress", 0)),
            "message": meta.get("message", ""), "digest": digest}


# ---------------------------------------------------------------- housekeeping

POSTER_MAX_AGE_DAYS = 30


def prune_posters(max_age_days: int = POSTER_MAX_AGE_DAYS) -> int:
    """Periodic job: delete posters nobody has asked for in a month (any is drawn again on
    request) and temporary files left by a worker that died mid-write. Returns files removed."""
    directory = store.poster_dir()
    if not directory.is_dir():
        return 0
    now = time.time()
    removed = 0
    for path in directory.iterdir():
        age = now - path.stat().st_mtime
        stale_poster = path.suffix == ".jpg" and age > max_age_days * 86400
        stale_temporary = path.suffix == ".tmp" and age > 3600
        if stale_poster or stale_temporary:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


PERIODIC_JOBS = [PeriodicJob(prune_posters, 24 * 3600, "posters")]


# ---------------------------------------------------------------- pre-rendering

def live_campaign_ids() -> list[int]:
    from sqlalchemy import select

    return list(db.session.scalars(select(Campaign.id).where(
        Campaign.status == CampaignStatus.live).order_by(Campaign.id)))


def prerender_campaign(campaign_id: int) -> str | None:
    """The organizer's poster of a live campaign (what most shares start from)."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        return None
    try:
        link = share_link_for(campaign, campaign.organizer_id, None)
    except SharingError:
        return None
    return _render(store.content_for_share(link, campaign), campaign)
