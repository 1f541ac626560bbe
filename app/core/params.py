"""What arrives from outside, bounded before it reaches the database: row ids (in paths, query
strings and form fields), page numbers, and text. A value no column can hold is a 404 (an id in
a path) or a 400 with a Chinese message, never a database error.

Every route declares its ids as `<id:name>`; create_app registers the converter and the check
on text (register_request_inputs).
"""
from __future__ import annotations

from flask import Flask, request
from werkzeug.datastructures import MultiDict
from werkzeug.routing import IntegerConverter, Map

from app.core.errors import InvalidParameter

# PostgreSQL `integer`, the narrowest id column in migrations/ (a few are bigint).
DB_ID_MAX = 2**31 - 1
MAX_PAGE = 10_000
_MAX_DIGITS = 18  # far below int()'s 4300-digit limit; every bound here is shorter


def _decimal_up_to(limit: int) -> str:
    """A regex for the integers 1..limit in decimal without leading zeros: a value past the
    limit must fail the rule's regex itself, since werkzeug answers 405 rather than 404 when
    the regex matches and only the converter refuses while another method's rule shares the
    path."""
    digits = str(limit)
    options = [f"[1-9][0-9]{{0,{len(digits) - 2}}}"] if len(digits) > 1 else []
    for i, digit in enumerate(digits):  # the limit's first i digits, then a smaller digit
        lowest = 1 if i == 0 else 0
        if int(digit) > lowest:
            rest = len(digits) - i - 1
            options.append(f"{digits[:i]}[{lowest}-{int(digit) - 1}][0-9]{{{rest}}}")
    options.append(digits)
    return "(?:" + "|".join(options) + ")"


class IdConverter(IntegerConverter):
    """`<id:campaign_id>`: 1 to DB_ID_MAX, anything else is no route (404)."""

    regex = _decimal_up_to(DB_ID_MAX)

    def __init__(self, map: Map) -> None:
        super().__init__(map, min=1, max=DB_ID_MAX)


def register_request_inputs(app: Flask) -> None:
    """Before any blueprint: rules look their converters up when they are added."""
    app.url_map.converters["id"] = IdConverter
    app.before_request(refuse_nul_characters)


def refuse_nul_characters() -> None:
    """No text of ours may hold U+0000 and PostgreSQL text cannot store it: a NUL anywhere in the
    path, the query string or the form fields is refused before any view reads it."""
    texts = [request.path, *_keys_and_values(request.args)]
    if request.method == "POST" and request.mimetype in ("application/x-www-form-urlencoded",
                                                         "multipart/form-data"):
        texts += _keys_and_values(request.form)
    if any("\x00" in text for text in texts):
        raise InvalidParameter("text", "提交的内容含有无效字符")


def _keys_and_values(source: MultiDict) -> list[str]:
    return [text for pair in source.items(multi=True) for text in pair]


def bounded_int(text: str | None, minimum: int, maximum: int) -> int | None:
    """The integer `text` spells in ASCII digits if it lies in [minimum, maximum], else None."""
    text = (text or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > _MAX_DIGITS:
        return None
    value = int(text)
    return value if minimum <= value <= maximum else None


def id_arg(source: MultiDict, name: str, label: str = "编号") -> int | None:
    """An id from a query string or a form: None when absent or empty; InvalidParameter (400)
    when it is not an id any row can have. `label` names it in the message (e.g. 筹款编号)."""
    raw = source.get(name, "")
    if not raw.strip():
        return None
    value = bounded_int(raw, 1, DB_ID_MAX)
    if value is None:
        raise InvalidParameter(name, f"{label}有误，请检查后重试")
    return value


def page_arg(source: MultiDict, name: str = "page") -> int:
    """The page number asked for: 1 when absent; InvalidParameter (400) unless it is an integer
    from 1 to MAX_PAGE. A page past the last one is simply empty."""
    raw = source.get(name, "")
    if not raw.strip():
        return 1
    value = bounded_int(raw, 1, MAX_PAGE)
    if value is None:
        raise InvalidParameter(name, f"页码须为 1 至 {MAX_PAGE:,} 的整数")
    return value


def page_arg_or_first(source: MultiDict, name: str = "page") -> int:
    """For pages people follow links to: a page number that cannot be shows the first page."""
    try:
        return page_arg(source, name)
    except InvalidParameter:
        return 1
