"""The donor's 捐款凭证 and statement as files: CSV (UTF-8 with BOM, so Excel reads the Chinese)
and PDF pages drawn with Pillow in the bundled WenQuanYi font."""
from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont
from qrcode.constants import ERROR_CORRECT_M

from app.core.templating import local_time
from app.donations.ledger_receipt import LedgerReceipt
from app.donations.mine import NOT_A_CHARITABLE_GIFT, MyDonation
from app.models_base import format_yuan

FONT_PATH = Path(__file__).resolve().parents[2] / "static" / "fonts" / "wqy-microhei.ttc"
PAGE_W, PAGE_H = 1240, 1754        # A4 at 150 dpi
DPI = 150.0
MARGIN = 90
ROWS_PER_PAGE = 30
DARK, GREY, RED = (40, 40, 40), (120, 120, 120), (200, 70, 60)
QR_SIZE = 300
CSV_HEADER = ("捐款时间", "筹款项目", "捐款金额（元）", "支付渠道费（元）", "状态", "祝福",
              "商户订单号")


def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_PATH), size, index=0)


def _clip(text: str, fnt: ImageFont.FreeTypeFont, width: int) -> str:
    if fnt.getlength(text) <= width:
        return text
    while text and fnt.getlength(text + "…") > width:
        text = text[:-1]
    return text + "…"


def _page() -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("RGB", (PAGE_W, PAGE_H), "white")
    return image, ImageDraw.Draw(image)


def _pdf(pages: list[Image.Image]) -> bytes:
    out = io.BytesIO()
    pages[0].save(out, "PDF", resolution=DPI, save_all=True, append_images=pages[1:])
    return out.getvalue()


def _notice(draw: ImageDraw.ImageDraw, y: int) -> None:
    draw.text((MARGIN, y), NOT_A_CHARITABLE_GIFT, font=_font(26), fill=RED)


def certificate_lines(donation: MyDonation, donor: str) -> list[tuple[str, str]]:
    lines = [("捐款人", donor), ("筹款项目", donation.campaign_title),
             ("捐款金额", f"¥{format_yuan(donation.amount_fen)}"),
             ("其中支付渠道费", f"¥{format_yuan(donation.channel_fee_fen)}"),
             ("捐款时间", local_time(donation.paid_at, "%Y-%m-%d %H:%M:%S")),
             ("商户订单号", donation.out_trade_no), ("状态", donation.status)]
    if donation.blessing:
        lines.append(("祝福", donation.blessing))
    return lines


def _qr(data: str, size: int) -> Image.Image:
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=2)
    code.add_data(data)
    code.make(fit=True)
    matrix = code.get_matrix()
    modules = Image.frombytes("L", (len(matrix), len(matrix)),
                              bytes(0 if dark else 255 for row in matrix for dark in row))
    whole = size // len(matrix) * len(matrix)   # whole pixels per module, so it scans crisply
    return modules.resize((whole, whole), Image.NEAREST).convert("RGB")


def _wrapped(text: str, fnt: ImageFont.FreeTypeFont, width: int) -> list[str]:
    lines, line = [], ""
    for char in text:
        if line and fnt.getlength(line + char) > width:
            lines.append(line)
            line = ""
        line += char
    return lines + [line] if line else lines


def _ledger_receipt(image: Image.Image, draw: ImageDraw.ImageDraw, y: int,
                    receipt: LedgerReceipt) -> None:
    draw.line((MARGIN, y, PAGE_W - MARGIN, y), fill=(225, 222, 215), width=2)
    y += 30
    draw.text((MARGIN, y), "公开账本凭证", font=_font(36), fill=DARK)
    y += 64
    text_font, small = _font(26), _font(22)
    if receipt.pending:
        draw.text((MARGIN, y), "正在记入公开账本（约 1 分钟），稍后重新下载本凭证即可看到账本位置。",
                  font=text_font, fill=GREY)
        return
    text_w = PAGE_W - 2 * MARGIN - QR_SIZE - 30
    qr_bottom = y + QR_SIZE + 40
    image.paste(_qr(receipt.verify_url, QR_SIZE), (PAGE_W - MARGIN - QR_SIZE, y))
    draw.text((PAGE_W - MARGIN - QR_SIZE + 60, y + QR_SIZE + 6), "扫码在浏览器中核验",
              font=small, fill=GREY)
    rows = [("账本位置", f"第 {receipt.position} 条（索引 {receipt.leaf_index}）"),
            ("商户订单号", receipt.out_trade_no), ("凭证密钥", receipt.salt),
            ("记入时检查点", f"账本共 {receipt.tree_size} 条，根 {receipt.root_hash}")]
    for label, value in rows:
        draw.text((MARGIN, y), label, font=small, fill=GREY)
        y += 32
        for part in _wrapped(value, text_font, text_w):
            draw.text((MARGIN, y), part, font=text_font, fill=DARK)
            y += 34
        y += 10
    y = max(y, qr_bottom) + 10
    draw.text((MARGIN, y), "核验链接：", font=small, fill=GREY)
    y += 30
    for part in _wrapped(receipt.verify_url, small, PAGE_W - 2 * MARGIN):
        draw.text((MARGIN, y), part, font=small, fill=DARK)
        y += 28


