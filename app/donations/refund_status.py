"""What a donor's own pages say of a donation's refund. Refunds belong to payouts, which builds
on donations, so payouts plugs its answer in here (register_refund_source) instead of being
imported."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import NamedTuple

from flask import Flask

from app.core.plugins import registry


class RefundView(NamedTuple):
    amount_fen: int      # what goes back to the donor
    status_label: str    # 待退款, 退款处理中, 已退回…
    settled: bool        # the money is back with the donor


RefundSource = Callable[[list[int]], dict[int, RefundView]]


def register_refund_source(app: Flask, source: RefundSource) -> None:
    registry("donation_refund_sources", list, app).append(source)


def refunds_of(donation_ids: Iterable[int]) -> dict[int, RefundView]:
    ids = list(donation_ids)
    found: dict[int, RefundView] = {}
    if not ids:
        return found
    for source in registry("donation_refund_sources", list):
        found.update(source(ids))
    return found
