"""Read-only look-ups shared by the pages, the staff page and the API. Nothing here commits."""
from __future__ import annotations

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from app.campaigns.models import Campaign, CampaignStatus
from app.extensions import db

PER_PAGE = 10
Q_MAX = 50


def is_organizer(campaign: Campaign, viewer) -> bool:
    """Staff and user ids share numbers, so a staff account is never an organizer."""
    return bool(viewer is not None and getattr(viewer, "is_authenticated", False)
                and not getattr(viewer, "is_staff", False)
                and campaign.organizer_id == viewer.id)


def is_staff(viewer) -> bool:
    return bool(viewer is not None and getattr(viewer, "is_authenticated", False)
                and getattr(viewer, "is_staff", False))


def can_view(campaign: Campaign, viewer) -> bool:
    """Public states for everyone; draft, submitted and rejected for the organizer and staff."""
    return campaign.is_public or is_organizer(campaign, viewer) or is_staff(viewer)


def get_campaign(campaign_id: int) -> Campaign | None:
    return db.session.get(Campaign, campaign_id)


def campaign_for_page(campaign_id: int) -> Campaign | None:
    """The campaign with its organizer and photos in one statement (the cover is in <head>)."""
    return db.session.scalars(select(Campaign).options(joinedload(Campaign.photos))
                              .where(Campaign.id == campaign_id)).unique().one_or_none()


def public_campaign(campaign_id: int) -> Campaign | None:
    campaign = get_campaign(campaign_id)
    return campaign if campaign is not None and campaign.is_public else None


def search_live(q: str = "", page: int = 1, per_page: int = PER_PAGE) -> Pagination:
    """Live campaigns, newest first, optionally matching q in title, diagnosis or hospital."""
    stmt = select(Campaign).where(Campaign.status == CampaignStatus.live)
    q = (q or "").strip()[:Q_MAX]
    if q:
        stmt = stmt.where(or_(Campaign.title.icontains(q, autoescape=True),
                              Campaign.diagnosis.icontains(q, autoescape=True),
                              Campaign.hospital.icontains(q, autoescape=True)))
    stmt = stmt.order_by(Campaign.live_at.desc(), Campaign.id.desc())
    return db.paginate(stmt, page=max(1, page), per_page=per_page, error_out=False,
                       count=True)


def recently_ended(limit: int = 6) -> list[Campaign]:
    """Ended campaigns, the most recently launched first: one walk down the tail of
    ix_campaigns_status_live_at (status, live_at), stopped by the LIMIT."""
    return list(db.session.scalars(
        select(Campaign).where(Campaign.status == CampaignStatus.ended)
        .order_by(Campaign.live_at.desc(), Campaign.id.desc()).limit(limit)).unique())


def campaigns_of(organizer_id: int) -> list[Campaign]:
    return list(db.session.scalars(
        select(Campaign).where(Campaign.organizer_id == organizer_id)
        .order_by(Campaign.created_at.desc(), Campaign.id.desc())).unique())


def review_queue() -> list[Campaign]:
    """Submitted campaigns, longest waiting first."""
    return list(db.session.scalars(
        select(Campaign).where(Campaign.status == CampaignStatus.submitted)
        .order_by(Campaign.submitted_at.asc(), Campaign.id.asc())).unique())


def recently_decided(limit: int = 20) -> list[Campaign]:
    return list(db.session.scalars(
        select(Campaign).where(Campaign.status.in_([CampaignStatus.live, CampaignStatus.rejected]))
        .order_by(Campaign.updated_at.desc(), Campaign.id.desc()).limit(limit)).unique())
