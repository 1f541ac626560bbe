"""Reconciling against WeChat Pay's own bills (交易账单, 资金账单), not against ourselves.

Every day the trade bill and the fund-flow bill of the previous China day are downloaded
through the APIv3 client and held line by line against the ledger: every payment and refund of
the trade bill and every 商家转账 the fund-flow bill shows paid out has exactly one ledger
transaction with the same amount and fee (the bill's fee is the truth), and every ledger
posting that claims WeChat has its line. Differences are stored as findings for finance;
nothing is ever corrected automatically.

Plugs in: the finance page (/staff/finance/bills), the bill check behind
`flask ledger verify --against-bills`, the ledger accounts that claim WeChat (payments'
clearing, payouts' refund clearing and 商家转账 out; ledger_side.register_bill_account for
more), its audit labels and its periodic job (reconcile_bills)."""
from flask import Flask

BILLS_AUDIT_LABELS = {"bills.rerun": "重新核对微信账单"}


def register(app: Flask) -> None:
    from app.bills.ledger_side import DEFAULT_ACCOUNTS, register_bill_account
    from app.bills.services import bill_check
    from app.bills.staff_views import bp
    from app.bills.tasks import PERIODIC_JOBS
    from app.core.plugins import (register_audit_labels, register_audit_words,
                                  register_periodic_jobs)
    from app.ledger.verify import register_bill_check

    app.register_blueprint(bp)
    for account in DEFAULT_ACCOUNTS:
        register_bill_account(app, account)
    register_bill_check(app, bill_check)
    register_audit_labels(app, BILLS_AUDIT_LABELS)
    register_audit_words(app, targets={"bill_day": "微信账单日"},
                         fields={"bill_date": "账单日期", "findings": "待核对项"})
    register_periodic_jobs(app, *PERIODIC_JOBS)
