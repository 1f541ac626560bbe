"""The payment provider interface is sealed: only the wiring knows the WeChat Pay v2 module,
and nothing asks a provider for more than PaymentProvider offers."""
from __future__ import annotations

import inspect
from pathlib import Path

import grimp

from app.payments.provider import PaymentProvider
from app.payments.wechat_pay import WeChatPayProvider

PAYMENTS_DIR = Path(__file__).resolve().parents[2] / "app" / "payments"
WIRING = {"app.payments.wechat_pay", "app.payments"}


def test_only_the_wiring_imports_the_wechat_pay_module():
    graph = grimp.build_graph("app", include_external_packages=False)
    importers = graph.find_modules_that_directly_import("app.payments.wechat_pay")
    assert importers - WIRING == set()


def test_wechat_pay_implements_every_abstract_method():
    assert PaymentProvider.__abstractmethods__
    assert not WeChatPayProvider.__abstractmethods__
    for name in PaymentProvider.__abstractmethods__:
        assert getattr(WeChatPayProvider, name) is not getattr(PaymentProvider, name), name
        assert (inspect.signature(getattr(WeChatPayProvider, name)).parameters.keys()
                == inspect.signature(getattr(PaymentProvider, name)).parameters.keys()), name


def test_no_provider_call_outside_the_interface_is_silenced():
    silenced = [f"{path.name}:{number}"
                for path in sorted(PAYMENTS_DIR.glob("*.py"))
                for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                if "type: ignore" in line]
    assert silenced == []
