"""Rendering the campaign page: for the viewer, or shared (page_cache) — for anonymous visitors
as they are, for signed-in people as a stand-in who is nobody (page_cache.SharedViewer)."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import abort, g, render_template

from app.campaigns import page_cache, page_data, queries
from app.campaigns.forms import ActionForm
from app.campaigns.models import Campaign


def render_page(campaign: Campaign, viewer) -> str:
    from app.campaigns.trust_views import trust_context

    page_data.load(campaign)
    return render_template("campaigns/detail.html", campaign=campaign,
                           is_owner=queries.is_organizer(campaign, viewer),
                           action_form=ActionForm(), **trust_context(campaign, viewer))


def render_shared(campaign_id: int, kind: tuple, viewer) -> tuple[str, frozenset[int]]:
    """The page of a shared variant, and the users it shows as someone's own (a donor in the
    donor list, an attester): they get a page of their own."""
    campaign = queries.campaign_for_page(campaign_id)
    if campaign is None or not campaign.is_public:
        abort(404)
    shared_viewer = viewer if kind == ("anonymous",) else page_cache.SharedViewer(kind[1])
    with _signed_in_as(shared_viewer):
        html = render_page(campaign, shared_viewer)
    return html, personal_ids(campaign.id)


def personal_ids(campaign_id: int) -> frozenset[int]:
    donors = page_data.prefetched(campaign_id, "donations")
    trust = page_data.prefetched(campaign_id, "trust")
    ids = set()
    if donors is not page_data.MISSING:
        ids.update(row.user_id for row in donors if row.user_id is not None)
    if trust is not page_data.MISSING:
        ids.update(a.user_id for a in trust["attestations"])
    return frozenset(ids)


@contextmanager
def _signed_in_as(viewer) -> Iterator[None]:
    """flask-login's current_user is g._login_user: the templates see `viewer` meanwhile."""
    missing = object()
    before = g.get("_login_user", missing)
    g._login_user = viewer
    try:
        yield
    finally:
        if before is missing:
            g.pop("_login_user", None)
        else:
            g._login_user = before
