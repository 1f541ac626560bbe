"""The termination refunds of given donations, for the donor's own 我的捐款 pages."""
from __future__ import annotations

from sqlalchemy import select

from app.donations.refund_status import RefundView
from app.extensions import db
from app.payouts.models import DonationRefund, RefundStatus


def refunds_by_donation(donation_ids: list[int]) -> dict[int, RefundView]:
    rows = db.session.scalars(select(DonationRefund).where(
        DonationRefund.donation_id.in_(donation_ids), DonationRefund.status != RefundStatus.none))
    return {r.donation_id: RefundView(amount_fen=r.amount_fen, status_label=r.status.label,
                                      settled=r.status == RefundStatus.succeeded)
            for r in rows}
