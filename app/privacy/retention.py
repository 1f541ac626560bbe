"""What the 隐私政策 promises about time: a campaign's medical documents and ID photos are erased
five years after it ended (its review decisions, which hold no image, stay with the records).
Payout receipts and invoices are accounting records (30 years) and are not touched here."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from app.campaigns.models import Campaign, CampaignStatus
from app.core.storage import delete_all
from app.extensions import db
from app.models_base import utcnow
from app.review.models import CampaignDocument

REVIEW_DOCUMENT_YEARS = 5
BATCH = 500


def documents_due_before(now: datetime) -> datetime:
    """The end date before which a campaign's documents are due: five calendar years back."""
    try:
        return now.replace(year=now.year - REVIEW_DOCUMENT_YEARS)
    except ValueError:            # 29 February, five years after a leap year
        return now.replace(year=now.year - REVIEW_DOCUMENT_YEARS, day=28)


def erase_expired_documents(now: datetime | None = None) -> int:
    """Erase (file and row marked removed) up to BATCH documents of campaigns that ended more
    than five years ago; returns how many. Idempotent: an erased document is never picked again."""
    now = now or utcnow()
    documents = list(db.session.scalars(
        select(CampaignDocument).join(Campaign, Campaign.id == CampaignDocument.campaign_id)
        .where(Campaign.status.in_([CampaignStatus.ended, CampaignStatus.terminated]),
               Campaign.ended_at < documents_due_before(now),
               CampaignDocument.removed_at.is_(None))
        .order_by(CampaignDocument.id).limit(BATCH).with_for_update(of=CampaignDocument,
                                                                     skip_locked=True)))
    for document in documents:
        document.removed_at = now
    keys = [document.storage_key for document in documents]
    db.session.commit()
    delete_all(keys)   # after the commit: a failed commit leaves the files in place
    return len(keys)
