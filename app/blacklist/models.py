"""One listing of a person on the 失信名单. Rows are never deleted: removal is recorded on the row
(who, when, why) and in the audit log, so the history of a listing stays readable."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.enums import LabelledEnum
from app.extensions import db
from app.models_base import created_at_column


class ListedRole(LabelledEnum):
    organizer = "organizer", "发起人"
    patient = "patient", "患者"


class BlacklistEntry(db.Model):
    __tablename__ = "blacklist_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    role: Mapped[ListedRole] = mapped_column(Enum(ListedRole, native_enum=False, length=16))
    # blind_index(ID number, "patient-id"): the same purpose for organizers and patients, so a
    # person listed as one is caught as the other too. None when only the account is known.
    id_index: Mapped[str | None] = mapped_column(String(64), index=True)
    id_masked: Mapped[str] = mapped_column(String(24), default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    reason: Mapped[str] = mapped_column(String(500))
    added_by_id: Mapped[int] = mapped_column(ForeignKey("staff_accounts.id"))
    created_at: Mapped[datetime] = created_at_column()
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    removed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_accounts.id"))
    removal_reason: Mapped[str] = mapped_column(String(500), default="")

    added_by = relationship("StaffAccount", foreign_keys=[added_by_id])
    removed_by = relationship("StaffAccount", foreign_keys=[removed_by_id])

    @property
    def is_active(self) -> bool:
        return self.removed_at is None
