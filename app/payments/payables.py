"""What a payment pays for. Each feature registers a handler per payable type in its
`register(app)` (donations, mutual-aid shares and top-ups, pledge repayments), so payments
imports nothing from them.
"""
from __future__ import annotations

import abc
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from flask import Flask
from sqlalchemy import Table, update

from app.core.plugins import registry
from app.extensions import db


@dataclass(frozen=True)
class PaidPayment:
    id: int
    out_trade_no: str
    transaction_id: str
    payable_id: int
    amount_fen: int
    paid_at: datetime


@dataclass(frozen=True)
class PaidOutcome:
    """What the handler did inside the confirming transaction."""

    account: str                      # ledger account credited with the money
    memo: str                         # public memo of the ledger transaction
    late: bool = False                # the payable no longer took money; recorded and flagged
    after_commit: Callable[[], None] | None = None  # follow-ups that must never undo the payment


@dataclass(frozen=True)
class PayableDescription:
    """How the order page names what is paid for, and the way back to change the amount."""

    title: str
    back_url: str
    back_label: str = "修改金额"


class PayableHandler(abc.ABC):
    type: str
    # Who bears the channel's fee (app/payments/fees.py): by default the account credited with
    # the payment (a donation reaches its campaign less WeChat's fee, as the donate page says).
    # A payable whose whole amount is owed to someone (a mutual-aid share, a refundable wallet
    # top-up, a pledge repayment) sets this: the platform pays the fee from its own money,
    # since WeChat Pay does not let merchants charge payers a surcharge.
    platform_bears_channel_fee: bool = False

    # The payable's table, when it keeps the id of its payment in a `payment_id` column.
    payable_table: Table | None = None

    def on_created(self, payable_id: int, payment_id: int) -> None:
        """The payment row exists (same transaction as the payable): by default the payable
        remembers it (payable_table.payment_id)."""
        if self.payable_table is not None:
            table = self.payable_table
            db.session.connection().execute(
                update(table).where(table.c.id == payable_id).values(payment_id=payment_id))

    @abc.abstractmethod
    def on_paid(self, payment: PaidPayment) -> PaidOutcome:
        """Inside the confirming transaction, under the payment's row lock: record the payable
        as paid and update any cached totals. Must not commit."""

    @abc.abstractmethod
    def success_url(self, payable_id: int) -> str:
        """Where the payer goes once paid (the thank-you page)."""

    def describe(self, payable_id: int) -> PayableDescription | None:
        """What the order page names (None: the order's own description)."""
        return None


def _handlers(app: Flask | None = None) -> dict[str, PayableHandler]:
    return registry("payables", dict, app)


def register_payable(app: Flask, handler: PayableHandler) -> None:
    _handlers(app)[handler.type] = handler


def payable_handler(payable_type: str) -> PayableHandler:
    try:
        return _handlers()[payable_type]
    except KeyError:
        raise LookupError(f"no payable handler registered for {payable_type!r}") from None
