"""Balances and locks shared by withdrawals, refunds and pledges.

Everything that takes money out of a campaign's custody first locks the campaign's row, then
reads the ledger balance less what is already promised (withdrawals asked for or in flight,
refunds planned but not settled). Two requests for the same campaign therefore run one after
the other and the second sees the first: custody can never be overdrawn. On PostgreSQL the lock
is SELECT … FOR UPDATE; SQLite has no row locks, so a no-op UPDATE takes its database write lock
at the start of the transaction instead (and a concurrent writer waits for our commit).
"""
from __future__ import annotations

from sqlalchemy import func, select, update

from app.campaigns.models import Campaign
from app.extensions import db
from app.ledger.models import Account
from app.ledger.services import account_id, balance, campaign_custody
from app.payouts.errors import PayoutError
from app.payouts.models import (PENDING_WITHDRAWALS, UNSETTLED_REFUNDS, DonationRefund,
                                Withdrawal, WithdrawalStatus)


def _sqlite() -> bool:
    return db.session.connection().dialect.name == "sqlite"


def lock_campaign(campaign_id: int) -> Campaign:
    table = Campaign.__table__
    if _sqlite():
        db.session.execute(update(table).where(table.c.id == campaign_id)
                           .values(updated_at=table.c.updated_at))
    campaign = db.session.scalars(
        select(Campaign).where(Campaign.id == campaign_id).with_for_update(of=Campaign)
        .execution_options(populate_existing=True)).unique().one_or_none()
    if campaign is None:
        raise PayoutError("筹款不存在", "not_found")
    return campaign


def lock_account(code: str) -> None:
    """Serialise everything that spends from one ledger account (a pledge's, the fund's)."""
    ident = account_id(code)
    table = Account.__table__
    if _sqlite():
        db.session.execute(update(table).where(table.c.id == ident).values(name=table.c.name))
    else:
        db.session.execute(select(table.c.id).where(table.c.id == ident).with_for_update())


def custody_balance(campaign_id: int) -> int:
    return balance(campaign_custody(campaign_id))


def withdrawals_total(campaign_id: int, statuses=PENDING_WITHDRAWALS,
                      exclude_id: int | None = None) -> int:
    query = select(func.coalesce(func.sum(Withdrawal.amount_fen), 0)).where(
        Withdrawal.campaign_id == campaign_id, Withdrawal.status.in_(statuses))
    if exclude_id is not None:
        query = query.where(Withdrawal.id != exclude_id)
    return int(db.session.scalar(query))


def unsettled_refunds(campaign_id: int) -> int:
    """What planned refunds will still take from custody (each less the fee WeChat returns)."""
    return int(db.session.scalar(
        select(func.coalesce(func.sum(DonationRefund.amount_fen
                                      - DonationRefund.channel_fee_returned_fen), 0)).where(
            DonationRefund.campaign_id == campaign_id,
            DonationRefund.status.in_(UNSETTLED_REFUNDS))))


def available_fen(campaign_id: int) -> int:
    """What the organizer may still ask to withdraw (read under the campaign's lock to act)."""
    return max(0, custody_balance(campaign_id) - withdrawals_total(campaign_id)
               - unsettled_refunds(campaign_id))


def paid_out_fen(campaign_id: int) -> int:
    return withdrawals_total(campaign_id, statuses=(WithdrawalStatus.paid,))
