"""Ledger account codes of the plan (the ledger knows them only as codes).

    plan:<id>:custody               the plan's custodial account: share payments in, payouts out
    plan_claim:<claim id>:custody   a claim's awarded money (待打款), still in custody, earmarked
                                    for its payee until the payout settles
    plan_wallet:<user id>:custody   a member's balance in the removed wallet, being returned
    custodian:plan_payout_clearing  money leaving custody to patients (and wallet refunds)
    custodian:plan_fee_clearing     the published management fee leaving custody
    custodian:plan_payback_clearing money owed back to members (waiting-period refunds,
                                    overpaid batches) until a payback takes it
    custodian:plan_refund_submitted_clearing  a payback's WeChat refund, asked and not settled
"""
from __future__ import annotations


def plan_custody(plan_id: int) -> str:
    return f"plan:{int(plan_id)}:custody"


def wallet_account(user_id: int) -> str:
    return f"plan_wallet:{int(user_id)}:custody"


def claim_payable(claim_id: int) -> str:
    return f"plan_claim:{int(claim_id)}:custody"


# Money leaving custody: payouts to patients (and wallet refunds), and the management fee.
PAYOUT_CLEARING = "custodian:plan_payout_clearing"
FEE_CLEARING = "custodian:plan_fee_clearing"
PAYBACK_DUE = "custodian:plan_payback_clearing"
REFUND_SUBMITTED = "custodian:plan_refund_submitted_clearing"
