"""Image bytes for upload tests, made with Pillow (and one hand-built PNG header)."""
from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

ORIENTATION = 0x0112
GPS_IFD = 0x8825
MAKE = 0x010F


def jpeg_bytes(size=(64, 48), color=(200, 80, 60), orientation: int | None = None,
               with_gps: bool = False) -> bytes:
    image = Image.new("RGB", size, color)
    exif = Image.Exif()
    if orientation:
        exif[ORIENTATION] = orientation
    if with_gps:
        exif[MAKE] = "SecretPhone"
        exif.get_ifd(GPS_IFD)[2] = (39.0, 54.0, 27.0)  # GPSLatitude
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes() if (orientation or with_gps) else b"")
    return out.getvalue()


def png_bytes(size=(64, 48), mode="RGBA") -> bytes:
    image = Image.new(mode, size, (30, 160, 120, 128) if mode == "RGBA" else 0)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def gif_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("P", (20, 20)).save(out, "GIF")
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG claiming huge dimensions with almost no data: a decompression-bomb shape."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b""))


def upload(data: bytes, name: str = "photo.jpg") -> tuple[io.BytesIO, str]:
    """What the Flask test client takes as a file field value."""
    return io.BytesIO(data), name
