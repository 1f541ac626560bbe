"""Money out and promises kept: withdrawals (提现) through a payout provider, fund disclosure
(资金公示), refunds after termination, and 诺言 pledges with the pay-it-forward fund.

`register(app)` adds the public and finance blueprints and, by importing them, the payable
(pledge repayments), the refund-notice handler and the `ledger verify` checks. The termination
hook is appended in app/campaigns/moderation.py; the periodic jobs are in tasks.PERIODIC_JOBS.
"""
from flask import Flask

ACTION_LABELS = {
    "withdrawal.approve": "批准提现",
    "withdrawal.reject": "驳回提现",
    "payout_document.approve": "收据公示通过",
    "payout_document.reject": "收据退回",
    "refund.plan": "发起终止退款",
    "refund.retry": "重新发起退款",
}


def register(app: Flask) -> None:
    from app.payouts import models, pledge_models, standin_custodian  # noqa: F401  (tables)
    from app.payouts import pledges, refunds, verify  # noqa: F401  (payable, handler, checks)
    from app.payouts.staff_views import bp as staff_bp
    from app.payouts.views import bp as public_bp
    from app.review.audit import ACTION_LABELS as audit_labels

    audit_labels.update(ACTION_LABELS)
    app.register_blueprint(public_bp)
    app.register_blueprint(staff_bp)
