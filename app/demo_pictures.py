"""Pictures of the demo, drawn with Pillow from fixed seeds, so the demo ships no stock photo
and the same pictures come out on every machine (README, "Licences of bundled data"): the live
campaign's cover — 小雨's crayon drawing of her family, their home and a rainbow, pinned to a
wall and photographed —, avatars for the demo's people, and sheets standing in for bills.
"""
from __future__ import annotations

import io
import math
import random

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

from app.config import BASE_DIR

FONT_PATH = BASE_DIR / "static" / "fonts" / "wqy-microhei.ttc"
W, H = 1200, 800
PAPER = (250, 244, 228)
CRAYON = {"red": (222, 72, 62), "orange": (245, 150, 50), "yellow": (250, 205, 60),
          "green": (96, 170, 80), "blue": (70, 130, 210), "purple": (150, 100, 190),
          "brown": (140, 90, 60), "pink": (240, 130, 160), "skin": (246, 196, 160),
          "black": (60, 52, 48)}


class Crayon:
    """Strokes that wobble and leave gaps, like wax on paper."""

    def __init__(self, image: Image.Image, rng: random.Random):
        self.image, self.draw, self.rng = image, ImageDraw.Draw(image), rng

    def line(self, points, colour, width=7, passes=3):
        for _ in range(passes):
            wobbly = [(x + self.rng.uniform(-2.5, 2.5), y + self.rng.uniform(-2.5, 2.5))
                      for x, y in points]
            shade = tuple(max(0, min(255, c + self.rng.randint(-18, 12))) for c in colour)
            self.draw.line(wobbly, fill=shade, width=max(2, width + self.rng.randint(-2, 1)),
                           joint="curve")

    def ring(self, box, colour, width=7, start=0, end=360):
        x0, y0, x1, y1 = box
        cx, cy, rx, ry = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2
        steps = max(12, int((end - start) / 6))
        points = [(cx + rx * math.cos(math.radians(start + (end - start) * i / steps)),
                   cy + ry * math.sin(math.radians(start + (end - start) * i / steps)))
                  for i in range(steps + 1)]
        self.line(points, colour, width)

    def fill(self, polygon, colour, spacing=9, angle=0.6):
        """Scribbled fill: back-and-forth strokes clipped to the polygon."""
        mask = Image.new("L", (W, H), 0)
        ImageDraw.Draw(mask).polygon(polygon, fill=255)
        layer = Image.new("RGBA", (W, H), (0, 0, 0, 0))
        scribble = ImageDraw.Draw(layer)
        xs, ys = [p[0] for p in polygon], [p[1] for p in polygon]
        top, bottom = min(ys) - 40, max(ys) + 40
        y = top
        while y < bottom:
            shade = tuple(max(0, min(255, c + self.rng.randint(-20, 14))) for c in colour)
            scribble.line([(min(xs) - 40, y), (max(xs) + 40, y + (max(xs) - min(xs)) * angle)],
                          fill=shade + (215,), width=self.rng.randint(5, 8))
            y += spacing + self.rng.uniform(-3, 3)
        layer.putalpha(ImageChops.multiply(layer.getchannel("A"), mask))
        self.image.paste(layer, (0, 0), layer)


def _oval(box, steps: int = 36) -> list[tuple[float, float]]:
    x0, y0, x1, y1 = box
    cx, cy, rx, ry = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2
    return [(cx + rx * math.cos(2 * math.pi * i / steps), cy + ry * math.sin(2 * math.pi * i / steps))
            for i in range(steps)]


