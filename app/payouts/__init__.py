"""Money out: withdrawals (提现) through a payout provider, payout documents (receipts, the
leftover statement), refunds after termination and the fund disclosure (资金公示).

Plugs in: its public and finance blueprints, `flask payouts`, the stand-in custodian, the
refund-notice handler, WeChat's 商家转账 to people (the `wechat_transfer` provider, 我的 · 领取
and its notice view, a `ledger verify` check, reconciled with money out, its recipients told by
WeChat template message), its `ledger verify` checks, the refunds that follow a termination, its
audit labels, its periodic job (reconcile_money_out) and each donation's refund on the donor's
我的捐款 (donations' register_refund_source), and its part of 我的筹款 (申请提现, withdrawals,
receipts to upload, the leftover statement). It offers other features three plugs
of its own: register_leftover_receiver (refunds), register_grant_source (disclosure) and
register_reconciler (tasks); pledges uses them, and payouts imports no pledges module."""
from flask import Flask

PAYOUTS_AUDIT_LABELS = {
    "withdrawal.approve": "审核通过提现",
    "withdrawal.countersign": "财务复核提现",
    "withdrawal.release": "财务放款",
    "withdrawal.reject": "驳回提现",
    "payout_document.approve": "收据公示通过",
    "payout_document.reject": "收据退回",
    "refund.plan": "发起终止退款",
    "refund.retry": "重新发起退款",
}


def register(app: Flask) -> None:
    from app.campaigns.moderation import register_termination_hook
    from app.campaigns.dashboard import register_dashboard_source
    from app.campaigns.page_data import register_part
    from app.payouts import disclosure
    from app.payouts import dashboard as payouts_dashboard
    from app.core.enums import labels_of
    from app.core.plugins import (register_audit_labels, register_audit_words,
                                  register_periodic_jobs)
    from app.donations.refund_status import register_refund_source
    from app.ledger.verify import register_check
    from app.payments.refunds import register_refund_handler
    from app.payouts import refunds
    from app.payouts.commands import payouts_cli
    from app.payouts.models import DocKind, DocStatus, RefundStatus, WithdrawalStatus
    from app.payouts.donor_refunds import refunds_by_donation
    from app.payouts.hooks import enqueue_refunds
    from app.payouts.provider import register_payout_provider
    from app.payouts.staff_views import bp as staff_bp
    from app.payouts.standin_custodian import StandinCustodian
    from app.payouts.tasks import PERIODIC_JOBS
    from app.payouts.transfer_views import bp as transfers_bp
    from app.payouts.wechat_transfer import WeChatTransferProvider
    from app.payouts.verify import payouts_problems
    from app.payouts.views import bp as public_bp
    from app.payouts.transfers import MESSAGE_TEMPLATES
    from app.wechat.messages import register_message_template

    app.register_blueprint(public_bp)
    register_part(app, disclosure.page_part())   # 资金公示 in the campaign page's statement
    app.register_blueprint(staff_bp)
    app.register_blueprint(transfers_bp)
    app.cli.add_command(payouts_cli)
    register_payout_provider(app, "standin", StandinCustodian)
    register_payout_provider(app, WeChatTransferProvider.name, WeChatTransferProvider)
    register_refund_handler(app, refunds.PREFIX, refunds.on_refund_notice)
    register_check(app, "payouts", payouts_problems)
    register_check(app, "channel_fee_returns", refunds.channel_fee_return_problems)
    register_termination_hook(app, enqueue_refunds)
    register_refund_source(app, refunds_by_donation)
    register_dashboard_source(app, payouts_dashboard.dashboard_items)  # 我的筹款: money out
    register_audit_labels(app, PAYOUTS_AUDIT_LABELS)
    register_audit_words(
        app, targets={"withdrawal": "提现", "payout_document": "提现票据", "donation_refund": "退款"},
        fields={"amount_fen": "金额", "refunds": "退款笔数", "cancelled_withdrawals": "取消的提现",
                "transfer_id": "转账单号"},
        values={"withdrawal.status": labels_of(WithdrawalStatus),
                "payout_document.status": labels_of(DocStatus),
                "payout_document.kind": labels_of(DocKind),
                "donation_refund.status": labels_of(RefundStatus)})
    register_periodic_jobs(app, *PERIODIC_JOBS)
    for template in MESSAGE_TEMPLATES:
        register_message_template(app, template)
