"""The campaign page's data in one round trip: every feature that shows something on the page
registers a part — labelled columns (a scalar subquery, or a list of rows as JSON) of one
SELECT — and the page runs that one statement before it renders.

Without this the page cost ~20 statements (each feature's template helper querying on its own:
badges, attestations twice, updates and their photos, the donor list twice, pledges twice and
their instalments, withdrawals, payees, receipts, three ledger totals). Now it is the campaign
with its photos, then this statement, whatever the campaign's size: every list is bounded
(LIMIT) and every figure a cached total or a sum over a few rows.

A part's `columns()` returns {label: column}, written against the bound parameters CAMPAIGN_ID
and ORGANIZER_ID; `rows_of(select, *order_by)` makes one column of a select's rows;
`decode(values)` turns what came back into what the feature's template helper returns
(`decode_rows` gives a RowList's rows as dicts of Python values, typed by the select's columns). The
helpers read it with `prefetched(campaign_id, name)` and fall back to their own queries on other
pages. Read-only; kept for the one request (in its WSGI environ: the tests' app context, and so
flask.g, outlives a request).
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import Flask, has_request_context, request
from sqlalchemy import JSON, Boolean, Date, DateTime, bindparam, func, literal_column, select
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement

from app.core.plugins import registry
from app.extensions import db
from app.models_base import as_utc

MISSING = object()
ENVIRON_KEY = "xiangzhu.campaign_page_parts"
ROW_NUMBER = "_row_number"
CAMPAIGN_ID = bindparam("campaign_id")
ORGANIZER_ID = bindparam("organizer_id")


@dataclass(frozen=True)
class Part:
    name: str
    columns: Callable[[], dict[str, Any]]     # label → column or RowList
    decode: Callable[[dict[str, Any]], Any]


def register_part(app: Flask, part: Part) -> None:
    registry("campaign_page_parts", list, app).append(part)


@dataclass(frozen=True)
class RowList:
    """A select's rows as one JSON column: what `decode_rows` needs to type them again."""
    select: Select

    def column(self, dialect: str) -> ColumnElement:
        inner = self.select.subquery()
        pairs = []
        for column in inner.c:
            pairs += [literal_column(f"'{column.key}'"), column]
        if dialect == "postgresql":
            rows = func.coalesce(func.json_agg(func.json_build_object(*pairs)),
                                 literal_column("'[]'::json"))
        else:
            rows = func.coalesce(func.json_group_array(func.json_object(*pairs)),
                                 literal_column("'[]'"))
        return select(rows).select_from(inner).scalar_subquery()


def rows_of(stmt: Select, *order_by) -> RowList:
    """`stmt`'s rows (newest first, or however `order_by` says) as one column of the page's
    statement. Bound the select with a LIMIT: the page must not grow with the campaign."""
    numbered = stmt.add_columns(func.row_number().over(order_by=order_by).label(ROW_NUMBER))
    return RowList(numbered.order_by(*order_by))


def decode_rows(value: Any, rows: RowList) -> list[dict[str, Any]]:
    """The JSON a RowList column came back as → its rows as dicts, typed by their columns."""
    if value is None:
        return []
    items = json.loads(value) if isinstance(value, (str, bytes)) else value
    types = {column.key: column.type for column in rows.select.selected_columns}
    dialect = db.engine.dialect
    decoded = [{key: _typed(raw, types.get(key), dialect) for key, raw in item.items()}
               for item in items]
    decoded.sort(key=lambda row: row[ROW_NUMBER])
    return decoded


def _typed(raw: Any, type_, dialect) -> Any:
    if raw is None or type_ is None:
        return raw
    impl = getattr(type_, "impl_instance", type_)
    if isinstance(impl, DateTime):
        return as_utc(datetime.fromisoformat(raw.replace("Z", "+00:00")))
    if isinstance(impl, Date):
        return date.fromisoformat(raw[:10])
    if isinstance(impl, Boolean):
        return bool(raw)
    if isinstance(impl, JSON):
        return json.loads(raw) if isinstance(raw, str) else raw
    processor = type_.result_processor(dialect, None)
    return processor(raw) if processor is not None else raw


def transient(model, row: dict[str, Any], **related):
    """A model instance from a decoded row (never added to the session: read-only, for the
    templates' properties), with `related` objects set on it."""
    names = {attr.key for attr in db.inspect(model).column_attrs}
    made = model(**{k: v for k, v in row.items() if k in names})
    for key, value in related.items():   # as if loaded: no history, nothing to flush
        set_committed_value(made, key, value)
    return made


_statements: dict[tuple, tuple[Select, list[tuple[Part, list[str]]]]] = {}


def _statement(dialect: str) -> tuple[Select, list[tuple[Part, list[str]]]]:
    """Built once per process and set of parts (SQLAlchemy then caches its compiled form)."""
    parts = registry("campaign_page_parts", list)
    key = (dialect, tuple(part.name for part in parts))
    built = _statements.get(key)
    if built is None:
        columns, layout = [], []
        for part in parts:
            labels = []
            for label, column in part.columns().items():
                if isinstance(column, RowList):
                    column = column.column(dialect)
                name = f"{part.name}__{label}"
                columns.append(column.label(name))
                labels.append(label)
            layout.append((part, labels))
        built = _statements[key] = (select(*columns), layout)
    return built


def load(campaign) -> None:
    """Run the page's statement for this campaign once in this request."""
    loaded = request.environ.setdefault(ENVIRON_KEY, {})
    if campaign.id in loaded or not registry("campaign_page_parts", list):
        return
    stmt, layout = _statement(db.engine.dialect.name)
    row = (db.session.connection(bind_arguments={"clause": stmt})
           .execute(stmt, {"campaign_id": campaign.id, "organizer_id": campaign.organizer_id})
           .one()._mapping)
    loaded[campaign.id] = {part.name: part.decode({label: row[f"{part.name}__{label}"]
                                                   for label in labels})
                           for part, labels in layout}


def prefetched(campaign_id: int, name: str) -> Any:
    """What `load` read for this part, or MISSING (another page, or not loaded)."""
    if not has_request_context():
        return MISSING
    return request.environ.get(ENVIRON_KEY, {}).get(campaign_id, {}).get(name, MISSING)
