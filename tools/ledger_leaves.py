"""The log's leaves as docs/transparency.md defines them: canonical JSON, checked field by field,
and each campaign's figures recomputed from the legs of its custody account.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
REF = re.compile(r"[0-9a-f]{64}")
CAMPAIGN_CUSTODY = re.compile(r"campaign:([1-9][0-9]*):custody")
TRANSACTION_FIELDS = {"v", "type", "txn", "time", "kind", "ref", "reverses", "legs"}
# What a mutual-aid round's leaf holds (app/mutual_aid's leaf source, apportionment rules):
# shares of total_fen over members_sharing, base share_fen plus one fen for `remainder` members
# counted from remainder_offset, which moves on by the last round's remainder.
ROUND_FIELDS = {"v", "type", "round", "plan", "number", "time", "announced_on",
                "members_sharing", "cases", "items_requested_fen", "fee_requested_fen",
                "fee_fen", "cap_room_fen", "capped", "total_fen", "share_fen", "remainder",
                "remainder_offset"}
CASE_FIELDS = {"item", "kind", "claim", "requested_fen", "granted_fen"}
# Source types (the leaf's kind) behind each public figure of a campaign (app/ledger, payments,
# payouts): a donation's payment into custody, a paid withdrawal out of it, WeChat Pay's fee
# on a donation and the part of it WeChat returns with a refund. A reversal counts with the
# kind of the transaction it reverses.
RAISED_KINDS = frozenset({"payment"})
WITHDRAWN_KINDS = frozenset({"withdrawal"})
FEE_KINDS = frozenset({"channel_fee", "channel_fee_return"})


class LeafError(ValueError):
    pass


def _no_float(text: str):
    raise LeafError(f"a number that is not an integer: {text}")


def _no_constant(text: str):
    raise LeafError(f"{text} is not JSON")


def _no_duplicate_keys(pairs):
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise LeafError("a key appears twice")
    return dict(pairs)


def parse_canonical(text: str) -> dict:
    """The leaf's object; LeafError unless re-encoding it gives back exactly the same text."""
    try:
        obj = json.loads(text, parse_float=_no_float, parse_constant=_no_constant,
                         object_pairs_hook=_no_duplicate_keys)
    except LeafError:
        raise
    except ValueError as error:
        raise LeafError(f"not JSON ({error})") from error
    if not isinstance(obj, dict):
        raise LeafError("not a JSON object")
    if json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False) != text:
        raise LeafError("not in the canonical encoding (sorted keys, no spaces, UTF-8)")
    return obj


def is_int(value) -> bool:
    return type(value) is int


@dataclass
class Figures:
    raised_fen: int = 0
    donation_count: int = 0
    withdrawn_fen: int = 0
    fee_fen: int = 0
    balance_fen: int = 0


