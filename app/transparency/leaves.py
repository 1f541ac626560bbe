"""The leaves of the log: the canonical encoding (docs/transparency.md, Leaves) and the keyed
reference that stands for a transaction's source without revealing it.

A leaf carries no personal data: account codes, amounts, the kind of source and a commitment
to its reference. The reference's opening (source_ref, salt) is only on the donor's receipt.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timezone

LEAF_VERSION = 1
LEDGER_TRANSACTION = "ledger_transaction"
REF_DOMAIN = b"xiangzhu-ledger-ref/v1\n"


def canonical(obj: dict, checked: bool = True) -> bytes:
    """UTF-8 JSON, keys sorted, no whitespace, non-ASCII as itself. Refuses floats (`checked`
    False: the caller built every value as int or str itself)."""
    if checked:
        _refuse_floats(obj)
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _refuse_floats(value) -> None:
    if isinstance(value, float):
        raise TypeError("leaves hold integers only (fen), never floats")
    if isinstance(value, dict):
        for item in value.values():
            _refuse_floats(item)
    elif isinstance(value, list):
        for item in value:
            _refuse_floats(item)


def leaf_time(moment: datetime) -> str:
    """UTC, to the second: YYYY-MM-DDTHH:MM:SSZ (SQLite hands back naive UTC datetimes)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def ref_salt(ref_key: bytes, kind: str, source_ref: str) -> str:
    """The opening's salt: HMAC-SHA256(ref key, kind ":" source_ref), lowercase hex. Keyed, so
    nobody can guess a donation's trade number from its leaf; deterministic, so the leaf can
    be re-encoded and checked at any time."""
    return hmac.new(ref_key, f"{kind}:{source_ref}".encode(), hashlib.sha256).hexdigest()


def ref_commitment(salt: str, kind: str, source_ref: str) -> str:
    return hashlib.sha256(REF_DOMAIN + f"{salt}\n{kind}\n{source_ref}".encode()).hexdigest()


def ledger_transaction_leaf(*, txn_id: int, created_at: datetime, kind: str, source_ref: str,
                            reverses_id: int | None, legs: list[tuple[str, int]],
                            ref_key: bytes) -> bytes:
    """The leaf of one ledger transaction; `legs` are (account code, signed fen) in entry id
    order. The memo never goes in (it may hold names)."""
    salt = ref_salt(ref_key, kind, source_ref)
    return canonical({
        "v": LEAF_VERSION, "type": LEDGER_TRANSACTION, "txn": int(txn_id),
        "time": leaf_time(created_at), "kind": kind,
        "ref": ref_commitment(salt, kind, source_ref),
        "reverses": None if reverses_id is None else int(reverses_id),
        "legs": [{"account": code, "fen": int(fen)} for code, fen in legs],
    }, checked=False)


def source_leaf(leaf_type: str, fields: dict) -> bytes:
    """The leaf of a registered leaf source's item (e.g. a mutual-aid round's inputs)."""
    return canonical({**fields, "v": LEAF_VERSION, "type": leaf_type})
