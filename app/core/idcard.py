"""Chinese resident ID numbers (居民身份证号码, GB 11643-1999): 18 characters.

    6 digits   administrative region (the first two: a province-level code)
    8 digits   birth date YYYYMMDD
    3 digits   sequence (odd for men, even for women)
    1 char     check character: ISO 7064 MOD 11-2 over the first 17 digits, "X" standing for 10

Pure functions, no Flask: the mutual-aid plan and the verification console both use them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
PATTERN = re.compile(r"^\d{17}[\dX]$")
# Province-level codes of GB/T 2260 (71 Taiwan, 81 Hong Kong, 82 Macao, 83 Taiwan residents'
# permits issued on the mainland).
PROVINCES = frozenset({
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46,
    50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83})
EARLIEST_BIRTH = date(1900, 1, 1)


class IdCardError(ValueError):
    """Not a valid ID number; the message can be shown to the person who typed it."""


@dataclass(frozen=True)
class IdCard:
    number: str
    birth_date: date
    male: bool
    region: str

    @property
    def sex_label(self) -> str:
        return "男" if self.male else "女"

    def age_on(self, day: date) -> int:
        return age_on(self.birth_date, day)

    @property
    def masked(self) -> str:
        return mask(self.number)


def normalize(text: str | None) -> str:
    """Strip spaces and full-width characters people type; a lower-case x becomes X."""
    text = (text or "").strip().replace(" ", "").replace("\u3000", "")
    text = text.translate({ord(c): ord(c) - 0xFEE0 for c in "０１２３４５６７８９ｘＸ"})
    return text.upper()


def check_char(first17: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(first17, WEIGHTS))
    return CHECK_CHARS[total % 11]


def parse(text: str | None, today: date | None = None) -> IdCard:
    """Validate and decode an ID number, or raise IdCardError."""
    number = normalize(text)
    if len(number) != 18:
        raise IdCardError("身份证号码应为 18 位")
    if not PATTERN.match(number):
        raise IdCardError("身份证号码格式不正确（前 17 位为数字，最后一位为数字或 X）")
    if int(number[:2]) not in PROVINCES:
        raise IdCardError("身份证号码的地区码不正确")
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise IdCardError("身份证号码中的出生日期不正确") from None
    if born < EARLIEST_BIRTH or born > (today or date.today()):
        raise IdCardError("身份证号码中的出生日期不正确")
    if check_char(number[:17]) != number[17]:
        raise IdCardError("身份证号码校验位不正确，请核对后重新输入")
    return IdCard(number=number, birth_date=born, male=int(number[16]) % 2 == 1,
                  region=number[:6])


def is_valid(text: str | None, today: date | None = None) -> bool:
    try:
        parse(text, today)
    except IdCardError:
        return False
    return True


def age_on(birth: date, day: date) -> int:
    """Full years lived on `day` (a 29 February birthday counts on 1 March in common years)."""
    years = day.year - birth.year
    if (day.month, day.day) < (birth.month, birth.day):
        years -= 1
    return years


def age_in_days(birth: date, day: date) -> int:
    return (day - birth).days


def mask(number: str | None) -> str:
    """110101199003077777 → 1101**********7777; anything else is masked whole."""
    number = normalize(number)
    if len(number) != 18:
        return "*" * 18
    return number[:4] + "*" * 10 + number[-4:]


def make_number(region: str, birth: date, sequence: int) -> str:
    """A checksum-valid number (for tests, the demo and the benchmark)."""
    first17 = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return first17 + check_char(first17)
