"""Fixtures for the bills tests: finance staff, paid orders at the stand-in, a China day of a
test's own (the stand-in is shared by the whole session, so its orders, refunds and paid
商家转账 of that day are forgotten first), and the stand-in's bill tampering undone after each test."""
from __future__ import annotations

from datetime import date, datetime

import pytest
import requests
import time_machine

from app.auth.models import StaffRole
from tests.clock import CHINA, china_time
from tests.factories import StaffFactory
from tests.payments.helpers import start


@pytest.fixture()
def finance(db):
    return StaffFactory(role=StaffRole.finance, display_name="财务小王")


@pytest.fixture()
def finance_client(app, finance):
    return app.test_client(user=finance)


def at(day: date, hour: int, minute: int = 0, second: int = 0) -> time_machine.travel:
    """The clock (ours and the stand-in's: one process) at that China time, ticking on."""
    moment = china_time(day, hour, minute).replace(second=second)
    return time_machine.travel(moment, tick=True)


def forget_day(standin, day: date) -> None:
    with standin.state.lock:
        for no in [no for no, o in standin.state.orders.items() if o.get("time_end")
                   and datetime.strptime(o["time_end"], "%Y%m%d%H%M%S").date() == day]:
            del standin.state.orders[no]
        for no in [no for no, r in standin.state.refunds.items()
                   if (r.get("success_time") or "").startswith(day.isoformat())]:
            del standin.state.refunds[no]
        transfers = standin.wsgi_app.extensions.get("standin_transfers", {}).get("bills", {})
        for no in [no for no, b in transfers.items()  # update_time is China time, ISO 8601
                   if b["state"] == "SUCCESS" and b["update_time"].startswith(day.isoformat())]:
            del transfers[no]


@pytest.fixture()
def tamper(standin):
    days = []

    def apply(day: date, **what) -> None:
        days.append(day)
        response = requests.post(f"{standin.base_url}standin/v3/bill/{day.isoformat()}/tamper",
                                 json=what, timeout=5)
        assert response.status_code == 200

    yield apply
    for day in days:
        requests.delete(f"{standin.base_url}standin/v3/bill/{day.isoformat()}/tamper", timeout=5)


def untamper(standin, day: date) -> None:
    requests.delete(f"{standin.base_url}standin/v3/bill/{day.isoformat()}/tamper", timeout=5)


def pay(standin, campaign, donor, amount_fen: int):
    """Ordered through APIv3 at the stand-in, paid there, its notice delivered to our live
    server and acknowledged."""
    payment = start(campaign, donor, amount_fen)
    answer = requests.post(f"{standin.base_url}standin/pay/{payment.out_trade_no}/notify",
                           timeout=10).json()
    assert answer["acknowledged"] == [True], answer
    return payment


__all__ = ["CHINA", "at", "forget_day", "pay", "untamper"]
