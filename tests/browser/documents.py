"""Pictures that look like scanned medical papers, for the browser tests' uploads."""
from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT = Path(__file__).resolve().parents[2] / "static" / "fonts" / "wqy-microhei.ttc"


def paper_jpeg(title: str, lines: int = 9, size=(900, 1200)) -> bytes:
    image = Image.new("RGB", size, (250, 249, 245))
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(FONT), 56)
    small = ImageFont.truetype(str(FONT), 30)
    draw.text((size[0] // 2, 90), title, fill=(30, 30, 30), font=font, anchor="mm")
    draw.text((size[0] // 2, 160), "北京儿童医院", fill=(80, 80, 80), font=small, anchor="mm")
    for i in range(lines):
        y = 240 + i * 80
        draw.line([(90, y), (size[0] - 90 - (i % 3) * 120, y)], fill=(160, 160, 160), width=4)
    cx, cy = size[0] - 230, size[1] - 260
    draw.ellipse([cx - 120, cy - 120, cx + 120, cy + 120], outline=(210, 40, 40), width=10)
    draw.text((cx, cy), "医院公章", fill=(210, 40, 40), font=small, anchor="mm")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def write(tmp_path, name: str, title: str) -> str:
    path = tmp_path / name
    path.write_bytes(paper_jpeg(title))
    return str(path)
