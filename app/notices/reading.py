"""A person's 通知 page: reading it marks what was unread as read (one small transaction)."""
from __future__ import annotations

from sqlalchemy import func, select, update

from app.extensions import db
from app.models_base import utcnow
from app.notices.models import CampaignMute, Notice

PAGE = 50


def read_notices(user_id: int) -> list[Notice]:
    rows = list(db.session.scalars(select(Notice).where(
        Notice.user_id == user_id).order_by(Notice.id.desc()).limit(PAGE)))
    db.session.execute(update(Notice).where(
        Notice.user_id == user_id, Notice.read_at.is_(None))
        .values(read_at=utcnow()).execution_options(synchronize_session=False))
    db.session.commit()
    return rows


def unread_count(user_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Notice).where(
        Notice.user_id == user_id, Notice.read_at.is_(None)))


def is_muted(user_id: int | None, campaign_id: int) -> bool:
    if user_id is None:
        return False
    return db.session.get(CampaignMute, (user_id, campaign_id)) is not None
