"""What goes on a poster, where its pictures come from, and where the finished JPEG is kept.

Posters are stored under UPLOAD_DIR/posters/<sha256 of their content>.jpg: the same content is
never drawn twice, and a change that shows (money in, cover, title, sharer) makes a new
file; the campaign's static layer (cover, title, captions) is still drawn once per look. Cover and avatar images that cannot be read, for whatever reason, become None, which the
renderer draws as a placeholder: a poster never fails because of a picture.
"""
from __future__ import annotations

import logging
import os
import re
import secrets
import threading
import time
import warnings
from io import BytesIO
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests
from flask import current_app
from PIL import Image, UnidentifiedImageError

from app.campaigns.models import Campaign
from app.campaigns.photos import photo_path
from app.core.templating import local_time
from app.sharing.models import ShareChannel, ShareLink
from app.sharing.posters import PosterContent, poster_progress, prepare_avatar

log = logging.getLogger(__name__)

DIGEST = re.compile(r"^[0-9a-f]{64}$")
AVATAR_MAX_BYTES = 2 * 1024 * 1024
AVATAR_TIMEOUT = (2, 3)
AVATAR_TTL = 3600
# Everything Pillow raises for a file that is not a (whole, sane) image.
IMAGE_ERRORS = (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError,
                Image.DecompressionBombError, Image.DecompressionBombWarning)


# ---------------------------------------------------------------- content

def share_url(link: ShareLink, channel: ShareChannel) -> str:
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + link.path(channel)


def plea_for(campaign: Campaign) -> str:
    return f"确诊{campaign.diagnosis}，正在{campaign.hospital}治疗，恳请帮帮 TA"


def _campaign_fields(campaign: Campaign) -> dict:
    cover = campaign.cover
    return {"campaign_id": campaign.id, "title": campaign.title, "plea": plea_for(campaign),
            "cover_key": cover.storage_key if cover is not None else ""}


def content_for_share(link: ShareLink, campaign: Campaign) -> PosterContent:
    raised, percent = poster_progress(campaign.raised_fen, campaign.target_fen)
    sharer = link.sharer
    return PosterContent(
        kind="poster", raised_fen=raised, target_fen=campaign.target_fen, percent=percent,
        donation_count=campaign.donation_count,
        # a silent sign-in gave no name: WeChat's placeholder never goes on a poster
        sharer_name=sharer.nickname if sharer is not None and sharer.has_profile else "爱心人士",
        avatar_url=(sharer.avatar_url or "") if sharer is not None and sharer.has_profile
        else "",
        link=share_url(link, ShareChannel.poster), **_campaign_fields(campaign))


def content_for_donation(donation, campaign: Campaign, donor_link: ShareLink,
                         donor_name: str) -> PosterContent:
    """The thank-you certificate: nickname (or 匿名) and amount; QR of the donor's own link."""
    return PosterContent(
        kind="certificate", raised_fen=0, target_fen=campaign.target_fen, percent=0,
        sharer_name="", avatar_url="", link=share_url(donor_link, ShareChannel.poster),
        donor_name="匿名" if donation.anonymous else donor_name, amount_fen=donation.amount_fen,
        date_text=local_time(donation.paid_at or donation.created_at, "%Y年%m月%d日"),
        **_campaign_fields(campaign))


# ---------------------------------------------------------------- images

def decode_image(data: bytes) -> Image.Image | None:
    """A fully decoded image, or None for anything broken, truncated or absurdly large."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(BytesIO(data))
            image.draft("RGB", (1000, 1000))   # JPEG: decode at a reduced scale when large
            image.load()
            return image
    except IMAGE_ERRORS as error:
        log.info("unreadable image (%s): using a placeholder", type(error).__name__)
        return None


def load_cover(campaign: Campaign) -> Image.Image | None:
    cover = campaign.cover
    if cover is None:
        return None
    try:
        data = photo_path(cover.storage_key).read_bytes()
    except (OSError, ValueError):
        log.warning("cover %s of campaign %s is missing", cover.storage_key, campaign.id)
        return None
    return decode_image(data)


_avatars: dict[str, tuple[float, Image.Image]] = {}
_avatars_lock = threading.Lock()


def load_avatar(url: str, name: str = "") -> Image.Image:
    """The sharer's avatar as a prepared square (cached an hour per URL); a letter avatar when
    there is none or it cannot be fetched or read."""
    if not url:
        return prepare_avatar(None, name)
    now = time.monotonic()
    with _avatars_lock:
        cached = _avatars.get(url)
    if cached is not None and now - cached[0] < AVATAR_TTL:
        return cached[1]
    image = _fetch_image(url)
    prepared = prepare_avatar(image, name)
    with _avatars_lock:
        if len(_avatars) > 512:
            _avatars.clear()
        _avatars[url] = (now, prepared)
    return prepared


def _fetch_image(url: str) -> Image.Image | None:
    url = urljoin(current_app.config["PUBLIC_BASE_URL"], url)
    if urlsplit(url).scheme not in ("http", "https"):
        return None
    try:
        with requests.get(url, timeout=AVATAR_TIMEOUT, stream=True) as response:
            response.raise_for_status()
            data = bytearray()
            for chunk in response.iter_content(64 * 1024):
                data.extend(chunk)
                if len(data) > AVATAR_MAX_BYTES:
                    return None
    except requests.RequestException as error:
        log.info("avatar %s not fetched (%s): using a placeholder", url, type(error).__name__)
        return None
    return decode_image(bytes(data))


# ---------------------------------------------------------------- storage

def poster_dir() -> Path:
    return Path(current_app.config["UPLOAD_DIR"]) / "posters"


def poster_path(digest: str) -> Path:
    if not DIGEST.match(digest):
        raise ValueError("bad poster digest")
    return poster_dir() / f"{digest}.jpg"


def poster_exists(digest: str) -> bool:
    return poster_path(digest).is_file()


def store_poster(digest: str, data: bytes) -> Path:
    """Written whole under a temporary name, then renamed: readers never see half a file, and
    two workers writing the same poster write the same bytes."""
    directory = poster_dir()
    directory.mkdir(parents=True, exist_ok=True)
    final = poster_path(digest)
    temporary = directory / f".{digest}.{secrets.token_hex(4)}.tmp"
    temporary.write_bytes(data)
    _stamp_now(temporary)
    os.replace(temporary, final)
    return final


def _stamp_now(path: Path) -> None:
    """Set the modification time from our clock (time.time, as prune_posters compares with),
    not the file system's (another host's on shared storage)."""
    now = time.time()
    os.utime(path, (now, now))


def touch_poster(digest: str) -> None:
    """Mark a poster as wanted now (prune_posters removes those unwanted for a month)."""
    try:
        _stamp_now(poster_path(digest))
    except OSError:
        log.info("poster %s vanished while being touched", digest)
