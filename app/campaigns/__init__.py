"""Campaigns (筹款): the form, photos, updates, attestations, moderation, the public page, and a
live campaign's changes (修改, 追加目标 — reviewed, then listed publicly as 修改记录) and early end.

Plugs in: its blueprints (the pages; the changes, their log in /api/v1 and the early end), the
periodic jobs that end campaigns at their deadline and prune the form's unused pending photos,
and the audit labels of its changes.
Features that must act after a termination register with moderation.register_termination_hook;
those that vouch for a campaign add its page's badges with trust.register_badge_source; those
that must agree before a change is approved register changes.register_change_check; those
that show something on the public page register a page_data.register_part (read in the page's one
statement); those
with something for the organizer's 我的筹款 register dashboard.register_dashboard_source; the page
announces each visitor step with app.core.signals.funnel_step."""
from flask import Flask

CHANGE_AUDIT_LABELS = {
    "campaign_change.approve": "筹款修改通过",
    "campaign_change.reject": "筹款修改驳回",
    "campaign.target_cap_lift": "调整目标上限",
    "campaign.end_early": "发起人提前结束筹款",
}


def register(app: Flask) -> None:
    from app.campaigns.change_models import (FIELD_LABELS, ChangeKind, ChangeStatus,
                                             LeftoverRoute)
    from app.campaigns.change_views import bp as changes_bp
    from app.campaigns.tasks import PERIODIC_JOBS
    from app.campaigns.views import bp
    from app.campaigns import changes, trust
    from app.campaigns.page_data import register_part
    from app.campaigns.models import CampaignStatus
    from app.core.enums import labels_of
    from app.core.plugins import register_audit_labels, register_audit_words, register_periodic_jobs

    app.register_blueprint(bp)
    app.register_blueprint(changes_bp)
    # what the page shows of attestations, updates and changes, read in its one statement
    register_part(app, trust.page_part())
    register_part(app, changes.change_log_page_part())
    register_periodic_jobs(app, *PERIODIC_JOBS)
    register_audit_labels(app, CHANGE_AUDIT_LABELS)
    register_audit_words(app, targets={"campaign": "筹款", "campaign_change": "筹款修改"},
                         fields={"fields": "修改内容", "target_cap_fen": "目标上限",
                                 "route": "剩余善款"},
                         values={"campaign.status": labels_of(CampaignStatus),
                                 "campaign.route": labels_of(LeftoverRoute),
                                 "campaign_change.status": labels_of(ChangeStatus),
                                 "campaign_change.kind": labels_of(ChangeKind),
                                 "campaign_change.fields": FIELD_LABELS})
