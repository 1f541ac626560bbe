"""Four eyes on money leaving custody: every step of a payout is signed by a different person.

A payout (a withdrawal, a mutual-aid claim…) is a subject (`subject_type`, `subject_id`); each
step taken on it — approve, countersign, release — is one `PayoutSignoff` row. The table's two
unique constraints are the rule itself, held by the database whatever the code above it does:
a step is signed once, and one person signs at most one step of a subject (so nobody approves
and releases the same money, nor countersigns their own approval). A staff member who asked
for a payout signs the `request` step, so they cannot approve their own request either.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import StaffAccount
from app.core.enums import LabelledEnum
from app.extensions import db
from app.models_base import utcnow
from app.payouts.errors import PayoutError


class Step(LabelledEnum):
    request = "request", "申请"
    approve = "approve", "审核通过"
    countersign = "countersign", "财务复核"
    release = "release", "财务放款"


class PayoutSignoff(db.Model):
    __tablename__ = "payout_signoffs"
    __table_args__ = (
        UniqueConstraint("subject_type", "subject_id", "step",
                         name="uq_payout_signoffs_step"),
        UniqueConstraint("subject_type", "subject_id", "staff_id",
                         name="uq_payout_signoffs_person"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(24))
    subject_id: Mapped[int] = mapped_column(Integer)
    step: Mapped[str] = mapped_column(String(16))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_accounts.id"))
    reason: Mapped[str] = mapped_column(String(500), default="")
    signed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    staff = relationship("StaffAccount")

    @property
    def step_label(self) -> str:
        return Step(self.step).label


def signoffs(subject_type: str, subject_id: int) -> list[PayoutSignoff]:
    return list(db.session.scalars(select(PayoutSignoff).where(
        PayoutSignoff.subject_type == subject_type, PayoutSignoff.subject_id == subject_id)
        .order_by(PayoutSignoff.id)))


def signed(subject_type: str, subject_id: int, step: Step) -> PayoutSignoff | None:
    return db.session.scalar(select(PayoutSignoff).where(
        PayoutSignoff.subject_type == subject_type, PayoutSignoff.subject_id == subject_id,
        PayoutSignoff.step == step.value))


def sign(subject_type: str, subject_id: int, step: Step, staff: StaffAccount,
         reason: str = "") -> PayoutSignoff:
    """Sign `step` in the caller's transaction (the subject's row is locked by the caller).
    Refused, with nothing written, when the step is signed already or this person signed
    another step of the same payout."""
    earlier = signoffs(subject_type, subject_id)
    for signoff in earlier:
        if signoff.step == step.value:
            raise PayoutError(f"该款项已{step.label}（{signoff.staff.display_name}），不会重复操作",
                              "already_signed")
        if signoff.staff_id == staff.id:
            raise PayoutError(f"您已{Step(signoff.step).label}这笔款项：{step.label}须由另一位"
                              "工作人员完成", "same_person")
    row = PayoutSignoff(subject_type=subject_type, subject_id=subject_id, step=step.value,
                        staff_id=staff.id, reason=reason[:500])
    try:
        with db.session.begin_nested():   # a concurrent signer: the constraint decides
            db.session.add(row)
    except IntegrityError as error:
        raise PayoutError(f"该款项的{step.label}已由他人完成，请刷新", "already_signed") from error
    return row
