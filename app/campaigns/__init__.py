"""Campaigns (筹款): the form, photos, updates, attestations, moderation and the public page.

Plugs in: its blueprint and the periodic job that ends campaigns at their deadline. Features
that must act after a termination register with moderation.register_termination_hook; those
that vouch for a campaign add its page's badges with trust.register_badge_source; the page
announces each visitor step with app.core.signals.funnel_step."""
from flask import Flask


def register(app: Flask) -> None:
    from app.campaigns.tasks import PERIODIC_JOBS
    from app.campaigns.views import bp
    from app.campaigns.models import CampaignStatus
    from app.core.enums import labels_of
    from app.core.plugins import register_audit_words, register_periodic_jobs

    app.register_blueprint(bp)
    register_periodic_jobs(app, *PERIODIC_JOBS)
    register_audit_words(app, targets={"campaign": "筹款"},
                         values={"campaign.status": labels_of(CampaignStatus)})
