"""Ledger account codes and source types of pledges (codes only: the ledger knows no feature).

    pledge:<id>:custody                   a pledge's repayments until they are distributed
    forward_fund:main:custody             the pay-it-forward fund (诺言基金)

Shares going back to donors leave through payouts' `custodian:payout_clearing`.
"""
from __future__ import annotations

FORWARD_FUND = "forward_fund:main:custody"

# Ledger source types this package posts (each with one transaction per source_ref).
SOURCE_PLEDGE_RETURN = "pledge_return"  # ref: pledge share id
SOURCE_FORWARD = "forward_fund"        # ref: forward fund entry id


def pledge_custody(pledge_id: int) -> str:
    return f"pledge:{int(pledge_id)}:custody"
