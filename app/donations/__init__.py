"""Donations (捐款): the donate form, the donation payable, the public donations list.

Plugs in: its blueprints (the donate form and lists; 我的捐款 with its 凭证 and statements;
blessing moderation: 祝福管理, 举报祝福, the staff queue), the audit labels of blessing moderation,
the donation payable, the `ledger verify` checks of campaign
totals and donations against their payments, a campaign's donors as notices' "donors"
audience, and today's helps on 我的筹款. It offers register_refund_source (refund_status.py), through which payouts says
how a donation's refund is going. Sends `signals.donation_paid` after each paid
donation commits; other features listen in their own register(app)."""
from flask import Flask


def register(app: Flask) -> None:
    from app.campaigns.dashboard import register_dashboard_source
    from app.core.plugins import register_audit_labels, register_audit_words
    from app.donations import dashboard as donations_dashboard
    from app.donations.audience import donor_ids
    from app.donations.blessing_views import bp as blessings_bp
    from app.donations import blessings
    from app.campaigns.page_data import register_part
    from app.donations.queries import campaign_problems, donation_payment_problems
    from app.donations.queries import page_part as donor_list_page_part
    from app.donations.services import DonationPayable
    from app.donations.mine_views import bp as my_donations_bp
    from app.donations.views import bp
    from app.ledger.verify import register_check
    from app.notices.services import register_campaign_audience
    from app.payments.payables import register_payable

    app.register_blueprint(bp)
    register_part(app, donor_list_page_part())   # the donor list in the campaign page's statement
    register_payable(app, DonationPayable())
    register_check(app, "campaigns", campaign_problems)
    register_check(app, "donations", donation_payment_problems)
    register_campaign_audience(app, "donors", donor_ids)
    app.register_blueprint(blessings_bp)   # 祝福管理, 举报祝福, the staff queue of reported ones
    register_audit_labels(app, blessings.AUDIT_LABELS)
    register_audit_words(app, targets=blessings.AUDIT_TARGETS, fields=blessings.AUDIT_FIELDS,
                         values=blessings.AUDIT_VALUES)
    app.register_blueprint(my_donations_bp)
    register_dashboard_source(app, donations_dashboard.dashboard_items)  # 我的筹款: today's helps
