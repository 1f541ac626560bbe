"""Sharing: share links forming a tree, visits, attribution, QR posters and certificates.

Plugs in: its blueprint, `flask sharing`, the attribution of each paid donation
(donation_paid), the daily pruning of old posters and 我的筹款's share buttons."""
from flask import Flask


def register(app: Flask) -> None:
    from app.campaigns.dashboard import register_dashboard_source
    from app.core.plugins import register_periodic_jobs
    from app.sharing import dashboard as sharing_dashboard
    from app.sharing.commands import sharing_cli
    from app.sharing.tasks import PERIODIC_JOBS, connect_donation_signal
    from app.sharing.views import bp

    app.register_blueprint(bp)
    app.cli.add_command(sharing_cli)
    connect_donation_signal(app)
    register_periodic_jobs(app, *PERIODIC_JOBS)
    register_dashboard_source(app, sharing_dashboard.dashboard_items)  # 我的筹款: share first
