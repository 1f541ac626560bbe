"""Untrusted images in, plain JPEG out: one implementation for photos, documents and claims.

Only the named Pillow decoders see the bytes; the pixel count is bounded (decompression bombs,
with Pillow's warning made an error); EXIF orientation is applied and then no metadata at all is
carried over; the result is at most `max_side` pixels on its longest side.
"""
from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_PIXELS = 40_000_000

# Pillow warns above MAX_IMAGE_PIXELS and refuses above twice that. Lowered for the whole
# process because every image we decode comes from someone we don't know.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


class ImageRejected(Exception):
    """Why an image was refused: `too_large` (pixels) or `unreadable`; callers word it."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Jpeg:
    data: bytes
    width: int
    height: int


def reencode_image(data: bytes, formats: tuple[str, ...], max_side: int,
                   quality: int) -> Jpeg:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=formats) as probe:
                width, height = probe.size
                probe.verify()
            if width * height > MAX_PIXELS:
                raise ImageRejected("too_large")
            with Image.open(io.BytesIO(data), formats=formats) as image:
                image.load()
                return _to_jpeg(image, max_side, quality)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ImageRejected("too_large") from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
            raise ImageRejected("unreadable") from None


def _to_jpeg(image: Image.Image, max_side: int, quality: int) -> Jpeg:
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        image = flat
    elif image.mode != "RGB":
        image = image.convert("RGB")
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    # No exif=, no icc_profile=: nothing of the original's metadata is carried over.
    image.save(out, format="JPEG", quality=quality, optimize=True, progressive=True)
    return Jpeg(data=out.getvalue(), width=image.width, height=image.height)
