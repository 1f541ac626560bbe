"""Each apportionment round's inputs as a leaf of the public ledger log (docs/transparency.md,
`mutual_aid_round`), so a member can recompute their own share from the log alone:
share = share_fen + (1 if (position − remainder_offset) mod members_sharing < remainder), their
position being their rank by membership number among the members sharing (on their charge).

A round becomes a leaf once its figures are computed (announced or closed); what the leaf holds
never changes afterwards. No personal data: item and claim numbers, never a name or a user."""
from __future__ import annotations

from sqlalchemy import Select, select

from app.extensions import db
from app.mutual_aid.money_models import COMPUTED, Round, RoundItem
from app.transparency.leaves import leaf_time
from app.transparency.sources import LeafSource

LEAF_TYPE = "mutual_aid_round"


def pending_rounds(integrated: Select) -> list[int]:
    return list(db.session.scalars(select(Round.id).where(
        Round.status.in_(COMPUTED), Round.computed_at.is_not(None),
        Round.id.not_in(integrated)).order_by(Round.id)))


def round_fields(ids: list[int]) -> dict[int, dict]:
    rounds = db.session.scalars(select(Round).where(Round.id.in_(ids))).all()
    items: dict[int, list[dict]] = {round_.id: [] for round_ in rounds}
    for item in db.session.scalars(select(RoundItem).where(RoundItem.round_id.in_(ids))
                                   .order_by(RoundItem.id)):
        items[item.round_id].append({"item": item.id, "kind": item.kind.value,
                                     "claim": item.claim_id, "requested_fen": item.requested_fen,
                                     "granted_fen": item.granted_fen})
    return {round_.id: {
        "round": round_.id, "plan": round_.plan_id, "number": round_.number,
        "time": leaf_time(round_.computed_at), "announced_on": round_.announced_on.isoformat(),
        "members_sharing": round_.members, "cases": items[round_.id],
        "items_requested_fen": round_.items_requested_fen,
        "fee_requested_fen": round_.fee_requested_fen, "fee_fen": round_.fee_fen,
        "cap_room_fen": round_.cap_room_fen, "capped": bool(round_.capped),
        "total_fen": round_.total_fen, "share_fen": round_.base_share_fen,
        "remainder": round_.remainder, "remainder_offset": round_.remainder_offset,
    } for round_ in rounds}


LEAF_SOURCE = LeafSource(LEAF_TYPE, pending_rounds, round_fields)