def _paper(rng: random.Random) -> Image.Image:
    grain = (Image.frombytes("L", (W, H), rng.randbytes(W * H))
             .point(lambda v: 116 + v * 24 // 255).filter(ImageFilter.GaussianBlur(0.6)))
    return ImageChops.overlay(Image.new("RGB", (W, H), PAPER), Image.merge("RGB", [grain] * 3))


def _person(pen: Crayon, x: int, ground: int, height: int, shirt, hair, girl=False):
    head = height * 0.22
    top = ground - height
    pen.fill(_oval((x - head * 0.55, top, x + head * 0.55, top + head)), CRAYON["skin"],
             spacing=6)
    pen.ring((x - head * 0.55, top, x + head * 0.55, top + head), CRAYON["brown"], 5)
    pen.ring((x - head * 0.6, top - head * 0.1, x + head * 0.6, top + head * 0.6), hair, 9,
             190, 350)
    if girl:   # pigtails
        pen.ring((x - head * 1.0, top + head * 0.2, x - head * 0.5, top + head * 0.6), hair, 8)
        pen.ring((x + head * 0.5, top + head * 0.2, x + head * 1.0, top + head * 0.6), hair, 8)
    pen.line([(x - head * 0.2, top + head * 0.42), (x - head * 0.18, top + head * 0.46)],
             CRAYON["black"], 6, 1)
    pen.line([(x + head * 0.2, top + head * 0.42), (x + head * 0.22, top + head * 0.46)],
             CRAYON["black"], 6, 1)
    pen.ring((x - head * 0.25, top + head * 0.45, x + head * 0.25, top + head * 0.8),
             CRAYON["red"], 4, 20, 160)
    neck, hip = top + head, ground - height * 0.32
    if girl:
        body = [(x, neck), (x + height * 0.2, hip + height * 0.05),
                (x - height * 0.2, hip + height * 0.05)]
    else:
        body = [(x - height * 0.12, neck + 4), (x + height * 0.12, neck + 4),
                (x + height * 0.12, hip), (x - height * 0.12, hip)]
    pen.fill(body, shirt, spacing=7)
    pen.line(body + [body[0]], shirt, 5, 2)
    pen.line([(x - height * 0.06, hip), (x - height * 0.1, ground)], CRAYON["black"], 6, 2)
    pen.line([(x + height * 0.06, hip), (x + height * 0.1, ground)], CRAYON["black"], 6, 2)
    shoulder = neck + height * 0.1
    return (x - height * 0.12, shoulder), (x + height * 0.12, shoulder)


def _flower(pen: Crayon, x: int, y: int, colour, rng: random.Random):
    pen.line([(x, y), (x + rng.randint(-6, 6), y + 60)], CRAYON["green"], 6, 2)
    for k in range(5):
        angle = math.radians(k * 72 + rng.randint(-10, 10))
        px, py = x + 16 * math.cos(angle), y + 16 * math.sin(angle)
        pen.ring((px - 11, py - 11, px + 11, py + 11), colour, 6)
    pen.ring((x - 6, y - 6, x + 6, y + 6), CRAYON["yellow"], 6)


def _writing(image: Image.Image, text: str, x: int, y: int, rng: random.Random):
    """A child's letters: each one its own size and tilt."""
    font = ImageFont.truetype(str(FONT_PATH), 46)
    for char in text:
        size = 62 + rng.randint(-6, 10)
        tile = Image.new("RGBA", (size, size), (0, 0, 0, 0))
        ImageDraw.Draw(tile).text((6, 2), char, font=font, fill=CRAYON["purple"] + (235,),
                                  stroke_width=1, stroke_fill=CRAYON["purple"] + (200,))
        tile = tile.rotate(rng.uniform(-12, 12), resample=Image.Resampling.BICUBIC)
        image.paste(tile, (x, y + rng.randint(-6, 6)), tile)
        x += 48 + rng.randint(-3, 5)


def drawing(seed: int = 6) -> Image.Image:
    rng = random.Random(seed)
    image = _paper(rng)
    pen = Crayon(image, rng)
    # the sun, with crooked rays
    pen.fill(_oval((95, 70, 215, 190)), CRAYON["yellow"], spacing=7)
    pen.ring((95, 70, 215, 190), CRAYON["orange"], 8)
    for k in range(11):
        angle = math.radians(k * 33 + rng.randint(-6, 6))
        pen.line([(155 + 75 * math.cos(angle), 130 + 75 * math.sin(angle)),
                  (155 + 118 * math.cos(angle), 130 + 118 * math.sin(angle))],
                 CRAYON["orange"], 7, 2)
    # the rainbow over everything
    for i, name in enumerate(("red", "orange", "yellow", "green", "blue", "purple")):
        r = 430 - i * 24
        pen.ring((660 - r, 470 - r, 660 + r, 470 + r), CRAYON[name], 14, 196, 344)
    # grass
    pen.fill([(0, 640), (W, 620), (W, H), (0, H)], CRAYON["green"], spacing=8, angle=-0.05)
    for gx in range(10, W, 26):
        pen.line([(gx, 640), (gx + rng.randint(-8, 8), 612)], CRAYON["green"], 5, 1)
    # the home
    pen.fill([(860, 450), (1090, 450), (1090, 640), (860, 640)], CRAYON["yellow"], spacing=9)
    pen.line([(860, 450), (1090, 450), (1090, 640), (860, 640), (860, 450)], CRAYON["brown"], 7)
    pen.fill([(835, 455), (975, 330), (1115, 455)], CRAYON["red"], spacing=8)
    pen.line([(835, 455), (975, 330), (1115, 455)], CRAYON["red"], 8)
    pen.fill([(950, 550), (1000, 550), (1000, 640), (950, 640)], CRAYON["brown"], spacing=6)
    pen.fill([(885, 485), (935, 485), (935, 530), (885, 530)], CRAYON["blue"], spacing=6)
    pen.line([(910, 485), (910, 530)], CRAYON["brown"], 4, 1)
    pen.line([(885, 507), (935, 507)], CRAYON["brown"], 4, 1)
    # mum, 小雨, dad — holding hands
    mum = _person(pen, 390, 650, 300, CRAYON["pink"], CRAYON["black"])
    girl = _person(pen, 520, 655, 200, CRAYON["orange"], CRAYON["black"], girl=True)
    dad = _person(pen, 650, 650, 320, CRAYON["blue"], CRAYON["black"])
    pen.line([mum[1], (girl[0][0] - 10, girl[0][1] + 10)], CRAYON["skin"], 7, 2)
    pen.line([(girl[1][0] + 10, girl[1][1] + 10), dad[0]], CRAYON["skin"], 7, 2)
    pen.line([mum[0], (mum[0][0] - 50, mum[0][1] + 70)], CRAYON["skin"], 7, 2)
    pen.line([dad[1], (dad[1][0] + 50, dad[1][1] + 70)], CRAYON["skin"], 7, 2)
    # flowers and hearts
    for fx, colour in ((90, "red"), (170, "purple"), (250, "pink"), (760, "red"),
                       (1140, "purple")):
        _flower(pen, fx, 600 + rng.randint(-10, 10), CRAYON[colour], rng)
    for hx, hy in ((300, 250), (760, 230), (540, 330)):
        pen.fill([(hx, hy + 18), (hx - 26, hy - 6), (hx - 14, hy - 22), (hx, hy - 10),
                  (hx + 14, hy - 22), (hx + 26, hy - 6)], CRAYON["red"], spacing=5)
    _writing(image, "我想上学", 930, 48, rng)
    return _photographed(image)


def _photographed(art: Image.Image) -> Image.Image:
    """The sheet pinned slightly askew on a warm wall, soft light from the window."""
    wall = Image.new("RGB", (W, H), (214, 186, 156))
    sheet = art.resize((int(W * 0.9), int(H * 0.9)), Image.Resampling.LANCZOS)
    shadow = Image.new("L", (sheet.width + 40, sheet.height + 40), 0)
    ImageDraw.Draw(shadow).rectangle((20, 20, sheet.width + 20, sheet.height + 20), fill=120)
    shadow = shadow.filter(ImageFilter.GaussianBlur(12)).rotate(-1.6, expand=True)
    sheet = sheet.convert("RGBA").rotate(-1.6, expand=True, resample=Image.Resampling.BICUBIC)
    x, y = (W - sheet.width) // 2, (H - sheet.height) // 2
    wall.paste((120, 96, 72), (x + 8, y + 12), shadow)
    wall.paste(sheet, (x, y), sheet)
    tape = Image.new("RGBA", (150, 44), (255, 250, 225, 150)).rotate(
        4, expand=True, resample=Image.Resampling.BICUBIC)
    wall.paste(tape, (W // 2 - 75, y - 14), tape)
    # light falling from the upper left, darker at the corners
    light = Image.radial_gradient("L").resize((W * 2, H * 2)).crop(
        (W // 2, H // 2, W // 2 + W, H // 2 + H))
    light = light.point(lambda v: 255 - v * 0.45)
    warm = Image.new("RGB", (W, H), (255, 226, 190))
    lit = ImageChops.multiply(wall, Image.merge("RGB", [light] * 3))
    return Image.blend(lit, ImageChops.multiply(lit, warm), 0.25)


def cover_jpeg() -> bytes:
    out = io.BytesIO()
    drawing().save(out, "JPEG", quality=90)
    return out.getvalue()


AVATAR_MOTIFS = ("flower", "sun", "mountain", "heart", "moon", "leaf")


def avatar_jpeg(seed: int) -> bytes:
    """A small picture such as people choose for their WeChat avatar: a soft background and a
    motif (no face: these people are made up)."""
    rng = random.Random(seed)
    size = 264
    hue = [(250, 214, 196), (204, 226, 246), (214, 238, 214), (246, 226, 246),
           (250, 238, 200), (220, 214, 246)][seed % 6]
    image = Image.new("RGB", (size, size), hue)
    draw = ImageDraw.Draw(image)
    for y in range(0, size, 4):
        draw.rectangle((0, y, size, y + 4), fill=tuple(max(0, c - y // 12) for c in hue))
    motif = AVATAR_MOTIFS[seed % len(AVATAR_MOTIFS)]
    accent = tuple(rng.randint(150, 235) for _ in range(2)) + (rng.randint(60, 140),)
    if motif == "flower":
        for k in range(6):
            angle = math.radians(k * 60)
            cx, cy = 132 + 46 * math.cos(angle), 132 + 46 * math.sin(angle)
            draw.ellipse((cx - 34, cy - 34, cx + 34, cy + 34), fill=(240, 140, 150))
        draw.ellipse((104, 104, 160, 160), fill=(250, 210, 90))
    elif motif == "sun":
        draw.ellipse((72, 72, 192, 192), fill=(250, 180, 70))
        for k in range(12):
            angle = math.radians(k * 30)
            draw.line((132 + 70 * math.cos(angle), 132 + 70 * math.sin(angle),
                       132 + 104 * math.cos(angle), 132 + 104 * math.sin(angle)),
                      fill=(250, 160, 60), width=10)
    elif motif == "mountain":
        draw.ellipse((160, 50, 220, 110), fill=(255, 240, 200))
        draw.polygon([(0, 230), (90, 110), (170, 230)], fill=(90, 130, 170))
        draw.polygon([(90, 230), (190, 90), (264, 200), (264, 264), (90, 264)],
                     fill=(60, 100, 140))
        draw.rectangle((0, 230, size, size), fill=(70, 110, 150))
    elif motif == "heart":
        draw.ellipse((58, 70, 138, 150), fill=(230, 80, 90))
        draw.ellipse((126, 70, 206, 150), fill=(230, 80, 90))
        draw.polygon([(62, 126), (202, 126), (132, 214)], fill=(230, 80, 90))
    elif motif == "moon":
        image.paste((60, 70, 120), (0, 0, size, size))
        draw.ellipse((70, 60, 190, 180), fill=(250, 230, 160))
        draw.ellipse((100, 44, 220, 164), fill=(60, 70, 120))
        for _ in range(14):
            x, y = rng.randint(10, 250), rng.randint(10, 250)
            draw.ellipse((x, y, x + 4, y + 4), fill=(250, 240, 200))
    else:
        draw.ellipse((60, 40, 200, 230), fill=(110, 170, 100))
        draw.line((130, 60, 130, 240), fill=(70, 120, 60), width=8)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88)
    return out.getvalue()


def paper_jpeg(title: str) -> bytes:
    """A photographed sheet standing in for a bill, a receipt or a diary page, marked 示例."""
    image = Image.new("RGB", (900, 1200), (252, 251, 246))
    draw = ImageDraw.Draw(image)
    heading = ImageFont.truetype(str(FONT_PATH), 44)
    small = ImageFont.truetype(str(FONT_PATH), 30)
    draw.rectangle((60, 60, 840, 160), outline=(70, 70, 70), width=3)
    draw.text((90, 84), title, font=heading, fill=(50, 50, 50))
    for y in range(230, 1000, 56):
        draw.line((90, y, 810, y), fill=(205, 205, 205), width=2)
    draw.ellipse((580, 900, 800, 1120), outline=(205, 50, 50), width=8)
    draw.text((640, 990), "示例", font=small, fill=(205, 50, 50))
    draw.text((90, 1080), "演示数据 · 非真实票据", font=small, fill=(150, 150, 150))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()
