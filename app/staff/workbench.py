"""What waits for finance on the staff index (财务工作台): withdrawals to countersign or release,
mutual-aid claim payouts to verify, countersign or release, payees to verify. Read only; each
item links to the page where finance acts."""
from __future__ import annotations

from dataclasses import dataclass, field

from app.mutual_aid import claim_payouts
from app.payouts import disclosure as payout_queries
from app.payouts import withdrawal_decisions
from app.payouts.models import WithdrawalStatus

FINANCE_STEPS = {"countersign": "等待财务复核（大额）", "release": "等待财务放款"}
CLAIM_FINANCE_STEPS = {"verify": "等待财务核实收款账户", **FINANCE_STEPS}


@dataclass(frozen=True)
class WaitingItem:
    id: int
    campaign_id: int | None
    amount_fen: int
    step: str
    label: str


@dataclass
class FinanceWork:
    withdrawals: list[WaitingItem] = field(default_factory=list)
    claim_payouts: list[WaitingItem] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.withdrawals) + len(self.claim_payouts)


def finance_work() -> FinanceWork:
    work = FinanceWork()
    for withdrawal in payout_queries.withdrawals_in(WithdrawalStatus.approved):
        step = withdrawal_decisions.waiting_for(withdrawal)
        if step in FINANCE_STEPS:
            work.withdrawals.append(WaitingItem(withdrawal.id, withdrawal.campaign_id,
                                                withdrawal.amount_fen, step, FINANCE_STEPS[step]))
    for claim in claim_payouts.claims_to_pay():
        step = claim_payouts.waiting_for(claim)
        if step in CLAIM_FINANCE_STEPS:
            work.claim_payouts.append(WaitingItem(claim.id, None,
                                                  claim_payouts.payable_fen(claim.id), step,
                                                  CLAIM_FINANCE_STEPS[step]))
    return work
