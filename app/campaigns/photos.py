"""Campaign photos: checked by content, re-encoded as plain JPEG, stored under a random key.

An upload is trusted for nothing: not its name, not its declared type, not its metadata. Pillow
must recognise it as JPEG, PNG or WebP, its pixel count must stay under a bound (decompression
bombs), and what we keep is a fresh JPEG (EXIF orientation applied, then no metadata at all),
at most MAX_SIDE pixels on its longest side. Files live in UPLOAD_DIR/photos/<key>.jpg.
"""
from __future__ import annotations

import io
import os
import re
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from PIL import Image, ImageOps, UnidentifiedImageError

ALLOWED_FORMATS = frozenset({"JPEG", "PNG", "WEBP"})
MAX_PIXELS = 40_000_000
MAX_SIDE = 1600
JPEG_QUALITY = 85
KEY_PATTERN = re.compile(r"^[0-9a-f]{32}$")

# Pillow warns above MAX_IMAGE_PIXELS and refuses above twice that; we lower the bound for the
# whole process and turn the warning into an error where we open uploads.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


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
    # Only our three decoders ever see the bytes (no exotic format parsers on untrusted input).
    # The explicit pixel check below also covers a thread that misses the warnings filter.
    formats = sorted(ALLOWED_FORMATS)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=formats) as probe:
                kind = probe.format
                width, height = probe.size
                probe.verify()
            if kind not in ALLOWED_FORMATS:
                raise PhotoError("只支持 JPG、PNG 或 WebP 格式的图片")
            if width * height > MAX_PIXELS:
                raise PhotoError("图片尺寸太大，请缩小后再上传")
            with Image.open(io.BytesIO(data), formats=formats) as image:
                image.load()
                return _reencode(image)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise PhotoError("图片尺寸太大，请缩小后再上传") from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
            raise PhotoError("无法识别该文件，请上传 JPG、PNG 或 WebP 格式的照片") from None


def _reencode(image: Image.Image) -> ProcessedImage:
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        image = flat
    elif image.mode != "RGB":
        image = image.convert("RGB")
    image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    # No exif=, no icc_profile=: nothing of the original's metadata is carried over.
    image.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return ProcessedImage(data=out.getvalue(), width=image.width, height=image.height)


def process_upload(storage) -> ProcessedImage:
    """A werkzeug FileStorage → ProcessedImage, or PhotoError."""
    return process_image(read_upload(storage.stream))


def photo_dir() -> Path:
    return Path(current_app.config["UPLOAD_DIR"]) / "photos"


def photo_path(key: str) -> Path:
    if not KEY_PATTERN.match(key):
        raise ValueError("bad photo key")
    return photo_dir() / f"{key}.jpg"


def store_image(image: ProcessedImage) -> str:
    """Write the JPEG under a fresh random key (written whole, then renamed into place)."""
    directory = photo_dir()
    directory.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(16)
    final = photo_path(key)
    temporary = directory / f".{key}.tmp"
    temporary.write_bytes(image.data)
    os.replace(temporary, final)
    return key


def delete_stored(keys: list[str]) -> None:
    for key in keys:
        photo_path(key).unlink(missing_ok=True)
