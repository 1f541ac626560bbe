"""The payout provider: how money leaves custody — the custodian's transfer to a payee.

No bank or custodian is reachable from here, so the embedded default and the tests use the
stand-in custodian (app/payouts/standin_custodian.py). A real one implements the same two calls:

- `transfer(request)` is idempotent by `request.transfer_id`: asking twice moves money once and
  answers the same; it raises PayoutUnavailable when the outcome is unknown (timeout, no answer),
  in which case the caller must not assume anything and asks `query` later (reconciliation).
- `query(transfer_id)` says what happened to a transfer, or None if the custodian never saw it.
- `cancel(transfer_id)` withdraws a transfer the payee has not yet received, where the channel
  allows it (WeChat's 商家转账 before the recipient confirms); a custodian's is final.

A transfer to a person's WeChat (WeChatTransferProvider, app/payouts/wechat_transfer.py) waits
for the recipient to confirm on WeChat's own page: its state is "waiting_user" and it carries
the `package_info` that page needs.

Like the payment provider, it never touches our database: services do, with what it returns.
"""
from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Callable

from flask import Flask, current_app

from app.core.plugins import registry


class PayoutUnavailable(Exception):
    """The custodian could not be reached or did not answer: the outcome is unknown."""


class TransferNoticeRejected(Exception):
    """A transfer notice that must change nothing (forged, stale, for another merchant)."""

    def __init__(self, verdict: str, detail: str):
        super().__init__(f"{verdict}: {detail}")
        self.verdict, self.detail = verdict, detail


@dataclass(frozen=True)
class TransferRequest:
    transfer_id: str        # ours, unique, ≤ 32 characters; the idempotency key
    amount_fen: int
    payee_kind: str         # hospital / patient / family / wechat_user
    account_name: str
    account_number: str     # a bank account, or an openid for wechat_user
    bank_name: str
    memo: str
    branch_code: str = ""   # 联行号 of the payee's branch, where the bank file needs it


@dataclass(frozen=True)
class TransferResult:
    transfer_id: str
    state: str              # succeeded / failed / processing / waiting_user
    amount_fen: int
    custodian_ref: str = ""
    message: str = ""
    package_info: str = ""  # waiting_user: what wx.requestMerchantTransfer is given
    wechat_state: str = ""  # the channel's own word for it (WAIT_USER_CONFIRM, FAIL, …)
    fail_reason: str = ""


class PayoutProvider(abc.ABC):
    name: str

    @abc.abstractmethod
    def transfer(self, request: TransferRequest) -> TransferResult: ...

    @abc.abstractmethod
    def query(self, transfer_id: str) -> TransferResult | None: ...

    def cancel(self, transfer_id: str) -> TransferResult | None:
        """A custodian's transfer cannot be withdrawn: this says where it stands."""
        return self.query(transfer_id)


def _factories(app: Flask | None = None) -> dict[str, Callable[[], PayoutProvider]]:
    return registry("payout_providers", dict, app)


def register_payout_provider(app: Flask, name: str,
                             factory: Callable[[], PayoutProvider]) -> None:
    _factories(app)[name] = factory


def get_payout_provider(name: str | None = None) -> PayoutProvider:
    """The configured custodian, or the provider registered under `name`."""
    name = name or current_app.config.get("PAYOUT_PROVIDER", "bank_batch")
    if name == "standin" and not (current_app.config.get("TESTING")
                                  or current_app.config.get("EMBEDDED")):
        raise RuntimeError("the stand-in custodian moves no money: production refuses it")
    return _factories()[name]()
