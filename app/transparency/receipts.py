"""What a donor's receipt carries (the 捐款凭证, the thank-you page): the leaf of their ledger
transaction, the opening of its keyed reference, and an inclusion proof against the latest
signed checkpoint — everything the in-browser 核验 needs. None until the transaction is
integrated (within the merge delay, docs/transparency.md)."""
from __future__ import annotations

import base64
from dataclasses import dataclass

from sqlalchemy import select

from app.extensions import db
from app.ledger.models import LedgerTransaction
from app.transparency import notes, proofs
from app.transparency.leaves import LEDGER_TRANSACTION, ref_salt
from app.transparency.models import Leaf


@dataclass(frozen=True)
class Receipt:
    leaf_index: int
    leaf: str              # the canonical JSON text of the leaf
    source_ref: str        # the opening: the source reference (a donation: its out_trade_no)
    salt: str              # … and its salt (lowercase hex)
    tree_size: int         # the latest signed checkpoint, which includes the leaf
    note: str              # its signed note, cosignatures included
    audit_path: list[str]  # base64 of each hash, RFC 6962 PATH(leaf_index, D[tree_size])
    leaf_hash: str         # base64


def receipt_for(kind: str, source_ref: str) -> Receipt | None:
    """The receipt of the ledger transaction posted for (kind, source_ref) — kind is the ledger
    source_type, "payment" for a donation — or None while it is not yet in a signed tree."""
    leaf = db.session.scalar(
        select(Leaf).join(LedgerTransaction, LedgerTransaction.id == Leaf.source_id)
        .where(Leaf.source_type == LEDGER_TRANSACTION, LedgerTransaction.source_type == kind,
               LedgerTransaction.source_ref == str(source_ref)))
    if leaf is None:
        return None
    checkpoint = proofs.latest_checkpoint()
    if checkpoint is None or checkpoint.tree_size <= leaf.index:
        return None
    try:
        leaf_hash, path = proofs.inclusion(leaf.index, checkpoint.tree_size)
    except proofs.ProofError:
        return None   # the stored tree lacks nodes: `ledger verify` says so; no receipt meanwhile
    return Receipt(leaf_index=leaf.index, leaf=leaf.leaf, source_ref=str(source_ref),
                   salt=ref_salt(notes.ref_key(), kind, str(source_ref)),
                   tree_size=checkpoint.tree_size, note=proofs.served_note(checkpoint),
                   audit_path=[base64.b64encode(h).decode() for h in path],
                   leaf_hash=base64.b64encode(leaf_hash).decode())


