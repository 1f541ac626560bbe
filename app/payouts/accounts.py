"""Ledger account codes of money leaving campaigns (codes only: the ledger knows no feature).

    campaign:<id>:custody                 the campaign's custodial account (donations in)
    custodian:payout_clearing             transfers out of custody to payees (withdrawals to the
                                          hospital or patient; pledges' shares back to donors)
    custodian:wechat_refund_clearing      refunds going back to donors through WeChat Pay
"""
from __future__ import annotations

from app.ledger.services import campaign_custody

PAYOUT_CLEARING = "custodian:payout_clearing"
REFUND_CLEARING = "custodian:wechat_refund_clearing"

# Ledger source types this package posts (each with one transaction per source_ref).
SOURCE_WITHDRAWAL = "withdrawal"       # ref: withdrawal id
SOURCE_REFUND = "refund"               # ref: out_refund_no

__all__ = ["campaign_custody", "PAYOUT_CLEARING", "REFUND_CLEARING"]
