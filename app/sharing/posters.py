"""Drawing the 750 × 1334 share poster and the thank-you certificate (爱心证书) with Pillow.

Pure functions of their input: no database, no network. A poster is two layers: the static one
(cover, title, plea, fixed captions, footer), drawn once per campaign look and kept in a small
LRU, and the per-sharer one (progress, avatar, nickname, QR code) drawn on a copy of it. Chinese
text uses the WenQuanYi Micro Hei font shipped in static/fonts, so no system font is needed.
Broken cover or avatar images are the caller's to replace with None; None draws a placeholder.
"""
from __future__ import annotations

import hashlib
import io
import json
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont, ImageOps
from qrcode.constants import ERROR_CORRECT_Q

from app.models_base import format_yuan

W, H = 750, 1334
RENDER_VERSION = "2"
FONT_PATH = Path(__file__).resolve().parents[2] / "static" / "fonts" / "wqy-microhei.ttc"
JPEG_QUALITY = 85
STATIC_CACHE_SIZE = 8

RED = (240, 72, 62)
DARK = (34, 34, 34)
GREY = (120, 120, 120)
LIGHT = (241, 241, 241)
WHITE = (255, 255, 255)
CREAM = (255, 248, 236)
GOLD = (212, 161, 90)
MARGIN = 48
AVATAR = 88
QR_BOX = 232
FOOTER = "筹款资金由第三方机构监管"


@dataclass(frozen=True)
class PosterContent:
    """Everything a poster shows; its digest names the cached file."""

    kind: str                 # "poster" or "certificate"
    campaign_id: int
    title: str
    plea: str
    cover_key: str            # identity of the cover image ("" = placeholder)
    raised_fen: int           # exactly what came in (see poster_progress)
    target_fen: int
    percent: int
    sharer_name: str
    avatar_url: str
    link: str                 # what the QR code carries
    donor_name: str = ""
    amount_fen: int = 0
    date_text: str = ""
    donation_count: int = 0   # 次帮助, beside the figure

    def digest(self) -> str:
        payload = json.dumps([RENDER_VERSION, asdict(self)], ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def static_key(self) -> tuple:
        return (RENDER_VERSION, self.kind, self.campaign_id, self.title, self.plea, self.cover_key)


def poster_progress(raised_fen: int, target_fen: int) -> tuple[int, int]:
    """(raised as shown, percent): the exact figure — a poster never says less than came in
    (once it was rounded down to a step, and read 已筹 ¥0 after the first donations)."""
    shown = max(0, raised_fen)
    return shown, min(100, shown * 100 // max(1, target_fen))


# ---------------------------------------------------------------- fonts and text

@lru_cache(maxsize=32)
def font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_PATH), size, index=0,
                              layout_engine=ImageFont.Layout.BASIC)


def fit_lines(text: str, fnt: ImageFont.FreeTypeFont, width: int, max_lines: int) -> list[str]:
    """Break text into at most max_lines lines of at most width pixels (CJK: any character may
    start a line); an overflowing last line ends in an ellipsis."""
    text = " ".join(text.split())
    lines: list[str] = []
    current = ""
    for index, char in enumerate(text):
        if fnt.getlength(current + char) <= width:
            current += char
            continue
        lines.append(current)
        current = char
        if len(lines) == max_lines:
            last = lines[-1]
            while last and fnt.getlength(last + "…") > width:
                last = last[:-1]
            lines[-1] = last + "…"
            return lines
    if current:
        lines.append(current)
    return lines


def _centered(draw: ImageDraw.ImageDraw, y: int, text: str, fnt, fill, width: int = W) -> None:
    draw.text(((width - fnt.getlength(text)) / 2, y), text, font=fnt, fill=fill)


# ---------------------------------------------------------------- placeholders

