"""QR codes for NATIVE payments, as inline SVG (no image files, no extra request)."""
from __future__ import annotations

import qrcode
import qrcode.image.svg
from markupsafe import Markup


def qr_svg(data: str) -> Markup:
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=10,
                        border=2)
    return Markup(image.to_string(encoding="unicode"))
