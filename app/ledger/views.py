"""Public ledger pages (资金公示): every entry of a campaign's custodial account.

The ledger knows no feature; the feature that owns an account tells it how to introduce the
account to the public (title, link back) — or that it is not public.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from flask import Blueprint, abort, render_template, request

from app.core.params import id_arg
from app.core.replica import reads_from_replica
from app.ledger.services import balance, campaign_custody, entries

bp = Blueprint("ledger", __name__)
PAGE_SIZE = 50


@dataclass(frozen=True)
class AccountPage:
    title: str
    back_url: str
    back_label: str


Describer = Callable[[int], AccountPage | None]
_campaign_describer: list[Describer] = []


def describe_campaign_accounts(describer: Describer) -> None:
    """The campaigns side registers how to introduce a campaign's account (None: not public)."""
    _campaign_describer[:] = [describer]


@bp.get("/c/<id:campaign_id>/ledger")
@reads_from_replica
def campaign_ledger(campaign_id: int):
    page = _campaign_describer[0](campaign_id) if _campaign_describer else None
    if page is None:
        abort(404)
    before = id_arg(request.args, "before", "翻页位置")
    code = campaign_custody(campaign_id)
    rows = entries(code, before_id=before, limit=PAGE_SIZE + 1)
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return render_template("ledger/account.html", page=page, rows=rows,
                           balance_fen=balance(code), campaign_id=campaign_id,
                           next_before=rows[-1].id if more else None, paged=before is not None)
