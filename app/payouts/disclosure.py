"""What the public sees of money going out (资金公示). Read-only: nothing commits.

Every paid withdrawal is shown with its date, amount, payee type (a hospital by name, a person
masked), purpose and the receipts finance approved; the totals come from the ledger; after the
campaign ends, the organizer's statement on leftover money; after termination, how the refunds
are going (amounts only, no donor). Money granted to the campaign by another feature (the
pay-it-forward fund) is shown as the grant sources it registered say.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from flask import Flask
from sqlalchemy import String, cast, func, select

from app.campaigns import page_data
from app.campaigns.models import Campaign, CampaignStatus
from app.campaigns.page_data import CAMPAIGN_ID, rows_of
from app.core.plugins import registry
from app.extensions import db
from app.ledger.services import (SOURCE_CHANNEL_FEE, SOURCE_CHANNEL_FEE_RETURN, campaign_custody,
                                 source_total)
from app.payouts.funds import custody_balance, paid_out_fen
from app.ledger.models import Account, AccountTotal
from app.payouts.models import (DocKind, DocStatus, DonationRefund, LeftoverStatement,
                                PayoutDocument, RefundStatus, Withdrawal, WithdrawalStatus)
from app.review.models import Payee, PayeeKind

PAYEE_LABELS = {PayeeKind.hospital: "医院对公账户", PayeeKind.patient: "患者本人账户",
                PayeeKind.family: "患者家属账户"}


@dataclass(frozen=True)
class PayoutRow:
    paid_at: datetime
    amount_fen: int
    payee: str
    purpose: str
    receipts: list[PayoutDocument]


@dataclass(frozen=True)
class RefundProgress:
    count: int
    settled: int
    amount_fen: int
    settled_fen: int
    fee_returned_fen: int = 0  # of amount_fen: WeChat's fee it gives back with the refunds


@dataclass
class Disclosure:
    campaign: Campaign
    balance_fen: int
    paid_out_fen: int
    granted_fen: int
    channel_fee_fen: int = 0  # WeChat Pay's fees on the donations, less fees it returned
    payouts: list[PayoutRow] = field(default_factory=list)
    statement: LeftoverStatement | None = None
    refunds: RefundProgress | None = None

    @property
    def is_final(self) -> bool:
        return self.campaign.status in (CampaignStatus.ended, CampaignStatus.terminated)


def register_grant_source(app: Flask, granted_to: Callable[[int], int]) -> None:
    """`granted_to(campaign_id)`: fen a feature granted the campaign, shown in its disclosure."""
    registry("disclosure_grant_sources", list, app).append(granted_to)


def granted_fen(campaign_id: int) -> int:
    return sum(source(campaign_id) for source in registry("disclosure_grant_sources", list))


def payee_label(payee: Payee | None) -> str:
    if payee is None:
        return "收款账户"
    return f"{PAYEE_LABELS.get(payee.kind, '收款账户')} · {payee.public_name}"


def disclosure(campaign: Campaign) -> Disclosure:
    fetched = page_data.prefetched(campaign.id, "disclosure")
    if fetched is page_data.MISSING:
        result = _read_disclosure(campaign)
    else:
        result = Disclosure(campaign=campaign, granted_fen=granted_fen(campaign.id), **fetched)
    if campaign.status == CampaignStatus.ended:
        result.statement = db.session.scalar(select(LeftoverStatement).where(
            LeftoverStatement.campaign_id == campaign.id))
    if campaign.status == CampaignStatus.terminated:
        result.refunds = refund_progress(campaign.id)
    return result


def _read_disclosure(campaign: Campaign) -> Disclosure:
    withdrawals = list(db.session.scalars(
        select(Withdrawal).where(Withdrawal.campaign_id == campaign.id,
                                 Withdrawal.status == WithdrawalStatus.paid)
        .order_by(Withdrawal.paid_at.desc(), Withdrawal.id.desc())))
    payees = {p.id: p for p in db.session.scalars(
        select(Payee).where(Payee.id.in_({w.payee_id for w in withdrawals})))}
    rows = [PayoutRow(paid_at=w.paid_at, amount_fen=w.amount_fen,
                      payee=payee_label(payees.get(w.payee_id)), purpose=w.purpose,
                      receipts=[d for d in w.public_receipts if not d.is_pdf])
            for w in withdrawals]
    result = Disclosure(campaign=campaign, balance_fen=custody_balance(campaign.id),
                        paid_out_fen=paid_out_fen(campaign.id),
                        granted_fen=granted_fen(campaign.id),
                        channel_fee_fen=-source_total(campaign_custody(campaign.id), (
                            SOURCE_CHANNEL_FEE, SOURCE_CHANNEL_FEE_RETURN)),
                        payouts=rows)
    return result


CHANNEL_FEE_SOURCES = (SOURCE_CHANNEL_FEE, SOURCE_CHANNEL_FEE_RETURN)


def page_part() -> page_data.Part:
    """The disclosure in the campaign page's one statement: the paid withdrawals with their
    payee and receipts, and the custody account's cached totals by source (balance, fees);
    paid out is the sum of the withdrawals shown. Filled in by decode with the campaign and
    the grants (granted_fen asks its sources, which read their own parts)."""
    paid = rows_of(
        select(Withdrawal.id, Withdrawal.paid_at, Withdrawal.amount_fen, Withdrawal.purpose,
               Payee.kind, Payee.account_name_enc)
        .outerjoin(Payee, Payee.id == Withdrawal.payee_id)
        .where(Withdrawal.campaign_id == CAMPAIGN_ID,
               Withdrawal.status == WithdrawalStatus.paid),
        Withdrawal.paid_at.desc(), Withdrawal.id.desc())
    receipts = rows_of(
        select(*PayoutDocument.__table__.c)
        .join(Withdrawal, Withdrawal.id == PayoutDocument.withdrawal_id)
        .where(Withdrawal.campaign_id == CAMPAIGN_ID,
               Withdrawal.status == WithdrawalStatus.paid,
               PayoutDocument.kind == DocKind.receipt,
               PayoutDocument.status == DocStatus.approved),
        PayoutDocument.id)
    totals = rows_of(
        select(AccountTotal.source_type, AccountTotal.amount_fen)
        .join(Account, Account.id == AccountTotal.account_id)
        .where(Account.code == "campaign:" + cast(CAMPAIGN_ID, String) + ":custody"),
        AccountTotal.source_type)

    def decode(values: dict) -> dict:
        shown: dict[int, list] = {}
        for row in page_data.decode_rows(values["receipts"], receipts):
            document = page_data.transient(PayoutDocument, row)
            if not document.is_pdf:
                shown.setdefault(row["withdrawal_id"], []).append(document)
        withdrawals = page_data.decode_rows(values["withdrawals"], paid)
        by_source = {row["source_type"]: int(row["amount_fen"])
                     for row in page_data.decode_rows(values["totals"], totals)}
        rows = [PayoutRow(paid_at=w["paid_at"], amount_fen=w["amount_fen"],
                          payee=payee_label(page_data.transient(
                              Payee, {"kind": w["kind"],
                                      "account_name_enc": w["account_name_enc"]})
                              if w["kind"] is not None else None),
                          purpose=w["purpose"], receipts=shown.get(w["id"], []))
                for w in withdrawals]
        return {"payouts": rows, "paid_out_fen": sum(w["amount_fen"] for w in withdrawals),
                "balance_fen": sum(by_source.values()),
                "channel_fee_fen": -sum(by_source.get(kind, 0) for kind in CHANNEL_FEE_SOURCES)}

    return page_data.Part("disclosure", lambda: {
        "withdrawals": paid, "receipts": receipts, "totals": totals}, decode)


def refund_progress(campaign_id: int) -> RefundProgress:
    succeeded = DonationRefund.status == RefundStatus.succeeded
    row = db.session.execute(
        select(func.count(), func.coalesce(func.sum(DonationRefund.amount_fen), 0),
               func.count().filter(succeeded),
               func.coalesce(func.sum(DonationRefund.amount_fen).filter(succeeded), 0),
               func.coalesce(func.sum(DonationRefund.channel_fee_returned_fen), 0))
        .where(DonationRefund.campaign_id == campaign_id,
               DonationRefund.status != RefundStatus.none)).one()
    return RefundProgress(count=row[0], amount_fen=int(row[1]), settled=row[2],
                          settled_fen=int(row[3]), fee_returned_fen=int(row[4]))


def my_refunds(user_id: int) -> list[DonationRefund]:
    return list(db.session.scalars(select(DonationRefund).where(
        DonationRefund.user_id == user_id).order_by(DonationRefund.id.desc())))


# --- for finance staff ----------------------------------------------------------------------

def withdrawals_in(*statuses: WithdrawalStatus, limit: int = 100) -> list[Withdrawal]:
    return list(db.session.scalars(select(Withdrawal).where(Withdrawal.status.in_(statuses))
                                   .order_by(Withdrawal.id).limit(limit)))


def receipts_to_review(limit: int = 100) -> list[PayoutDocument]:
    from app.payouts.models import DocKind, DocStatus

    return list(db.session.scalars(select(PayoutDocument).where(
        PayoutDocument.kind == DocKind.receipt, PayoutDocument.status == DocStatus.pending)
        .order_by(PayoutDocument.id).limit(limit)))


def refunds_needing_attention(limit: int = 100) -> list[DonationRefund]:
    return list(db.session.scalars(select(DonationRefund).where(
        DonationRefund.status == RefundStatus.failed).order_by(DonationRefund.id).limit(limit)))


def terminated_campaigns(limit: int = 50) -> list[tuple[Campaign, RefundProgress]]:
    campaigns = db.session.scalars(select(Campaign).where(
        Campaign.status == CampaignStatus.terminated).order_by(Campaign.id.desc())
        .limit(limit)).unique()
    return [(c, refund_progress(c.id)) for c in campaigns]


def refunds_of(campaign_id: int) -> list[DonationRefund]:
    return list(db.session.scalars(select(DonationRefund).where(
        DonationRefund.campaign_id == campaign_id).order_by(DonationRefund.id)))