@dataclass
class LedgerReplay:
    """Every leaf, in order: what is wrong with each, and each campaign's figures."""

    findings: list[str] = field(default_factory=list)
    campaigns: dict[int, Figures] = field(default_factory=dict)
    transactions: dict[int, tuple[int, str, list[tuple[str, int]]]] = field(default_factory=dict)
    rounds: int = 0
    last_round_of_plan: dict[int, dict] = field(default_factory=dict)

    def add(self, index: int, text: str) -> None:
        try:
            leaf = parse_canonical(text)
            kind = leaf.get("type")
            if kind == "ledger_transaction":
                self._transaction(index, leaf)
            elif kind == "mutual_aid_round":
                self._round(leaf)
            else:
                raise LeafError(f"unknown leaf type {kind!r}")
        except LeafError as error:
            self.findings.append(f"leaf {index}: {error}")

    def _round(self, leaf: dict) -> None:
        """A mutual-aid round's inputs: its figures must follow from one another as the
        apportionment defines them, so a member's share can be recomputed from the leaf."""
        if leaf.keys() != ROUND_FIELDS:
            raise LeafError(f"fields {sorted(leaf.keys())} are not {sorted(ROUND_FIELDS)}")
        if leaf["v"] != 1 or not TIME.fullmatch(str(leaf["time"])):
            raise LeafError("a mutual_aid_round leaf of another version or time format")
        figures = {name: leaf[name] for name in ROUND_FIELDS - {"v", "type", "time", "cases",
                                                                "capped", "announced_on"}}
        cases = leaf["cases"]
        if not all(is_int(value) for value in figures.values()) or not isinstance(cases, list) \
                or not all(isinstance(c, dict) and c.keys() == CASE_FIELDS
                           and is_int(c["requested_fen"]) and is_int(c["granted_fen"])
                           for c in cases):
            raise LeafError(f"round {leaf['round']}: its figures are not integers")
        members, total = leaf["members_sharing"], leaf["total_fen"]
        requested = sum(c["requested_fen"] for c in cases)
        granted = sum(c["granted_fen"] for c in cases)
        wanted = leaf["items_requested_fen"] + leaf["fee_requested_fen"]
        capped = wanted > leaf["cap_room_fen"] * members
        problems = [
            (members >= 1, "no member shares it"),
            (requested == leaf["items_requested_fen"],
             f"its cases ask {requested} fen, it says {leaf['items_requested_fen']}"),
            (leaf["capped"] is capped, f"capped is {leaf['capped']} although "
                                       f"{wanted} fen is asked of room for {members} members"),
            (total == (leaf["cap_room_fen"] * members if capped else wanted),
             f"total {total} fen is not what was asked within the cap"),
            (granted + leaf["fee_fen"] == total,
             f"cases granted {granted} fen and fee {leaf['fee_fen']} do not make {total}"),
            (capped or (granted == requested and leaf["fee_fen"] == leaf["fee_requested_fen"]),
             "not capped, yet less was granted than asked"),
            (members >= 1 and divmod(total, members) == (leaf["share_fen"], leaf["remainder"]),
             f"share {leaf['share_fen']} and remainder {leaf['remainder']} are not {total} "
             f"fen shared by {members}"),
            (members >= 1 and 0 <= leaf["remainder_offset"] < members,
             f"remainder offset {leaf['remainder_offset']} is not a position"),
        ]
        previous = self.last_round_of_plan.get(leaf["plan"])
        if previous is not None and members >= 1 and previous["number"] < leaf["number"]:
            expected = (previous["remainder_offset"] + previous["remainder"]) % members
            problems.append((leaf["remainder_offset"] == expected,
                             f"remainder offset {leaf['remainder_offset']} does not follow "
                             f"round {previous['round']}'s ({expected})"))
        for holds, problem in problems:
            if not holds:
                raise LeafError(f"round {leaf['round']}: {problem}")
        self.last_round_of_plan[leaf["plan"]] = leaf
        self.rounds += 1

    def _transaction(self, index: int, leaf: dict) -> None:
        if leaf.keys() != TRANSACTION_FIELDS:
            raise LeafError(f"fields {sorted(leaf.keys())} are not {sorted(TRANSACTION_FIELDS)}")
        if leaf["v"] != 1 or not is_int(leaf["v"]):
            raise LeafError(f"version {leaf['v']!r} is not 1")
        txn, kind, reverses = leaf["txn"], leaf["kind"], leaf["reverses"]
        if not is_int(txn) or txn <= 0:
            raise LeafError(f"transaction id {txn!r} is not a positive integer")
        if not isinstance(kind, str) or not kind:
            raise LeafError("kind is not a source type")
        if not isinstance(leaf["time"], str) or not TIME.fullmatch(leaf["time"]):
            raise LeafError(f"time {leaf['time']!r} is not YYYY-MM-DDTHH:MM:SSZ")
        if not isinstance(leaf["ref"], str) or not REF.fullmatch(leaf["ref"]):
            raise LeafError("ref is not 64 lowercase hex")
        legs = self._legs(leaf["legs"])
        if txn in self.transactions:
            raise LeafError(f"transaction {txn} is already leaf {self.transactions[txn][0]}")
        counted_as = kind
        if reverses is not None:
            if not is_int(reverses) or reverses not in self.transactions:
                raise LeafError(f"reverses transaction {reverses!r}, which no earlier leaf holds")
            _, counted_as, original = self.transactions[reverses]
            if sorted((a, -f) for a, f in original) != sorted(legs):
                raise LeafError(f"its legs are not the mirror image of transaction {reverses}")
        self.transactions[txn] = (index, counted_as, legs)
        self._count(counted_as, reverses is not None, legs)

    @staticmethod
    def _legs(legs) -> list[tuple[str, int]]:
        if not isinstance(legs, list) or len(legs) < 2:
            raise LeafError("a transaction has at least two legs")
        out = []
        for leg in legs:
            if not isinstance(leg, dict) or leg.keys() != {"account", "fen"}:
                raise LeafError("a leg is {account, fen}")
            if not isinstance(leg["account"], str) or not leg["account"]:
                raise LeafError("a leg's account is not an account code")
            if not is_int(leg["fen"]) or leg["fen"] == 0:
                raise LeafError(f"a leg's amount {leg['fen']!r} is not a non-zero integer of fen")
            out.append((leg["account"], leg["fen"]))
        total = sum(fen for _, fen in out)
        if total != 0:
            raise LeafError(f"legs sum to {total} fen, not zero")
        return out

    def _count(self, kind: str, reversal: bool, legs: list[tuple[str, int]]) -> None:
        for account, fen in legs:
            match = CAMPAIGN_CUSTODY.fullmatch(account)
            if match is None:
                continue
            figures = self.campaigns.setdefault(int(match.group(1)), Figures())
            figures.balance_fen += fen
            if kind in RAISED_KINDS:
                figures.raised_fen += fen
                figures.donation_count += -1 if reversal else 1
            elif kind in WITHDRAWN_KINDS:
                figures.withdrawn_fen -= fen
            elif kind in FEE_KINDS:
                figures.fee_fen -= fen
