"""The payment provider interface, in the manner of pretix's payment providers.

A provider turns our orders into the channel's orders and the channel's messages into plain
values. It never touches the database: services do, with what a provider returns.

Providers are registered by name (a payment row keeps the name of the one that made it) and
for a configured API: `WECHAT_PAY_API` (v3 or v2) picks the provider new orders go through.
"""
from __future__ import annotations

import abc
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Mapping

from flask import Flask, current_app

from app.core.plugins import registry


class ProviderError(Exception):
    """The channel refused or could not be reached; `message` is safe to show a person."""

    def __init__(self, message: str, code: str = "provider_error"):
        super().__init__(message)
        self.message = message
        self.code = code


class NoticeRejected(Exception):
    """A notice we must not act on. `verdict` is a NoticeVerdict value."""

    def __init__(self, verdict: str, detail: str, out_trade_no: str | None = None):
        super().__init__(detail)
        self.verdict = verdict
        self.detail = detail
        self.out_trade_no = out_trade_no


@dataclass(frozen=True)
class OrderRequest:
    out_trade_no: str
    amount_fen: int
    description: str
    trade_type: str          # JSAPI / NATIVE
    client_ip: str
    notify_url: str
    expires_at: datetime
    openid: str | None = None
    product_id: str | None = None


@dataclass(frozen=True)
class OrderCreated:
    prepay_id: str
    code_url: str | None = None


@dataclass(frozen=True)
class PaymentNoticeData:
    """A verified notice (signature, merchant) that says an order was paid — or was not."""

    out_trade_no: str
    transaction_id: str
    total_fee: int
    success: bool
    openid: str | None = None
    trade_type: str | None = None
    time_end: str | None = None
    raw: dict = field(default_factory=dict)


@dataclass(frozen=True)
class OrderStatus:
    """What the channel says about one of our orders."""

    state: str  # paid / pending / closed / failed / refunded / not_found
    total_fee: int | None = None
    transaction_id: str | None = None
    openid: str | None = None


@dataclass(frozen=True)
class RefundResult:
    refund_id: str
    out_refund_no: str
    refund_fee: int


REFUND_SUCCEEDED, REFUND_FAILED, REFUND_CLOSED = "succeeded", "failed", "closed"
REFUND_PROCESSING = "processing"  # only a query says so: a notice comes once it is over


@dataclass(frozen=True)
class RefundNotice:
    out_refund_no: str
    out_trade_no: str
    refund_id: str
    refund_fee: int
    total_fee: int
    status: str                      # REFUND_SUCCEEDED / REFUND_FAILED / REFUND_CLOSED
    success_time: str | None = None
    raw: dict = field(default_factory=dict)


@dataclass(frozen=True)
class NotificationReply:
    """The HTTP answer to a notice: v2 always 200 with XML; v3 204 empty or 4xx/5xx JSON."""

    status: int
    body: bytes
    content_type: str | None = None


class PaymentProvider(abc.ABC):
    name: str
    notify_path: str           # where the channel sends payment notices (our URL path)
    refund_notify_path: str    # and refund notices

    @abc.abstractmethod
    def create_payment(self, order: OrderRequest) -> OrderCreated: ...

    @abc.abstractmethod
    def parse_notification(self, body: bytes, headers: Mapping[str, str]) -> PaymentNoticeData:
        """Verify and parse; raise NoticeRejected for anything we must not act on."""

    @abc.abstractmethod
    def notification_reply(self, ok: bool, message: str = "") -> NotificationReply:
        """Telling the channel we took the notice — or to resend it."""

    @abc.abstractmethod
    def parse_refund_notice(self, body: bytes, headers: Mapping[str, str]) -> RefundNotice:
        """Verify, decrypt and read a refund notice; NoticeRejected for anything else."""

    @abc.abstractmethod
    def query_refund(self, out_refund_no: str) -> RefundNotice | None:
        """What the channel says of one of our refunds, in the shape of its notice (status
        REFUND_PROCESSING while under way), so the notice's handler can settle a refund whose
        notice never came; None when the channel does not know the refund."""

    @abc.abstractmethod
    def cashier_url(self, prepay_id: str, return_url: str) -> str | None:
        """A page where a developer can pay by hand (the stand-in's cashier), or None."""

    @abc.abstractmethod
    def query(self, out_trade_no: str) -> OrderStatus: ...

    @abc.abstractmethod
    def close(self, out_trade_no: str) -> None: ...

    @abc.abstractmethod
    def refund(self, out_trade_no: str, out_refund_no: str, total_fee: int, refund_fee: int,
               reason: str = "", notify_url: str | None = None) -> RefundResult: ...

    @abc.abstractmethod
    def client_params(self, prepay_id: str) -> dict:
        """What the payer's browser needs to start paying (JSAPI's WeixinJSBridge params)."""


def _factories(app: Flask | None = None) -> dict[str, Callable[[], PaymentProvider]]:
    return registry("payment_providers", dict, app)


def _apis(app: Flask | None = None) -> dict[str, str]:
    return registry("payment_provider_apis", dict, app)


def register_provider(app: Flask, name: str, factory: Callable[[], PaymentProvider],
                      api: str | None = None) -> None:
    """`api`: the WECHAT_PAY_API value for which this provider takes new orders."""
    _factories(app)[name] = factory
    if api is not None:
        _apis(app)[api] = name


def active_provider_name() -> str:
    api = current_app.config.get("WECHAT_PAY_API") or "v3"
    try:
        return _apis()[api]
    except KeyError:
        raise RuntimeError(f"WECHAT_PAY_API={api!r}: no payment provider for it") from None


def get_provider(name: str | None = None) -> PaymentProvider:
    """The provider of that name; without one, the provider new orders go through."""
    return _factories()[name or active_provider_name()]()
