"""Campaigns as JSON: money in integer fen, times in ISO 8601 (UTC), names and personal
data in free text masked."""
from __future__ import annotations

from datetime import datetime

from flask import url_for

from app.campaigns.models import Campaign
from app.core import pii
from app.core.templating import days_left, mask_name
from app.models_base import as_utc


def iso(value: datetime | None) -> str | None:
    return as_utc(value).isoformat() if value is not None else None


def campaign_summary(campaign: Campaign) -> dict:
    cover = campaign.cover
    return {
        "id": campaign.id,
        "title": campaign.title,
        "status": campaign.status.value,
        "status_label": campaign.status.label,
        "target_fen": campaign.target_fen,
        "raised_fen": campaign.raised_fen,
        "donation_count": campaign.donation_count,
        "progress_percent": campaign.progress_percent,
        "live_at": iso(campaign.live_at),
        "ends_at": iso(campaign.ends_at),
        "days_left": days_left(campaign.ends_at),
        "cover_url": (url_for("campaigns.photo", key=cover.storage_key, _external=True)
                      if cover else None),
        "url": url_for("campaigns.detail", campaign_id=campaign.id, _external=True),
        "patient_name": mask_name(campaign.patient_name),
        "diagnosis": campaign.diagnosis,
        "hospital": campaign.hospital,
        "accepts_donations": campaign.accepts_donations,
    }


def campaign_detail(campaign: Campaign) -> dict:
    data = campaign_summary(campaign)
    data.update({
        "relation": campaign.relation,
        "relation_label": campaign.relation_label,
        "duration_days": campaign.duration_days,
        "ended_at": iso(campaign.ended_at),
        "story": pii.mask(campaign.story),
        "photo_urls": [url_for("campaigns.photo", key=photo.storage_key, _external=True)
                       for photo in campaign.photos],
        "disclosure": {
            "house": campaign.house,
            "car": campaign.car,
            "savings": campaign.savings,
            "has_medical_insurance": campaign.has_medical_insurance,
            "has_commercial_insurance": campaign.has_commercial_insurance,
            "note": pii.mask(campaign.disclosure_note),
        },
    })
    return data
