"""Payments: provider interface, WeChat Pay providers, payment state machine, notify views.

Plugs in: its blueprint (cashier pages, notify), the WeChat Pay providers (APIv3 `wechat_v3` and
v2 `wechat`; WECHAT_PAY_API picks the one new orders use), its `ledger verify`
checks and the reconciliation of orders whose notice never came. Features register what is
paid (payables.register_payable) and refund-notice handlers (refunds.register_refund_handler)."""
from flask import Flask


def register(app: Flask) -> None:
    from app.core.plugins import register_periodic_jobs
    from app.ledger.verify import register_check
    from app.payments.provider import register_provider
    from app.payments.tasks import PERIODIC_JOBS
    from app.payments.verify import channel_fee_problems, payment_problems
    from app.payments.views import bp
    from app.payments.wechat_pay import WeChatPayProvider
    from app.payments.wechat_pay_v3 import WeChatPayV3Provider

    app.register_blueprint(bp)
    register_provider(app, WeChatPayV3Provider.name, WeChatPayV3Provider, api="v3")
    register_provider(app, WeChatPayProvider.name, WeChatPayProvider, api="v2")
    register_check(app, "payments", payment_problems)
    register_check(app, "channel_fees", channel_fee_problems)
    register_periodic_jobs(app, *PERIODIC_JOBS)
