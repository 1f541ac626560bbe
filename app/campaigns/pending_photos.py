"""Photos chosen on the campaign form before the campaign exists (the pending-photo store).

The form uploads each photo the moment it is picked (static/js/forms.js), or keeps the ones a
refused submission carried, so a validation error never loses them: the re-rendered form carries
their ids and shows thumbnails. They are re-encoded like every campaign photo and written to the
same photo store under a random key; creating the campaign stores them as its photos like any
upload (as_image), and then the pending copies are released. Each belongs to the organizer who
uploaded it; anyone else's id is refused. Those never used are removed after PENDING_MAX_AGE by
a periodic job.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import DateTime, ForeignKey, Integer, String, delete, func, select
from sqlalchemy.orm import Mapped, mapped_column

from app.auth.models import User
from app.campaigns.errors import CampaignError
from app.campaigns.models import MAX_PHOTOS
from app.campaigns.photos import ProcessedImage, delete_stored, photo_path, store_image
from app.extensions import db
from app.models_base import utcnow

PENDING_MAX_AGE = timedelta(days=1)
# At most this many unused photos per organizer at a time: a few forms' worth.
PENDING_PER_ORGANIZER = 3 * MAX_PHOTOS
UNKNOWN_MESSAGE = "有照片已失效，请重新选择照片"


class PendingPhoto(db.Model):
    __tablename__ = "campaign_pending_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 index=True)  # the pruning job's walk


def hold_photos(organizer: User, images: Sequence[ProcessedImage]) -> list[PendingPhoto]:
    """Store re-encoded images as the organizer's pending photos (one transaction)."""
    if not isinstance(organizer, User):
        raise CampaignError("请先用微信登录", "forbidden")
    images = list(images)
    if not images:
        return []
    held = db.session.scalar(select(func.count()).select_from(PendingPhoto).where(
        PendingPhoto.organizer_id == organizer.id)) or 0
    if held + len(images) > PENDING_PER_ORGANIZER:
        raise CampaignError("待用的照片太多了，请先保存草稿，或稍后再试", "too_many_photos")
    keys: list[str] = []
    rows: list[PendingPhoto] = []
    committed = False
    try:
        for image in images:
            key = store_image(image)
            keys.append(key)
            rows.append(PendingPhoto(organizer_id=organizer.id, storage_key=key,
                                     width=image.width, height=image.height))
        db.session.add_all(rows)
        db.session.commit()
        committed = True
    finally:
        if not committed:
            db.session.rollback()
            delete_stored(keys)
    return rows


def pending_of(organizer_id: int, ids: Iterable[int]) -> list[PendingPhoto]:
    """The organizer's pending photos with these ids, in the order asked; CampaignError if any
    is unknown, already used or someone else's."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return []
    found = {photo.id: photo for photo in db.session.scalars(select(PendingPhoto).where(
        PendingPhoto.id.in_(wanted), PendingPhoto.organizer_id == organizer_id))}
    if len(found) != len(wanted):
        raise CampaignError(UNKNOWN_MESSAGE, "unknown_photo")
    return [found[i] for i in wanted]


def as_image(photo: PendingPhoto) -> ProcessedImage:
    """The pending photo's stored JPEG (re-encoded when it was uploaded), as a new upload."""
    try:
        data = photo_path(photo.storage_key).read_bytes()
    except FileNotFoundError:
        raise CampaignError(UNKNOWN_MESSAGE, "unknown_photo") from None
    return ProcessedImage(data=data, width=photo.width, height=photo.height)


def release(organizer_id: int, ids: Iterable[int]) -> None:
    """Once the campaign holds its own copies: remove the organizer's pending ones."""
    ids = list(ids)
    if not ids:
        return
    keys = list(db.session.scalars(select(PendingPhoto.storage_key).where(
        PendingPhoto.id.in_(ids), PendingPhoto.organizer_id == organizer_id)))
    db.session.execute(delete(PendingPhoto).where(
        PendingPhoto.id.in_(ids), PendingPhoto.organizer_id == organizer_id))
    db.session.commit()
    delete_stored(keys)


def prune_pending_photos(now: datetime | None = None) -> int:
    """Remove pending photos older than PENDING_MAX_AGE (rows, then their files)."""
    cutoff = (now or utcnow()) - PENDING_MAX_AGE
    old = list(db.session.execute(select(PendingPhoto.id, PendingPhoto.storage_key).where(
        PendingPhoto.created_at < cutoff)))
    if not old:
        return 0
    db.session.execute(delete(PendingPhoto).where(PendingPhoto.id.in_([i for i, _ in old])))
    db.session.commit()
    delete_stored([key for _, key in old])
    return len(old)
