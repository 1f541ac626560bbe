"""In-app notices (站内通知): reading them marks them read (one small transaction)."""
from __future__ import annotations

from sqlalchemy import func, select, update

from app.extensions import db
from app.models_base import utcnow
from app.payouts.models import PayoutNotice

PAGE = 50


def read_notices(user_id: int) -> list[PayoutNotice]:
    rows = list(db.session.scalars(select(PayoutNotice).where(
        PayoutNotice.user_id == user_id).order_by(PayoutNotice.id.desc()).limit(PAGE)))
    db.session.execute(update(PayoutNotice).where(
        PayoutNotice.user_id == user_id, PayoutNotice.read_at.is_(None))
        .values(read_at=utcnow()).execution_options(synchronize_session=False))
    db.session.commit()
    return rows


def unread_count(user_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(PayoutNotice).where(
        PayoutNotice.user_id == user_id, PayoutNotice.read_at.is_(None)))