@lru_cache(maxsize=1)
def _placeholder_cover() -> Image.Image:
    img = Image.new("RGB", (W, 560), (252, 228, 214))
    draw = ImageDraw.Draw(img)
    for y in range(0, 560, 4):   # a soft vertical gradient
        shade = 252 - y // 28
        draw.rectangle((0, y, W, y + 4), fill=(shade, 222 - y // 40, 206 - y // 40))
    _centered(draw, 220, "相助", font(96), (230, 110, 90))
    _centered(draw, 350, "每一份帮助都是希望", font(36), (200, 120, 100))
    return img


def default_card_image() -> Image.Image:
    """A square picture for share cards of campaigns without a cover photo."""
    return ImageOps.fit(_placeholder_cover(), (300, 300), Image.Resampling.BILINEAR)


@lru_cache(maxsize=256)
def _letter_avatar(letter: str) -> Image.Image:
    hue = int(hashlib.md5(letter.encode()).hexdigest()[:2], 16)
    img = Image.new("RGB", (AVATAR, AVATAR), (230 - hue // 6, 120 + hue // 4, 90 + hue // 3))
    draw = ImageDraw.Draw(img)
    fnt = font(44)
    draw.text(((AVATAR - fnt.getlength(letter)) / 2, 16), letter, font=fnt, fill=WHITE)
    return img


@lru_cache(maxsize=1)
def _circle_mask() -> Image.Image:
    big = Image.new("L", (AVATAR * 4, AVATAR * 4), 0)
    ImageDraw.Draw(big).ellipse((0, 0, AVATAR * 4 - 1, AVATAR * 4 - 1), fill=255)
    return big.resize((AVATAR, AVATAR), Image.Resampling.LANCZOS)


def prepare_avatar(image: Image.Image | None, name: str) -> Image.Image:
    """A square AVATAR-sized RGB image (the caller may cache it); None → a letter avatar."""
    if image is None:
        return _letter_avatar((name or "爱")[:1])
    return ImageOps.fit(image.convert("RGB"), (AVATAR, AVATAR), Image.Resampling.BILINEAR)


# ---------------------------------------------------------------- QR code

@lru_cache(maxsize=256)
def _qr_modules(data: str) -> Image.Image:
    """One pixel per module (error correction Q, best mask). Cached, and small: a sharer's
    poster is redrawn as progress moves, their link never changes."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_Q, border=2)
    code.add_data(data)
    code.make(fit=True)
    matrix = code.get_matrix()
    size = len(matrix)
    raw = bytes(0 if dark else 255 for row in matrix for dark in row)
    return Image.frombytes("L", (size, size), raw)


def qr_image(data: str, box: int = QR_BOX) -> Image.Image:
    """The QR code as a crisp image of at most box pixels (whole pixels per module)."""
    small = _qr_modules(data)
    scale = max(1, box // small.width)
    return small.resize((small.width * scale, small.height * scale), Image.Resampling.NEAREST)


# ---------------------------------------------------------------- layers

class PosterRenderer:
    """Draws posters; keeps the last few static layers (one per campaign look)."""

    def __init__(self, cache_size: int = STATIC_CACHE_SIZE):
        self.cache_size = cache_size
        self._static: OrderedDict[tuple, Image.Image] = OrderedDict()
        self._lock = threading.Lock()

    def static_layer(self, content: PosterContent, cover: Image.Image | None) -> Image.Image:
        key = content.static_key()
        with self._lock:
            layer = self._static.get(key)
            if layer is not None:
                self._static.move_to_end(key)
                return layer
        draw_static = _static_certificate if content.kind == "certificate" else _static_poster
        layer = draw_static(content, cover)
        with self._lock:
            self._static[key] = layer
            while len(self._static) > self.cache_size:
                self._static.popitem(last=False)
        return layer

    def render(self, content: PosterContent, cover: Image.Image | None,
               avatar: Image.Image | None) -> Image.Image:
        image = self.static_layer(content, cover).copy()
        if content.kind == "certificate":
            _dynamic_certificate(image, content)
        else:
            _dynamic_poster(image, content, prepare_avatar(avatar, content.sharer_name))
        return image

    def render_jpeg(self, content: PosterContent, cover: Image.Image | None,
                    avatar: Image.Image | None) -> bytes:
        return encode_jpeg(self.render(content, cover, avatar))


def encode_jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=JPEG_QUALITY)   # 4:2:0, like any photo
    return out.getvalue()


def _cover(cover: Image.Image | None, size: tuple[int, int]) -> Image.Image:
    if cover is None:
        return ImageOps.fit(_placeholder_cover(), size, Image.Resampling.BILINEAR)
    return ImageOps.fit(cover.convert("RGB"), size, Image.Resampling.LANCZOS,
                        centering=(0.5, 0.4))


TITLE_Y, TITLE_SIZE, TITLE_LINE = 590, 44, 60


def title_boxes(content: PosterContent) -> list[tuple[str, tuple[int, int]]]:
    """Where each title line is drawn on a poster: (text, (x, y)); tests look there."""
    lines = fit_lines(content.title, font(TITLE_SIZE), W - 2 * MARGIN, 2)
    return [(line, (MARGIN, TITLE_Y + i * TITLE_LINE)) for i, line in enumerate(lines)]


def _static_poster(content: PosterContent, cover: Image.Image | None) -> Image.Image:
    image = Image.new("RGB", (W, H), WHITE)
    image.paste(_cover(cover, (W, 560)), (0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((MARGIN - 24, 24, MARGIN + 176, 72), radius=24, fill=(0, 0, 0))
    draw.text((MARGIN - 4, 33), "相助 · 大病筹款", font=font(24), fill=WHITE)
    for line, position in title_boxes(content):
        draw.text(position, line, font=font(TITLE_SIZE), fill=DARK, stroke_width=1,
                  stroke_fill=DARK)
    plea = fit_lines(content.plea, font(28), W - 2 * MARGIN, 1)
    draw.text((MARGIN, 716), plea[0] if plea else "", font=font(28), fill=GREY)
    draw.line((MARGIN, 916, W - MARGIN, 916), fill=LIGHT, width=2)
    qr_y = 1032
    draw.text((MARGIN + QR_BOX + 36, qr_y + 64), "长按识别二维码", font=font(34), fill=DARK)
    draw.text((MARGIN + QR_BOX + 36, qr_y + 116), "查看详情 · 一起帮助 TA", font=font(26),
              fill=GREY)
    draw.text((MARGIN + QR_BOX + 36, qr_y + 160), "转发也是一种帮助", font=font(26), fill=RED)
    draw.rectangle((0, H - 64, W, H), fill=(247, 247, 247))
    _centered(draw, H - 50, FOOTER + " · 平台不收取服务费", font(24), GREY)
    return image


FIGURE_XY, FIGURE_SIZE = (MARGIN + 60, 760), 40


def figure_text(content: PosterContent) -> str:
    """What the poster says was raised, drawn at FIGURE_XY (tests look there)."""
    return f"¥{format_yuan(content.raised_fen)}"


def _dynamic_poster(image: Image.Image, content: PosterContent, avatar: Image.Image) -> None:
    draw = ImageDraw.Draw(image)
    draw.text((MARGIN, 770), "已筹", font=font(26), fill=GREY)
    draw.text(FIGURE_XY, figure_text(content), font=font(FIGURE_SIZE), fill=RED)
    target = f"目标 ¥{format_yuan(content.target_fen)}"
    draw.text((W - MARGIN - font(26).getlength(target), 770), target, font=font(26), fill=GREY)
    bar = (MARGIN, 830, W - MARGIN, 846)
    draw.rounded_rectangle(bar, radius=8, fill=LIGHT)
    filled = bar[0] + (bar[2] - bar[0]) * min(100, max(0, content.percent)) // 100
    if filled > bar[0] + 16:
        draw.rounded_rectangle((bar[0], bar[1], filled, bar[3]), radius=8, fill=RED)
    done = ("已完成不到 1%" if content.percent == 0 and content.raised_fen
            else f"已完成 {content.percent}%")
    draw.text((MARGIN, 862), done, font=font(24), fill=GREY)
    if content.donation_count:
        helps = f"{content.donation_count:,} 次帮助"
        draw.text((W - MARGIN - font(24).getlength(helps), 862), helps, font=font(24), fill=GREY)
    image.paste(avatar, (MARGIN, 940), _circle_mask())
    name = fit_lines(content.sharer_name or "爱心人士", font(32), 300, 1)
    invite = (name[0] if name else "爱心人士") + " 邀请你一起帮助 TA"
    lines = fit_lines(invite, font(32), W - 2 * MARGIN - AVATAR - 24, 1)
    draw.text((MARGIN + AVATAR + 24, 948), lines[0], font=font(32), fill=DARK)
    draw.text((MARGIN + AVATAR + 24, 994), "一次转发，也许就是一次希望", font=font(22), fill=GREY)
    qr = qr_image(content.link)
    offset = (QR_BOX - qr.width) // 2
    image.paste(qr, (MARGIN + offset, 1032 + offset))


def _static_certificate(content: PosterContent, cover: Image.Image | None) -> Image.Image:
    image = Image.new("RGB", (W, H), CREAM)
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, W - 21, H - 21), outline=GOLD, width=4)
    draw.rectangle((34, 34, W - 35, H - 35), outline=GOLD, width=1)
    _centered(draw, 80, "爱心证书", font(76), (200, 51, 43))
    _centered(draw, 180, "CERTIFICATE OF LOVE", font(22), GOLD)
    image.paste(_cover(cover, (W - 2 * 72, 300)), (72, 240))
    for i, line in enumerate(fit_lines(content.title, font(34), W - 2 * 72, 2)):
        _centered(draw, 566 + i * 48, line, font(34), DARK)
    _centered(draw, 1184, "扫码一起帮助 TA", font(26), GREY)
    _centered(draw, H - 78, FOOTER + " · 相助大病筹款", font(22), GREY)
    return image


def _dynamic_certificate(image: Image.Image, content: PosterContent) -> None:
    draw = ImageDraw.Draw(image)
    donor = fit_lines(content.donor_name or "匿名", font(44), 420, 1)
    _centered(draw, 676, f"感谢 {donor[0] if donor else '匿名'}", font(44), DARK)
    _centered(draw, 746, f"为 TA 捐助 ¥{format_yuan(content.amount_fen)}", font(40), RED)
    _centered(draw, 812, "您的善举，让希望延续", font(28), GREY)
    if content.date_text:
        _centered(draw, 856, content.date_text, font(24), GREY)
    qr = qr_image(content.link, 270)
    image.paste(qr, ((W - qr.width) // 2, 902 + (270 - qr.height) // 2))


renderer = PosterRenderer()
