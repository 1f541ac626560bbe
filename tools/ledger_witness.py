"""A witness of Xiangzhu's ledger log (c2sp.org/tlog-cosignature, cosignature/v1).

    python tools/verify_ledger.py witness URL --key LOG_KEY --witness-key SIGNER_KEY \\
        --state FILE [--once | --interval SECONDS]
    python tools/verify_ledger.py keygen NAME [--for witness|log]

Each poll it fetches the latest checkpoint, verifies the log's signature and, from the last
checkpoint it cosigned (kept in --state), the platform's consistency proof — verified here —
then cosigns with its own key and posts the cosigned note to the platform. It refuses, with an
ALARM line on stderr, a bad signature, a tree that shrank, a different root at a size it has
cosigned (a split view) and a checkpoint not consistent with the one it cosigned; it never
cosigns anything after such a checkpoint until an operator looks (--once exits 1).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable

import tlog
from ledger_http import Fetch, LogClient, Refused, Unreachable, http_fetch


class Alarm(Exception):
    """The log misbehaved: refuse to cosign and tell someone."""


def load(path: str) -> dict:
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def save(path: str, state: dict) -> None:
    temporary = path + ".tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(state, handle, ensure_ascii=False, indent=1)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def checked_checkpoint(note: tlog.Note, log_key: tlog.Verifier) -> tlog.Checkpoint:
    try:
        tlog.verify_note(note, log_key)
        checkpoint = tlog.parse_checkpoint(note.text)
    except (tlog.SignatureError, tlog.FormatError) as error:
        raise Alarm(f"bad signature: {error}") from error
    if checkpoint.origin != log_key.name:
        raise Alarm(f"bad signature: origin {checkpoint.origin!r} is not {log_key.name!r}")
    return checkpoint


def check_against_cosigned(client: LogClient, log_key: tlog.Verifier, cosigned: dict,
                           checkpoint: tlog.Checkpoint) -> None:
    size, root = cosigned["tree_size"], tlog.b64decode(cosigned["root_hash"])
    if checkpoint.size < size:
        raise Alarm(f"tree shrank: I cosigned size {size}, the log now says {checkpoint.size}")
    if checkpoint.size == size:
        if checkpoint.root != root:
            raise Alarm(f"split view: a different root at size {size}, which I cosigned")
        return
    try:
        served = checked_checkpoint(client.checkpoint_note(size), log_key)
    except Refused:
        served = None  # not served any more: the consistency proof below decides
    if served is not None and served.root != root:
        raise Alarm(f"split view: a different root at size {size}, which I cosigned")
    if size == 0:
        return
    try:
        proof = client.consistency(size, checkpoint.size)
    except Refused as refused:
        raise Alarm(f"inconsistent: no consistency proof {size}→{checkpoint.size} "
                    f"({refused})") from refused
    if not tlog.consistent(size, checkpoint.size, root, checkpoint.root, proof):
        raise Alarm(f"inconsistent: size {checkpoint.size} is not consistent with size {size}, "
                    "which I cosigned")


def witness_once(fetch: Fetch, log_key: tlog.Verifier, signer: tlog.Signer, state_path: str,
                 clock: Callable[[], float] = time.time, out=None) -> int:
    out = out or sys.stdout
    client, state = LogClient(fetch), load(state_path)
    if state and state.get("origin") != log_key.name:
        raise Alarm(f"the state file is of log {state.get('origin')!r}, not {log_key.name!r}")
    note = client.checkpoint_note()
    checkpoint = checked_checkpoint(note, log_key)
    cosigned = state.get("cosigned")
    if cosigned:
        check_against_cosigned(client, log_key, cosigned, checkpoint)
    if cosigned and cosigned["tree_size"] == checkpoint.size:
        text = cosigned["note"]  # already cosigned: offer it again (the platform is idempotent)
    else:
        line = tlog.cosign(signer, checkpoint.body, int(clock()))
        text = tlog.Note(note.text, tuple(note.by(log_key)) + (line,)).serialize()
        state = {"origin": log_key.name, "cosigned": {
            "tree_size": checkpoint.size, "root_hash": tlog.b64encode(checkpoint.root),
            "note": text, "cosigned_at": int(clock())}}
        save(state_path, state)  # persisted before the cosignature leaves this machine
    answer = client.post_cosignature(text)
    if answer.status not in (200, 201, 204):
        print(f"the platform did not take the cosignature of size {checkpoint.size}: HTTP "
              f"{answer.status} {answer.text()[:200]}", file=sys.stderr)
        return 1
    again = " (already cosigned, offered again)" if cosigned and \
        cosigned["tree_size"] == checkpoint.size else ""
    print(f"cosigned {checkpoint.origin} size {checkpoint.size} root "
          f"{tlog.b64encode(checkpoint.root)}{again}", file=out)
    return 0


def run(fetch: Fetch, log_key: tlog.Verifier, signer: tlog.Signer, state_path: str,
        interval: float | None) -> int:
    while True:
        try:
            code = witness_once(fetch, log_key, signer, state_path)
        except Alarm as alarm:
            print(f"ALARM: {alarm}", file=sys.stderr)
            code = 1
        except (Unreachable, Refused) as error:
            print(f"could not reach the log: {error}", file=sys.stderr)
            code = 2
        if interval is None:
            return code
        time.sleep(interval)


def keygen(name: str, purpose: str) -> int:
    signer = tlog.generate_signer(name, tlog.COSIGNATURE_V1 if purpose == "witness"
                                  else tlog.ED25519)
    print(signer.key_string())
    print(signer.verifier.key_string())
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="verify_ledger.py")
    commands = parser.add_subparsers(dest="command", required=True)
    witness = commands.add_parser("witness", help="cosign the log's checkpoints")
    witness.add_argument("url")
    witness.add_argument("--key", required=True, help="the log's verifier key")
    witness.add_argument("--witness-key", required=True,
                         help="this witness's signer key (PRIVATE+KEY+…, from keygen)")
    witness.add_argument("--state", required=True, help="JSON file: the last cosigned checkpoint")
    when = witness.add_mutually_exclusive_group()
    when.add_argument("--once", action="store_true", help="poll once (the default)")
    when.add_argument("--interval", type=float, help="poll every SECONDS, for ever")
    generate = commands.add_parser("keygen", help="print a new signer key and its verifier key")
    generate.add_argument("name", help="key name, e.g. witness.example.org/xiangzhu")
    generate.add_argument("--for", dest="purpose", choices=("witness", "log"), default="witness")
    args = parser.parse_args(argv)
    try:
        if args.command == "keygen":
            return keygen(args.name, args.purpose)
        log_key = tlog.parse_verifier_key(args.key)
        signer = tlog.parse_signer_key(args.witness_key, tlog.COSIGNATURE_V1)
    except tlog.FormatError as error:
        parser.error(str(error))
    return run(http_fetch(args.url), log_key, signer, args.state, args.interval)
