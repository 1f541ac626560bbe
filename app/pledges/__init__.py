"""诺言 pledges: a recipient's promise to give back after their campaign ends, repaid by WeChat
Pay on a schedule, distributed exactly to the donors or forward into the pay-it-forward fund
(诺言基金), reminded before each due date, kept or broken in public.

Built on payouts (registered after it): the payout provider sends donors their shares, and
payouts' refunds and disclosure take what pledges lend them. Plugs in: its blueprint (the pledge
and fund pages, and the badge and link helpers of the campaign and withdrawal pages),
`flask pledges`, the `pledge_repayment` payable, its `ledger verify` check, the fund as the
receiver of what a terminated campaign holds beyond its donations, the fund's grants in a
campaign's disclosure, donors' shares as a purpose of payouts' WeChat transfers (商家转账), its part of payouts' money-out reconciliation, its periodic jobs
(reminders and broken pledges, the fund's daily grants) and 许下诺言 on 我的筹款."""
from flask import Flask


def register(app: Flask) -> None:
    from app.campaigns.dashboard import register_dashboard_source
    from app.campaigns.page_data import register_part
    from app.core.plugins import register_periodic_jobs
    from app.pledges import dashboard as pledges_dashboard
    from app.ledger.verify import register_check
    from app.payments.payables import register_payable
    from app.payouts.disclosure import register_grant_source
    from app.payouts.refunds import register_leftover_receiver
    from app.payouts.tasks import register_reconciler
    from app.payouts.transfers import TransferPurpose, register_transfer_purpose
    from app.pledges import distribution
    from app.pledges import queries as pledge_queries
    from app.pledges.commands import pledges_cli
    from app.pledges.payable import PledgeRepaymentPayable
    from app.pledges.tasks import PERIODIC_JOBS, reconcile_repayments
    from app.pledges.verify import pledges_problems
    from app.pledges.views import bp

    app.register_blueprint(bp)
    app.cli.add_command(pledges_cli)
    register_payable(app, PledgeRepaymentPayable())
    register_check(app, "pledges", pledges_problems)
    register_leftover_receiver(app, distribution.receive_leftover)
    register_grant_source(app, distribution.granted_to)
    # the badge and the grant in the campaign page's one statement
    register_part(app, pledge_queries.page_part())
    register_part(app, pledge_queries.grant_page_part())
    register_reconciler(app, "repayments", reconcile_repayments)
    register_transfer_purpose(app, TransferPurpose(distribution.SHARE_PURPOSE, "诺言还款",
                                                   distribution.on_share_transfer))
    register_periodic_jobs(app, *PERIODIC_JOBS)
    register_dashboard_source(app, pledges_dashboard.dashboard_items)  # 我的筹款: 许下诺言
