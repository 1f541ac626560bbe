"""Personal data typed into free text (stories, updates, blessings, attestations, reports):
mainland ID numbers (checksum as app.core.idcard validates), mobile numbers, bank card
numbers (Luhn) and e-mail addresses.

`find(text)` tells the writer what was found; `mask(text)` is what every public page and
API response shows. Stored text is never rewritten: masking happens on output.
Pure functions, no Flask.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from app.core import idcard


class PiiKind(Enum):
    id_number = "身份证号码"
    mobile = "手机号码"
    bank_card = "银行卡号"
    email = "电子邮箱"

    @property
    def label(self) -> str:
        return self.value


@dataclass(frozen=True)
class Hit:
    kind: PiiKind
    start: int
    end: int
    text: str


# Fixed-width checks come first: an ID number's 18 digits may also pass Luhn, and a mobile
# number with +86 would otherwise read as 13 digits.
_ID = re.compile(r"(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z])")
_MOBILE = re.compile(
    r"(?<![\d+])(?:(?:\+|00)?86[\s-]?)?(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})(?!\d)")
# Either one run of digits or groups of four, as cards are printed; never two unrelated
# numbers joined by a space (an amount next to a date).
_CARD = re.compile(r"(?<![\d-])(?:\d{13,19}|\d{4}(?:[ -]\d{4}){2,3}(?:[ -]\d{1,3})?)(?![\d-])")
_EMAIL = re.compile(r"(?<![\w.+-])([A-Za-z0-9][\w.+-]*)@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
                    r"\.[A-Za-z]{2,})", re.ASCII)


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _candidates(text: str):
    for match in _ID.finditer(text):
        if idcard.is_valid(match.group()):
            yield PiiKind.id_number, match
    for match in _MOBILE.finditer(text):
        yield PiiKind.mobile, match
    for match in _CARD.finditer(text):
        digits = _digits(match.group())
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            yield PiiKind.bank_card, match
    for match in _EMAIL.finditer(text):
        yield PiiKind.email, match


def find(text: str | None) -> list[Hit]:
    """Every piece of personal data in `text`, in order; overlapping hits keep the first kind
    checked (ID, mobile, card, e-mail)."""
    if not text:
        return []
    hits: list[Hit] = []
    for kind, match in _candidates(text):
        start, end = match.span()
        if any(start < hit.end and hit.start < end for hit in hits):
            continue
        hits.append(Hit(kind, start, end, match.group()))
    return sorted(hits, key=lambda hit: hit.start)


def kinds(text: str | None) -> list[PiiKind]:
    """The kinds found, each once, in the order they appear."""
    seen: list[PiiKind] = []
    for hit in find(text):
        if hit.kind not in seen:
            seen.append(hit.kind)
    return seen


def warning(text: str | None, editable: bool = True) -> str | None:
    """The message for the writer, or None when nothing was found. `editable=False` for what
    cannot be changed once sent (a claim, an objection): no offer to edit it."""
    found = kinds(text)
    if not found:
        return None
    names = "、".join(kind.label for kind in found)
    if not editable:
        return f"内容中含有{names}，公开页面已自动隐藏"
    return f"内容中含有{names}，公开页面将自动隐藏；如需修改请返回编辑"


def mask_hit(hit: Hit) -> str:
    if hit.kind is PiiKind.id_number:
        return hit.text[:3] + "*" * 11 + hit.text[-4:]
    if hit.kind is PiiKind.mobile:
        digits = _digits(hit.text)[-11:]
        return digits[:3] + "****" + digits[-4:]
    if hit.kind is PiiKind.bank_card:
        return "**** **** **** " + _digits(hit.text)[-4:]
    local, _, domain = hit.text.partition("@")
    return local[0] + "***@" + domain


def mask(text: str | None) -> str:
    """The text with every hit masked, keeping a hint: 138****5678, 110***********1234,
    **** **** **** 1234, a***@example.com."""
    if not text:
        return text or ""
    parts: list[str] = []
    position = 0
    for hit in find(text):
        parts.append(text[position:hit.start])
        parts.append(mask_hit(hit))
        position = hit.end
    parts.append(text[position:])
    return "".join(parts)
