"""Ledger account codes of money leaving campaigns, and of pledges (codes only: the ledger
knows no feature).

    campaign:<id>:custody                 the campaign's custodial account (donations in)
    custodian:payout_clearing             transfers out of custody to payees (withdrawals to the
                                          hospital or patient, pledge repayments to donors)
    custodian:wechat_refund_clearing      refunds going back to donors through WeChat Pay
    pledge:<id>:custody                   a pledge's repayments until they are distributed
    forward_fund:main:custody             the pay-it-forward fund (诺言基金)
"""
from __future__ import annotations

from app.ledger.services import campaign_custody

PAYOUT_CLEARING = "custodian:payout_clearing"
REFUND_CLEARING = "custodian:wechat_refund_clearing"
FORWARD_FUND = "forward_fund:main:custody"

# Ledger source types this package posts (each with one transaction per source_ref).
SOURCE_WITHDRAWAL = "withdrawal"       # ref: withdrawal id
SOURCE_REFUND = "refund"               # ref: out_refund_no
SOURCE_PLEDGE_RETURN = "pledge_return"  # ref: pledge share id
SOURCE_FORWARD = "forward_fund"        # ref: forward fund entry id

__all__ = ["campaign_custody", "pledge_custody", "PAYOUT_CLEARING", "REFUND_CLEARING",
           "FORWARD_FUND"]


def pledge_custody(pledge_id: int) -> str:
    return f"pledge:{int(pledge_id)}:custody"
