"""The payout provider: how money leaves custody — the custodian's transfer to a payee.

No bank or custodian is reachable from here, so the embedded default and the tests use the
stand-in custodian (app/payouts/standin_custodian.py). A real one implements the same two calls:

- `transfer(request)` is idempotent by `request.transfer_id`: asking twice moves money once and
  answers the same; it raises PayoutUnavailable when the outcome is unknown (timeout, no answer),
  in which case the caller must not assume anything and asks `query` later (reconciliation).
- `query(transfer_id)` says what happened to a transfer, or None if the custodian never saw it.

Like the payment provider, it never touches our database: services do, with what it returns.
"""
from __future__ import annotations

import abc
import logging
from dataclasses import dataclass
from typing import Callable

from flask import Flask, current_app

from app.core.plugins import registry

log = logging.getLogger(__name__)


class PayoutUnavailable(Exception):
    """The custodian could not be reached or did not answer: the outcome is unknown."""


@dataclass(frozen=True)
class TransferRequest:
    transfer_id: str        # ours, unique, ≤ 32 characters; the idempotency key
    amount_fen: int
    payee_kind: str         # hospital / patient / family / wechat_user
    account_name: str
    account_number: str     # a bank account, or an openid for wechat_user
    bank_name: str
    memo: str


@dataclass(frozen=True)
class TransferResult:
    transfer_id: str
    state: str              # succeeded / failed / processing
    amount_fen: int
    custodian_ref: str = ""
    message: str = ""


class PayoutProvider(abc.ABC):
    name: str

    @abc.abstractmethod
    def transfer(self, request: TransferRequest) -> TransferResult: ...

    @abc.abstractmethod
    def query(self, transfer_id: str) -> TransferResult | None: ...


def _factories(app: Flask | None = None) -> dict[str, Callable[[], PayoutProvider]]:
    return registry("payout_providers", dict, app)


def register_payout_provider(app: Flask, name: str,
                             factory: Callable[[], PayoutProvider]) -> None:
    _factories(app)[name] = factory


def get_payout_provider() -> PayoutProvider:
    name = current_app.config.get("PAYOUT_PROVIDER", "standin")
    if name == "standin":
        if not (current_app.config.get("TESTING") or current_app.config.get("EMBEDDED")):
            log.warning("payouts go to the stand-in custodian: no real custodian is configured")
    return _factories()[name]()
