"""A donation (捐款): what a donor gives to a campaign — the payable behind a payment."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models_base import created_at_column, fen_column

AMOUNT_MIN_FEN = 1 * 100
AMOUNT_MAX_FEN = 50_000 * 100
PRESETS_FEN = (10_00, 20_00, 50_00, 100_00, 200_00)
BLESSING_MAX = 100
REPORT_REASON_MAX = 200


class Donation(db.Model):
    __tablename__ = "donations"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        # The public list: a campaign's paid donations, newest first, by keyset.
        Index("ix_donations_campaign_paid", "campaign_id", "paid_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), unique=True)
    amount_fen: Mapped[int] = fen_column()
    blessing: Mapped[str] = mapped_column(String(BLESSING_MAX), default="")
    anonymous: Mapped[bool] = mapped_column(default=False)
    # Set once, in the same transaction as the payment's ledger posting.
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    late: Mapped[bool] = mapped_column(default=False)  # paid after the campaign stopped
    created_at: Mapped[datetime] = created_at_column()
    # The organizer may hide the blessing (and show it again); staff may remove it for good.
    # Either way only the text leaves public view: the donation and its amount stay.
    blessing_hidden_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    blessing_removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def blessing_shown(self) -> bool:
        return bool(self.blessing) and self.blessing_hidden_at is None \
            and self.blessing_removed_at is None


class BlessingReport(db.Model):
    """Someone signed in reporting a blessing (举报祝福): once per person per blessing. Staff
    resolve the open reports of a blessing together, by removing it or keeping it."""
    __tablename__ = "blessing_reports"
    __table_args__ = (UniqueConstraint("donation_id", "reporter_id",
                                       name="uq_blessing_reports_donation_id_reporter_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    donation_id: Mapped[int] = mapped_column(ForeignKey("donations.id"), index=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(String(REPORT_REASON_MAX))
    created_at: Mapped[datetime] = created_at_column()
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
