"""A campaign's donors, as notices' "donors" audience: who is told of its updates, its end, a
termination and where the money went."""
from __future__ import annotations

from sqlalchemy import select

from app.donations.models import Donation
from app.extensions import db


def donor_ids(campaign_id: int) -> list[int]:
    """Everyone signed in who paid a donation to the campaign (anonymous ones too: anonymity
    is about the public page, not about hearing what became of one's money)."""
    return list(db.session.scalars(select(Donation.user_id).where(
        Donation.campaign_id == campaign_id, Donation.paid_at.is_not(None),
        Donation.user_id.is_not(None)).distinct()))
