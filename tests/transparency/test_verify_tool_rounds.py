"""The outsider's verifier on mutual-aid rounds: a real round's leaf holds together (the
cases, the fee, the cap, the total, the share and remainder) and a share changed in transit is
named; a next round whose remainder offset does not move on by the last one's remainder, and
an uncapped round granting less than asked, are named too."""
from __future__ import annotations

import json

from tests.mutual_aid.conftest import announce, members, owe, plan  # noqa: F401 (fixture)
from tests.transparency.test_verify_tool import client_fetch, integrate, verify  # noqa: F401

import ledger_http  # noqa: E402  (tools/, put on the path by test_verify_tool)
import ledger_leaves  # noqa: E402


def _rounds(app, rewrite=None) -> list[dict]:
    fetch = client_fetch(app, rewrite)
    size = json.loads(fetch("GET", "/api/v1/transparency/leaves?start=0&end=0").body)["tree_size"]
    leaves = json.loads(fetch("GET", f"/api/v1/transparency/leaves?start=0&end={size}").body)
    return [json.loads(item["leaf"]) for item in leaves["leaves"]
            if json.loads(item["leaf"])["type"] == "mutual_aid_round"]


def _changed_round(change):
    def rewrite(path, response):
        if not path.startswith("/api/v1/transparency/leaves"):
            return response
        body = json.loads(response.body)
        for item in body["leaves"]:
            leaf = json.loads(item["leaf"])
            if leaf["type"] == "mutual_aid_round":
                change(leaf)
                item["leaf"] = json.dumps(leaf, sort_keys=True, separators=(",", ":"),
                                          ensure_ascii=False)
        return ledger_http.Response(200, json.dumps(body).encode(), "application/json")
    return rewrite


def test_real_rounds_hold_together_and_a_changed_share_is_named(app, plan, run_jobs):  # noqa: F811
    members(plan, 3)
    owe(plan, 10_01, 5_00)
    first = announce(plan, run_jobs)
    integrate()
    code, lines = verify(app)
    assert code == 0, lines
    [leaf] = _rounds(app)
    assert leaf["round"] == first.id and leaf["remainder"] == leaf["total_fen"] % 3

    def one_fen_more(leaf):
        leaf["share_fen"] += 1

    code, lines = verify(app, rewrite=_changed_round(one_fen_more))
    assert code == 1
    assert any(line.endswith(
        f"round {first.id}: share {leaf['share_fen'] + 1} and remainder {leaf['remainder']} "
        f"are not {leaf['total_fen']} fen shared by 3") for line in lines), lines

    expected = (leaf["remainder_offset"] + leaf["remainder"]) % 3
    for offset, findings in ((expected, []), ((expected + 1) % 3, [
            f"leaf 1: round {leaf['round'] + 1}: remainder offset {(expected + 1) % 3} does "
            f"not follow round {leaf['round']}'s ({expected})"])):
        second = {**leaf, "round": leaf["round"] + 1, "number": leaf["number"] + 1,
                  "remainder_offset": offset}
        replay = ledger_leaves.LedgerReplay()
        for index, each in enumerate((leaf, second)):
            replay.add(index, json.dumps(each, sort_keys=True, separators=(",", ":"),
                                         ensure_ascii=False))
        assert replay.findings == findings


def test_an_uncapped_round_granting_less_than_asked_is_named():
    leaf = {"v": 1, "type": "mutual_aid_round", "round": 4, "plan": 1, "number": 1,
            "time": "2000-01-01T00:00:00Z", "announced_on": "2000-01-01", "members_sharing": 3,
            "cases": [{"item": 1, "kind": "claim", "claim": 2, "requested_fen": 900,
                       "granted_fen": 800}],
            "items_requested_fen": 900, "fee_requested_fen": 9, "fee_fen": 9,
            "cap_room_fen": 100_00, "capped": False, "total_fen": 809, "share_fen": 269,
            "remainder": 2, "remainder_offset": 0}
    replay = ledger_leaves.LedgerReplay()
    replay.add(0, json.dumps(leaf, sort_keys=True, separators=(",", ":")))
    assert replay.findings == ["leaf 0: round 4: total 809 fen is not what was asked within "
                               "the cap"]
    leaf.update(total_fen=909, share_fen=303, remainder=0)
    replay = ledger_leaves.LedgerReplay()
    replay.add(0, json.dumps(leaf, sort_keys=True, separators=(",", ":")))
    assert replay.findings == ["leaf 0: round 4: cases granted 800 fen and fee 9 do not make 909"]
