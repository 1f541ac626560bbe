#!/usr/bin/env python3
"""Check Xiangzhu's public ledger yourself (docs/transparency.md; usage in tools/README.md).

    python tools/verify_ledger.py URL --key VERIFIER_KEY [--state FILE] [--witness KEY]…
    python tools/verify_ledger.py witness URL --key LOG_KEY --witness-key SIGNER_KEY --state FILE
    python tools/verify_ledger.py keygen NAME

It downloads the latest signed checkpoint and every leaf, recomputes the tree, checks the
signature, every signed checkpoint the platform still serves, the consistency with every
checkpoint it verified on earlier runs (kept in --state), a sample of the platform's inclusion
proofs, and each campaign's raised, withdrawn, fee and balance figures against /api/v1 and the
campaign page. One line per finding; exit status 1 on any finding, 0 with a summary line when
everything agrees, 2 when the platform could not be asked.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from dataclasses import dataclass, field

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import ledger_leaves  # noqa: E402
import platform_figures  # noqa: E402
import tlog  # noqa: E402
from ledger_http import Fetch, LogClient, Refused, Unreachable, http_fetch  # noqa: E402

PAGE = 1000          # leaves per request (the route's maximum)
FIGURE_NAMES = {"raised_fen": "raised", "donation_count": "donations",
                "withdrawn_fen": "withdrawn", "fee_fen": "fee", "balance_fen": "balance"}


@dataclass
class Outcome:
    findings: list[str] = field(default_factory=list)
    summary: str = ""
    verified: tlog.Checkpoint | None = None  # the latest checkpoint, if the log itself held
    note_text: str = ""


def load_state(path: str | None) -> dict:
    if not path or not os.path.exists(path):
        return {"checkpoints": []}
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def save_state(path: str, state: dict) -> None:
    temporary = path + ".tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(state, handle, ensure_ascii=False, indent=1)
    os.replace(temporary, path)


def verified_checkpoint(note: tlog.Note, key: tlog.Verifier) -> tlog.Checkpoint:
    """The note's checkpoint, once its signature by the log's key verifies (raises otherwise)."""
    tlog.verify_note(note, key)
    checkpoint = tlog.parse_checkpoint(note.text)
    if checkpoint.origin != key.name:
        raise tlog.FormatError(f"origin {checkpoint.origin!r} is not the key's name {key.name!r}")
    return checkpoint


def roots_at(hashes: list[bytes], sizes) -> dict[int, bytes]:
    """The roots, recomputed from the leaves, of the tree at each of the sizes asked for."""
    wanted = {s for s in sizes if 0 <= s <= len(hashes)}
    roots = {0: tlog.EMPTY_ROOT} if 0 in wanted else {}
    builder = tlog.TreeBuilder()
    for digest in hashes:
        builder.append(digest)
        if builder.size in wanted:
            roots[builder.size] = builder.root()
    return roots


def download_leaves(client: LogClient, size: int, findings: list[str]) -> list[str]:
    texts: list[str] = []
    while len(texts) < size:
        page = client.leaves(len(texts), min(size, len(texts) + PAGE))
        if not page:
            findings.append(f"log: the platform serves {len(texts)} leaves of {size}")
            break
        for item in page:
            if not isinstance(item, dict) or item.get("index") != len(texts) or \
                    not isinstance(item.get("leaf"), str):
                findings.append(f"log: leaf {len(texts)} is not served as "
                                "{index, leaf} in order")
                return texts
            texts.append(item["leaf"])
    return texts


def list_checkpoints(client: LogClient, most: int | None) -> list[dict]:
    """The signed checkpoints the platform lists, newest first (paged): `most` of them, or all
    when None."""
    items, before = [], None
    while most is None or len(items) < most:
        page = client.checkpoints(before=before)
        items += [item for item in page["checkpoints"] if isinstance(item, dict)]
        after = page.get("next_before")
        if type(after) is not int or after <= 0 or (before is not None and after >= before):
            break  # the end (or a server paging in circles)
        before = after
    return items if most is None else items[:most]


def check_history(items: list[dict], key: tlog.Verifier, roots: dict[int, bytes],
                  latest: tlog.Checkpoint, findings: list[str]) -> int:
    """Every signed checkpoint the platform lists must verify and match the leaves; two of one
    size with different roots are a split view. Returns how many were checked."""
    seen: dict[int, bytes] = {latest.size: latest.root}
    checked = 0
    for item in items:
        try:
            checkpoint = verified_checkpoint(tlog.parse_note(item["note"]), key)
        except (tlog.FormatError, tlog.SignatureError, KeyError, TypeError) as error:
            findings.append(f"checkpoint {item.get('tree_size')}: {error}")
            continue
        checked += 1
        if checkpoint.size > latest.size:
            findings.append(f"checkpoint {checkpoint.size}: signed, yet larger than the "
                            f"latest checkpoint {latest.size}")
        elif seen.setdefault(checkpoint.size, checkpoint.root) != checkpoint.root:
            findings.append(f"split view: two signed checkpoints of size {checkpoint.size} "
                            "with different roots")
        elif checkpoint.size in roots and roots[checkpoint.size] != checkpoint.root:
            findings.append(f"checkpoint {checkpoint.size}: its root is not the root of "
                            f"the first {checkpoint.size} leaves")
    return checked


def served_root(client: LogClient, key: tlog.Verifier, size: int) -> bytes | None:
    """The root of the signed checkpoint of `size` the platform serves now (None: none)."""
    try:
        return verified_checkpoint(client.checkpoint_note(size), key).root
    except Refused:
        return None


def check_state(client: LogClient, key: tlog.Verifier, state: dict, latest: tlog.Checkpoint,
                roots: dict[int, bytes], findings: list[str]) -> int:
    """Consistency of the latest checkpoint with every one verified on an earlier run."""
    count = 0
    for saved in state.get("checkpoints", []):
        size, root = saved["tree_size"], tlog.b64decode(saved["root_hash"])
        if size > latest.size:
            findings.append(f"tree shrank: size {size} was verified before, the latest "
                            f"checkpoint is size {latest.size}")
        elif size == latest.size and root != latest.root:
            findings.append(f"split view: the checkpoint of size {size} has a different root "
                            "from the one verified before")
        elif 0 < size < latest.size:
            served = served_root(client, key, size)
            if served is not None and served != root:
                findings.append(f"split view: the platform's checkpoint of size {size} has a "
                                "different root from the one verified before")
            try:
                proof = client.consistency(size, latest.size)
            except Refused as refused:
                findings.append(f"consistency {size}→{latest.size}: the platform gives no "
                                f"proof ({refused})")
                continue
            if not tlog.consistent(size, latest.size, root, latest.root, proof):
                findings.append(f"consistency {size}→{latest.size}: the proof does not connect "
                                "the checkpoint verified before to the latest one")
            if roots.get(size, root) != root:
                findings.append(f"consistency {size}→{latest.size}: the first {size} leaves no "
                                "longer give the root verified before")
        count += 1
    return count


def check_inclusion(client: LogClient, hashes: list[bytes], latest: tlog.Checkpoint,
                    sample: int, findings: list[str]) -> int:
    indices = sorted(set(random.sample(range(latest.size), min(sample, latest.size)))
                     | ({latest.size - 1} if latest.size and sample else set()))
    for index in indices:
        try:
            served_hash, path = client.inclusion(index, latest.size)
        except Refused as refused:
            findings.append(f"inclusion {index}: the platform gives no proof ({refused})")
            continue
        if served_hash != hashes[index]:
            findings.append(f"inclusion {index}: the platform's leaf hash is not the leaf's")
        try:
            root = tlog.root_from_inclusion(index, latest.size, hashes[index], path)
        except tlog.ProofError as error:
            findings.append(f"inclusion {index}: {error}")
            continue
        if root != latest.root:
            findings.append(f"inclusion {index}: the audit path does not lead to the root")
    return len(indices)


def check_campaigns(client: LogClient, replay: ledger_leaves.LedgerReplay,
                    findings: list[str]) -> int:
    for campaign_id, ours in sorted(replay.campaigns.items()):
        computed = vars(ours)
        for source, said in (("/api/v1", platform_figures.from_api(client, campaign_id)),
                             ("page", platform_figures.from_page(client, campaign_id))):
            if said is None:
                if ours.balance_fen or ours.raised_fen:
                    findings.append(f"campaign {campaign_id}: the log holds its money, "
                                    f"{source} does not show the campaign")
                continue
            if source == "page" and not said:
                findings.append(f"campaign {campaign_id}: the page shows no 资金公示")
            for name, value in said.items():
                if value != computed[name]:
                    findings.append(f"campaign {campaign_id}: {FIGURE_NAMES[name]} {source} "
                                    f"says {value}, the log says {computed[name]}")
    for campaign_id, said in sorted(platform_figures.live_campaigns(client).items()):
        if campaign_id not in replay.campaigns and (said.get("raised_fen") or
                                                    said.get("donation_count")):
            findings.append(f"campaign {campaign_id}: raised /api/v1 says "
                            f"{said.get('raised_fen')}, the log holds none of its money")
    return len(replay.campaigns)


def check_witnesses(notes: list[tlog.Note], witnesses: list[tlog.Verifier],
                    findings: list[str]) -> list[str]:
    """Each required witness must have cosigned one of the signed checkpoints (whose roots are
    checked against the leaves); returns 'name at size n' of the largest each cosigned."""
    cosigned = []
    for witness in witnesses:
        sizes = []
        for note in notes:
            try:
                tlog.verify_cosignature(note, witness)
                sizes.append(tlog.parse_checkpoint(note.text).size)
            except (tlog.SignatureError, tlog.FormatError):
                continue
        if sizes:
            cosigned.append(f"{witness.name} at size {max(sizes)}")
        else:
            findings.append(f"witness {witness.name}: no valid cosignature on any checkpoint")
    return cosigned


def parsed_notes(items: list[dict]) -> list[tlog.Note]:
    notes = []
    for item in items:
        try:
            notes.append(tlog.parse_note(item["note"]))
        except (tlog.FormatError, KeyError, TypeError):
            continue  # reported by check_history
    return notes


def verify(fetch: Fetch, key: tlog.Verifier, state: dict, sample: int = 8,
           witnesses: list[tlog.Verifier] = (), history: int | None = None) -> Outcome:
    client, outcome = LogClient(fetch), Outcome()
    findings = outcome.findings
    if state.get("origin", key.name) != key.name:
        findings.append(f"state: the state file is of log {state['origin']!r}, not {key.name!r}")
        return outcome
    try:
        note = client.checkpoint_note()
        latest = verified_checkpoint(note, key)
    except (tlog.FormatError, tlog.SignatureError) as error:
        findings.append(f"checkpoint: {error}")
        return outcome
    texts = download_leaves(client, latest.size, findings)
    hashes = [tlog.leaf_hash(text.encode("utf-8", errors="surrogatepass")) for text in texts]
    replay = ledger_leaves.LedgerReplay()
    for index, text in enumerate(texts):
        replay.add(index, text)
    findings += replay.findings
    if len(texts) < latest.size:
        return outcome
    listed = list_checkpoints(client, history)
    sizes = {s["tree_size"] for s in state.get("checkpoints", [])} | {
        item["tree_size"] for item in listed if type(item.get("tree_size")) is int}
    roots = roots_at(hashes, sizes | {latest.size})
    if roots[latest.size] != latest.root:
        findings.append(f"checkpoint {latest.size}: its root is not the root of the leaves")
    checked = check_history(listed, key, roots, latest, findings)
    cosigned = check_witnesses([note] + parsed_notes(listed), list(witnesses), findings)
    earlier = check_state(client, key, state, latest, roots, findings)
    proofs = check_inclusion(client, hashes, latest, sample, findings)
    log_holds = not findings
    campaigns = check_campaigns(client, replay, findings)
    if log_holds:
        outcome.verified, outcome.note_text = latest, note.serialize()
    outcome.summary = (f"OK {latest.origin} size {latest.size} root "
                       f"{tlog.b64encode(latest.root)}: {len(texts)} leaves recomputed, "
                       f"{checked} signed checkpoints match, consistent with {earlier} seen "
                       f"before, {proofs} inclusion proofs hold, {campaigns} campaigns agree"
                       + "".join(f"; cosigned by {w}" for w in cosigned))
    return outcome


def remember(state: dict, outcome: Outcome) -> dict:
    checkpoint = outcome.verified
    kept = [c for c in state.get("checkpoints", []) if c["tree_size"] != checkpoint.size]
    kept.append({"tree_size": checkpoint.size, "root_hash": tlog.b64encode(checkpoint.root),
                 "note": outcome.note_text, "verified_at": int(time.time())})
    return {**state, "origin": checkpoint.origin,
            "checkpoints": sorted(kept, key=lambda c: c["tree_size"])}


def run_verify(fetch: Fetch, key: tlog.Verifier, state_path: str | None, sample: int = 8,
               merge_delay: float = 0, out=None, witnesses: list[tlog.Verifier] = (),
               history: int | None = None) -> int:
    out = out or sys.stdout
    state = load_state(state_path)
    outcome = verify(fetch, key, state, sample, witnesses, history)
    if outcome.verified and outcome.findings and merge_delay > 0:
        # Only campaign figures disagree: the log may not have integrated the newest postings
        # yet (its maximum merge delay). Ask again once that has passed.
        time.sleep(merge_delay)
        outcome = verify(fetch, key, state, sample, witnesses, history)
    for finding in outcome.findings:
        print(finding, file=out)
    if outcome.verified and state_path:
        save_state(state_path, remember(state, outcome))
    if outcome.findings:
        return 1
    print(outcome.summary, file=out)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("witness", "keygen"):
        import ledger_witness

        return ledger_witness.main(argv)
    parser = argparse.ArgumentParser(prog="verify_ledger.py", description=__doc__.split("\n")[0])
    parser.add_argument("url", help="the platform's base URL, e.g. https://xiangzhu.example")
    parser.add_argument("--key", required=True, help="the log's verifier key (README)")
    parser.add_argument("--state", help="JSON file of checkpoints verified before (kept)")
    parser.add_argument("--sample", type=int, default=8, help="inclusion proofs to check")
    parser.add_argument("--witness", action="append", default=[], metavar="WITNESS_KEY",
                        help="a witness's verifier key (repeatable): it must have cosigned a "
                             "checkpoint")
    parser.add_argument("--history", type=int, default=1000,
                        help="how many of the newest signed checkpoints to check (0: all)")
    parser.add_argument("--merge-delay", type=float, default=60,
                        help="seconds to wait before asking again when only figures differ")
    args = parser.parse_args(argv)
    try:
        key = tlog.parse_verifier_key(args.key)
        witnesses = [tlog.parse_verifier_key(w, tlog.COSIGNATURE_V1) for w in args.witness]
    except tlog.FormatError as error:
        parser.error(f"--key / --witness: {error}")
    try:
        return run_verify(http_fetch(args.url), key, args.state, args.sample, args.merge_delay,
                          witnesses=witnesses, history=args.history or None)
    except (Unreachable, Refused) as error:
        print(f"could not check the ledger: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
