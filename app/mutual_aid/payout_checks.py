"""`ledger verify` checks of claim payouts (claim_payouts.py), registered beside the plan's own:

- each claim's own account (plan_claim:<id>:custody, 待打款) = what rounds distributed to the
  claim − what its payouts took (bank: once paid; WeChat: from release, unless it came back),
  never negative, and 0 once the claim is 已打款;
- a paid bank payout has exactly its plan_claim_payout posting of its amount, and no other
  payout has one;
- a released, paid or failed WeChat payout has its 商家转账 of the same amount, open, succeeded
  or returned respectively.
"""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select

from app.extensions import db
from app.ledger.models import Account, Entry
from app.ledger.services import moved_by_source_ref
from app.mutual_aid.claim_payouts import SOURCE_PAID, TRANSFER_PURPOSE
from app.mutual_aid.models import Claim, ClaimStatus
from app.mutual_aid.money_models import ItemKind, RoundItem
from app.mutual_aid.payout_models import ClaimPayout, PayeeKind, PayoutState as P
from app.payouts.transfer_models import OPEN_TRANSFERS, PersonTransfer, TransferStatus


def claim_payout_problems() -> list[str]:
    ledger = {int(code.split(":")[1]): int(total) for code, total in db.session.execute(
        select(Account.code, func.sum(Entry.amount_fen)).join(Entry.account)
        .where(Account.code.startswith("plan_claim:")).group_by(Account.code))}
    expected: dict[int, int] = defaultdict(int)
    for claim_id, total in db.session.execute(
            select(RoundItem.claim_id, func.sum(RoundItem.distributed_fen))
            .where(RoundItem.kind == ItemKind.claim, RoundItem.claim_id.is_not(None))
            .group_by(RoundItem.claim_id)):
        expected[claim_id] += int(total)
    moved = moved_by_source_ref(SOURCE_PAID)
    transfers = {int(t.purpose_ref): t for t in db.session.scalars(select(PersonTransfer).where(
        PersonTransfer.purpose == TRANSFER_PURPOSE))}
    matching = {P.released: OPEN_TRANSFERS, P.paid: (TransferStatus.succeeded,),
                P.failed: (TransferStatus.returned,)}
    problems = []
    for payout in db.session.scalars(select(ClaimPayout).order_by(ClaimPayout.id)):
        if payout.payee_kind == PayeeKind.wechat.value:
            transfer = transfers.pop(payout.id, None)
            if payout.status in (P.released, P.paid):
                expected[payout.claim_id] -= payout.amount_fen
            if payout.status != P.approved and (
                    transfer is None or transfer.amount_fen != payout.amount_fen
                    or transfer.status not in matching[payout.status]):
                problems.append(f"claim payout {payout.id} ({payout.status.value}): its 商家转账 "
                                "is missing, of another amount or in another state")
            continue
        booked = moved.pop(payout.transfer_id or "", None)
        if payout.status == P.paid:
            expected[payout.claim_id] -= payout.amount_fen
            if booked != payout.amount_fen:
                problems.append(f"paid claim payout {payout.id} of {payout.amount_fen} fen: "
                                f"ledger moved {booked}")
        elif booked is not None:
            problems.append(f"claim payout {payout.id} is {payout.status.value} but the "
                            "ledger paid it")
    problems += [f"ledger claim payout {ref} has no payout" for ref in moved]
    problems += [f"claim 商家转账 for payout {ref} has no payout" for ref in transfers]
    paid_claims = set(db.session.scalars(select(Claim.id).where(
        Claim.status == ClaimStatus.paid)))
    for claim_id in sorted(set(expected) | set(ledger)):
        actual = ledger.get(claim_id, 0)
        if actual != expected.get(claim_id, 0):
            problems.append(f"claim {claim_id}: its account holds {actual} fen, distributions "
                            f"less payouts say {expected.get(claim_id, 0)}")
        if actual < 0:
            problems.append(f"claim {claim_id}: its account is overdrawn ({actual} fen)")
        if claim_id in paid_claims and actual != 0:
            problems.append(f"claim {claim_id} is 已打款 but its account holds {actual} fen")
    return problems
