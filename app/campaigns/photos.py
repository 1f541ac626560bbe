"""Campaign photos: checked by content, re-encoded as plain JPEG, stored under a random key.

An upload is trusted for nothing: not its name, not its declared type, not its metadata. Pillow
must recognise it as JPEG, PNG or WebP, its pixel count must stay under a bound (decompression
bombs), and what we keep is a fresh JPEG (EXIF orientation applied, then no metadata at all),
at most MAX_SIDE pixels on its longest side. Files live in UPLOAD_DIR/photos/<key>.jpg.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from flask import current_app

from app.campaigns.errors import CampaignError
from app.core.files import STORAGE_FULL_MESSAGE, StorageFull, write_whole
from app.core.images import ImageRejected, reencode_image

ALLOWED_FORMATS = frozenset({"JPEG", "PNG", "WEBP"})
MAX_SIDE = 1600
JPEG_QUALITY = 85
KEY_PATTERN = re.compile(r"^[0-9a-f]{32}$")


class PhotoError(Exception):
    """An upload we refuse; the message is shown to the person who uploaded it."""


@dataclass(frozen=True)
class ProcessedImage:
    data: bytes
    width: int
    height: int


def max_image_bytes() -> int:
    return int(current_app.config.get("MAX_IMAGE_BYTES", 10 * 1024 * 1024))


def read_upload(stream: BinaryIO, limit: int | None = None) -> bytes:
    """Read at most limit bytes; a longer upload is refused without reading all of it."""
    limit = max_image_bytes() if limit is None else limit
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise PhotoError(f"图片不能超过 {limit // (1024 * 1024) or 1} MB")
    if not data:
        raise PhotoError("上传的图片是空的")
    return data


def process_image(data: bytes) -> ProcessedImage:
    """Validate an upload by its content and return it re-encoded as a metadata-free JPEG."""
    try:
        jpeg = reencode_image(data, tuple(sorted(ALLOWED_FORMATS)), MAX_SIDE, JPEG_QUALITY)
    except ImageRejected as rejected:
        if rejected.reason == "too_large":
            raise PhotoError("图片尺寸太大，请缩小后再上传") from None
        raise PhotoError("无法识别该文件，请上传 JPG、PNG 或 WebP 格式的照片") from None
    return ProcessedImage(data=jpeg.data, width=jpeg.width, height=jpeg.height)


def process_upload(storage) -> ProcessedImage:
    """A werkzeug FileStorage → ProcessedImage, or PhotoError."""
    return process_image(read_upload(storage.stream))


def photo_dir() -> Path:
    return Path(current_app.config["UPLOAD_DIR"]) / "photos"


def photo_path(key: str) -> Path:
    if not KEY_PATTERN.match(key):
        raise ValueError("bad photo key")
    return photo_dir() / f"{key}.jpg"


class PhotoStorageFull(StorageFull, CampaignError):
    """The disk is full: the campaign forms show the message like any refused action."""

    def __init__(self) -> None:
        CampaignError.__init__(self, STORAGE_FULL_MESSAGE, "storage_full")


def store_image(image: ProcessedImage) -> str:
    """Write the JPEG under a fresh random key (written whole, then renamed into place).
    Raises PhotoStorageFull, leaving no file, when the disk is full."""
    key = secrets.token_hex(16)
    try:
        write_whole(photo_path(key), image.data)
    except StorageFull as full:
        raise PhotoStorageFull() from full
    return key


def delete_stored(keys: list[str]) -> None:
    for key in keys:
        photo_path(key).unlink(missing_ok=True)
