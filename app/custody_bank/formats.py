"""Bank file formats as data: each bank's batch (批量代付), result (回单) and statement (对账单)
layout is a JSON file in app/custody_bank/formats/ — encoding, delimiter, date and amount
formats, header and footer lines with {placeholders}, the column order of the detail lines and
the bank's own codes for a line's outcome or direction. Adding a bank is adding a file.

The checksum in a batch's footer is the first 32 hex digits (upper case) of the SHA-256 of the
detail lines exactly as written (encoded, joined by CRLF), so the bank and we can each check
that the file finance uploads is the file we wrote.
"""
from __future__ import annotations

import csv
import functools
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

FORMATS_DIR = Path(__file__).parent / "formats"
NEWLINE = "\r\n"
FIELDS = {"ref", "name", "account", "bank", "branch", "amount", "purpose", "seq", "status",
          "bank_ref", "message", "date", "serial", "direction", "counterparty",
          "counter_account", "memo"}
PLACEHOLDER = re.compile(r"\{(\w+)\}")


class FormatError(ValueError):
    """A file that is not in the format it claims: the message says where, in Chinese."""


@dataclass(frozen=True)
class Section:
    header: tuple[str, ...]
    columns: tuple[str, ...]
    footer: tuple[str, ...]
    codes: dict[str, str] = field(default_factory=dict)  # the bank's word → ours


@dataclass(frozen=True)
class ParsedFile:
    fields: dict[str, str]                 # what the header and footer lines said
    rows: list[tuple[int, dict[str, str]]]  # (line number, cells by column name)
    body: list[str]                         # the detail lines as they were


@dataclass(frozen=True)
class FileFormat:
    name: str
    title: str
    encoding: str
    delimiter: str
    date_format: str
    amount: str                             # "yuan" (123.45) or "fen" (12345)
    batch: Section
    result: Section
    statement: Section

    # --- amounts --------------------------------------------------------------------------

    def amount_text(self, fen: int) -> str:
        if self.amount == "fen":
            return str(int(fen))
        yuan, cents = divmod(int(fen), 100)
        return f"{yuan}.{cents:02d}"

    def parse_amount(self, text: str) -> int:
        text = text.strip()
        if self.amount == "fen":
            if not text.isdigit():
                raise FormatError(f"金额“{text}”不是以分为单位的整数")
            return int(text)
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise FormatError(f"金额“{text}”不是数字") from None
        if value.as_tuple().exponent != -2 or value < 0:
            raise FormatError(f"金额“{text}”须为两位小数的元")
        return int(value * 100)

    # --- writing --------------------------------------------------------------------------

    def cell(self, value: object) -> str:
        """A value as one cell: no delimiter, quote or line break can split or forge a line."""
        text = str(value)
        for bad in (self.delimiter, '"', "\r", "\n", "\t"):
            text = text.replace(bad, " ")
        return text.strip()

    def write(self, section: Section, fields: dict[str, object],
              rows: list[dict[str, object]]) -> bytes:
        body = [self.delimiter.join(self.cell(row.get(column, "")) for column in section.columns)
                for row in rows]
        values = {key: self.cell(value) for key, value in fields.items()}
        values["checksum"] = self.checksum(body)
        lines = ([template.format(**values) for template in section.header] + body
                 + [template.format(**values) for template in section.footer])
        try:
            return (NEWLINE.join(lines) + NEWLINE).encode(self.encoding)
        except UnicodeEncodeError as error:
            raise FormatError(f"“{error.object[error.start:error.end]}”无法用 {self.encoding} "
                              "编码写入银行文件") from None

    def checksum(self, body: list[str]) -> str:
        data = NEWLINE.join(body).encode(self.encoding, errors="replace")
        return hashlib.sha256(data).hexdigest()[:32].upper()

    # --- reading --------------------------------------------------------------------------

    def read(self, section: Section, data: bytes) -> ParsedFile:
        encoding = "utf-8-sig" if self.encoding.lower().replace("-", "") == "utf8" else self.encoding
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            raise FormatError(f"文件不是 {self.encoding} 编码（{self.title}）") from None
        lines = [line for line in text.splitlines() if line.strip()]
        heads, feet = len(section.header), len(section.footer)
        if len(lines) < heads + feet:
            raise FormatError("文件不完整：缺少表头或合计行")
        fields: dict[str, str] = {}
        for number, (template, line) in enumerate(zip(section.header, lines), start=1):
            fields.update(self._match(template, line, number))
        tail = lines[len(lines) - feet:] if feet else []
        for offset, (template, line) in enumerate(zip(section.footer, tail)):
            fields.update(self._match(template, line, len(lines) - feet + offset + 1))
        body = lines[heads:len(lines) - feet]
        rows = []
        for number, cells in enumerate(csv.reader(io.StringIO("\n".join(body)),
                                                  delimiter=self.delimiter), start=heads + 1):
            if len(cells) != len(section.columns):
                raise FormatError(f"第 {number} 行应有 {len(section.columns)} 列，实有 "
                                  f"{len(cells)} 列")
            rows.append((number, dict(zip(section.columns, (c.strip() for c in cells)))))
        return ParsedFile(fields, rows, body)

    def _match(self, template: str, line: str, number: int) -> dict[str, str]:
        pattern, last = "", 0
        for found in PLACEHOLDER.finditer(template):
            pattern += re.escape(template[last:found.start()])
            pattern += f"(?P<{found.group(1)}>[^{re.escape(self.delimiter)}]*)"
            last = found.end()
        pattern += re.escape(template[last:])
        matched = re.fullmatch(pattern, line.strip())
        if matched is None:
            raise FormatError(f"第 {number} 行应为“{template}”，实为“{line.strip()[:60]}”")
        return {key: value.strip() for key, value in matched.groupdict().items()}


def _section(data: dict, codes_key: str | None = None) -> Section:
    columns = tuple(data["columns"])
    unknown = set(columns) - FIELDS
    if unknown:
        raise ValueError(f"unknown columns {sorted(unknown)}")
    return Section(tuple(data.get("header", ())), columns, tuple(data.get("footer", ())),
                   dict(data.get(codes_key, {})) if codes_key else {})


@functools.cache
def formats() -> dict[str, FileFormat]:
    found = {}
    for path in sorted(FORMATS_DIR.glob("*.json")):
        data = json.loads(path.read_text("utf-8"))
        found[data["name"]] = FileFormat(
            name=data["name"], title=data["title"], encoding=data["encoding"],
            delimiter=data["delimiter"], date_format=data["date_format"], amount=data["amount"],
            batch=_section(data["batch"]), result=_section(data["result"], "status"),
            statement=_section(data["statement"], "direction"))
    return found


def get_format(name: str) -> FileFormat:
    try:
        return formats()[name]
    except KeyError:
        raise FormatError(f"没有名为 {name} 的银行文件格式") from None
