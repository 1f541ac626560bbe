"""The 隐私政策's five years: a campaign's medical documents are erased five years after it ended,
not before; its review decisions stay."""
from __future__ import annotations

import calendar
from datetime import timedelta

from sqlalchemy import func, select, update

from app.campaigns.models import Campaign, CampaignStatus
from app.extensions import db
from app.models_base import utcnow
from app.privacy.retention import documents_due_before, erase_expired_documents
from app.review import services
from app.review.models import CampaignDocument, DocumentDecision
from tests.factories import UserFactory
from tests.review.helpers import approve_all, patient_id, ready_campaign, stored_keys


def _ended(campaign, ago: timedelta) -> None:
    db.session.execute(update(Campaign).where(Campaign.id == campaign.id)
                       .values(status=CampaignStatus.ended, ended_at=utcnow() - ago))
    db.session.commit()


def test_documents_go_five_years_after_the_end_and_not_before(db, staff):
    old = ready_campaign(UserFactory())
    recent = ready_campaign(UserFactory(), patient_id=patient_id(5))
    approve_all(old, staff)
    old_keys = {d.storage_key for d in services.current_documents(old.id)}
    recent_keys = {d.storage_key for d in services.current_documents(recent.id)}
    _ended(old, timedelta(days=5 * 366))
    _ended(recent, timedelta(days=4 * 365))
    decisions = db.session.scalar(select(func.count()).select_from(DocumentDecision))

    assert erase_expired_documents() == len(old_keys) > 0
    assert services.current_documents(old.id) == []
    assert not old_keys & stored_keys() and recent_keys <= stored_keys()
    assert len(services.current_documents(recent.id)) == len(recent_keys)
    assert db.session.scalar(select(func.count()).select_from(DocumentDecision)) == decisions
    assert db.session.scalar(select(func.count()).select_from(CampaignDocument)) == \
        len(old_keys) + len(recent_keys)   # the rows stay, marked removed
    assert erase_expired_documents() == 0


def test_five_calendar_years_back_even_from_a_leap_day():
    now = utcnow()
    assert documents_due_before(now).year == now.year - 5
    leap_year = next(year for year in range(now.year, now.year + 8) if calendar.isleap(year))
    leap = now.replace(year=leap_year, month=2, day=29)
    assert (documents_due_before(leap).month, documents_due_before(leap).day) == (2, 28)