def certificate_pdf(donation: MyDonation, donor: str, receipt: LedgerReceipt) -> bytes:
    image, draw = _page()
    draw.text((MARGIN, 120), "捐款凭证", font=_font(64), fill=DARK)
    draw.text((MARGIN, 210), f"凭证编号 D{donation.id:08d}", font=_font(28), fill=GREY)
    y = 300
    label_font, value_font = _font(30), _font(32)
    for label, value in certificate_lines(donation, donor):
        draw.text((MARGIN, y), label, font=label_font, fill=GREY)
        draw.text((MARGIN + 260, y), _clip(value, value_font, PAGE_W - 2 * MARGIN - 260),
                  font=value_font, fill=DARK)
        y += 70
    _notice(draw, y + 40)
    _ledger_receipt(image, draw, y + 120, receipt)
    draw.text((MARGIN, PAGE_H - 120), "相助 · 大病筹款 · 本凭证仅证明上述款项已支付",
              font=_font(24), fill=GREY)
    return _pdf([image])


def statement_csv(donations: list[MyDonation], donor: str, first: date, last: date) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([f"{donor} 的捐款明细", f"{first.isoformat()} 至 {last.isoformat()}"])
    writer.writerow(CSV_HEADER)
    for d in donations:
        writer.writerow([local_time(d.paid_at, "%Y-%m-%d %H:%M:%S"), d.campaign_title,
                         format_yuan(d.amount_fen).replace(",", ""),
                         format_yuan(d.channel_fee_fen).replace(",", ""), d.status, d.blessing,
                         d.out_trade_no])
    writer.writerow(["合计", f"{len(donations)} 笔",
                     format_yuan(sum(d.amount_fen for d in donations)).replace(",", ""),
                     format_yuan(sum(d.channel_fee_fen for d in donations)).replace(",", ""),
                     f"已退回 {format_yuan(sum(d.refunded_fen for d in donations))}", "", ""])
    writer.writerow([NOT_A_CHARITABLE_GIFT])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def statement_pages(count: int) -> int:
    return max(1, -(-count // ROWS_PER_PAGE))


def statement_pdf(donations: list[MyDonation], donor: str, first: date, last: date) -> bytes:
    pages = []
    total = statement_pages(len(donations))
    row_font, head_font = _font(22), _font(26)
    columns = (MARGIN, MARGIN + 225, MARGIN + 545, MARGIN + 655)
    for number in range(total):
        image, draw = _page()
        draw.text((MARGIN, 80), "捐款明细", font=_font(48), fill=DARK)
        draw.text((MARGIN, 150), f"捐款人 {donor} · {first.isoformat()} 至 {last.isoformat()}",
                  font=_font(28), fill=GREY)
        y = 230
        for x, title in zip(columns, ("捐款时间", "筹款项目", "金额", "状态")):
            draw.text((x, y), title, font=head_font, fill=GREY)
        y += 50
        for d in donations[number * ROWS_PER_PAGE:(number + 1) * ROWS_PER_PAGE]:
            cells = (local_time(d.paid_at), d.campaign_title, format_yuan(d.amount_fen), d.status)
            widths = (225, 320, 110, PAGE_W - MARGIN - columns[3])
            for x, text, width in zip(columns, cells, widths):
                draw.text((x, y), _clip(text, row_font, width - 10), font=row_font, fill=DARK)
            y += 42
        if number == total - 1:
            y += 20
            draw.text((MARGIN, y), f"合计 {len(donations)} 笔 · "
                      f"¥{format_yuan(sum(d.amount_fen for d in donations))} · 其中已退回 "
                      f"¥{format_yuan(sum(d.refunded_fen for d in donations))}",
                      font=head_font, fill=DARK)
            _notice(draw, y + 60)
        draw.text((MARGIN, PAGE_H - 90), f"第 {number + 1} / {total} 页", font=_font(22),
                  fill=GREY)
        pages.append(image)
    return _pdf(pages)
