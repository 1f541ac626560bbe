"""The payment provider interface, in the manner of pretix's payment providers.

A provider turns our orders into the channel's orders and the channel's messages into plain
values. It never touches the database: services do, with what a provider returns.
"""
from __future__ import annotations

import abc
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from flask import Flask

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


@dataclass(frozen=True)
class RefundNotice:
    out_refund_no: str
    out_trade_no: str
    refund_id: str
    refund_fee: int
    total_fee: int
    status: str                      # SUCCESS / CHANGE / REFUNDCLOSE
    success_time: str | None = None
    raw: dict = field(default_factory=dict)


class PaymentProvider(abc.ABC):
    name: str

    @abc.abstractmethod
    def create_payment(self, order: OrderRequest) -> OrderCreated: ...

    @abc.abstractmethod
    def parse_notification(self, body: bytes) -> PaymentNoticeData:
        """Verify and parse; raise NoticeRejected for anything we must not act on."""

    @abc.abstractmethod
    def notification_reply(self, ok: bool, message: str = "") -> tuple[bytes, str]:
        """(body, content type) telling the channel we took the notice — or to resend it."""

    @abc.abstractmethod
    def parse_refund_notice(self, body: bytes) -> RefundNotice:
        """Verify, decrypt and read a refund notice; NoticeRejected for anything else."""

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


def register_provider(app: Flask, name: str, factory: Callable[[], PaymentProvider]) -> None:
    _factories(app)[name] = factory


def get_provider(name: str = "wechat") -> PaymentProvider:
    return _factories()[name]()
