"""The witness (tools/verify_ledger.py witness) against the real app: it cosigns a good
checkpoint (the platform then serves its cosignature/v1 line beside its own signature) and
the next one once the platform's consistency proof verifies; it refuses and alarms on a split
view, a checkpoint not consistent with the one it cosigned, a tree that shrank and a bad
signature — each served by a dishonest server in the middle with the log's real key — and
cosigns nothing more."""
from __future__ import annotations

import json

import pytest

from app.extensions import db
from app.ledger.services import CLEARING_WECHAT, Leg, post
from app.transparency.notes import DEVELOPMENT_SIGNING_KEY
from tests.transparency.test_verify_tool import (client_fetch, integrate, ledger_http,
                                                 published_key, tlog)

import ledger_witness  # noqa: E402  (tools/, put on the path by test_verify_tool)

LOG_SIGNER = tlog.parse_signer_key(DEVELOPMENT_SIGNING_KEY, tlog.ED25519)


@pytest.fixture()
def witness(app, db, monkeypatch):
    signer = tlog.generate_signer("witness.example.org/xiangzhu", tlog.COSIGNATURE_V1)
    monkeypatch.setitem(app.config, "TRANSPARENCY_WITNESSES", signer.verifier.key_string())
    return signer


def post_payments(count: int, first: int = 0) -> None:
    for i in range(first, first + count):
        post("payment", f"WIT{i:06d}", [Leg(CLEARING_WECHAT, -(100 + i)),
                                        Leg("custodian:payout_clearing", 100 + i)])
    db.session.commit()
    integrate()


def run_witness(app, signer, state, rewrite=None, posted=None) -> int:
    fetch = client_fetch(app, rewrite)

    def recording(method, path, body=None, content_type=None):
        if method == "POST" and posted is not None:
            posted.append(body.decode())
        return fetch(method, path, body, content_type)

    return ledger_witness.run(recording, published_key(app), signer, str(state), None)


def signed(size: int, root: bytes) -> bytes:
    body = tlog.checkpoint_body("xiangzhu.local/ledger", size, root)
    line = tlog.NoteSignature(LOG_SIGNER.name, LOG_SIGNER.verifier.id,
                              LOG_SIGNER.sign(body.encode()))
    return tlog.Note(body, (line,)).serialize().encode()


def serving_latest(note: bytes):
    """A server in the middle whose latest checkpoint is `note`, signed with the real key."""
    def rewrite(path, response):
        if path == "/transparency/checkpoint":
            return ledger_http.Response(200, note, "text/plain; charset=utf-8")
        return response
    return rewrite


def latest(client) -> tlog.Checkpoint:
    return tlog.parse_checkpoint(tlog.parse_note(client.get("/transparency/checkpoint")
                                                 .get_data()).text)


def test_cosigns_a_good_checkpoint_and_the_platform_serves_the_cosignature(
        app, client, witness, tmp_path, capsys):
    state = tmp_path / "witness.json"
    post_payments(3)
    assert run_witness(app, witness, state) == 0
    served = tlog.parse_note(client.get("/transparency/checkpoint").get_data())
    tlog.verify_note(served, published_key(app))
    assert tlog.verify_cosignature(served, witness.verifier) > 0
    assert served.signatures[0].name == "xiangzhu.local/ledger"   # the log's own line first
    assert json.loads(state.read_text())["cosigned"]["tree_size"] == 3
    assert "cosigned xiangzhu.local/ledger size 3 " in capsys.readouterr().out

    post_payments(2, first=3)   # the log grows: consistent, so cosigned again
    assert run_witness(app, witness, state) == 0
    assert json.loads(state.read_text())["cosigned"]["tree_size"] == 5
    assert tlog.verify_cosignature(tlog.parse_note(
        client.get("/transparency/checkpoint/5").get_data()), witness.verifier)
    assert run_witness(app, witness, state) == 0   # nothing new: offered again, idempotent


def test_refuses_a_split_view_two_checkpoints_of_one_size(app, client, witness, tmp_path,
                                                          capsys):
    state = tmp_path / "witness.json"
    post_payments(4)
    assert run_witness(app, witness, state) == 0
    capsys.readouterr()
    before = state.read_text()
    posted: list[str] = []
    other = signed(4, tlog.node_hash(b"x" * 32, b"y" * 32))
    assert run_witness(app, witness, state, serving_latest(other), posted) == 1
    assert "ALARM: split view: a different root at size 4, which I cosigned" in \
        capsys.readouterr().err
    assert posted == [] and state.read_text() == before


def test_refuses_a_checkpoint_not_consistent_with_the_one_it_cosigned(app, client, witness,
                                                                      tmp_path, capsys):
    state = tmp_path / "witness.json"
    post_payments(3)
    assert run_witness(app, witness, state) == 0
    post_payments(3, first=3)
    capsys.readouterr()
    posted: list[str] = []
    rewritten = signed(6, tlog.node_hash(latest(client).root, b"\0" * 32))  # not the tree
    assert run_witness(app, witness, state, serving_latest(rewritten), posted) == 1
    assert ("ALARM: inconsistent: size 6 is not consistent with size 3, which I cosigned"
            in capsys.readouterr().err)
    assert posted == [] and json.loads(state.read_text())["cosigned"]["tree_size"] == 3
    assert run_witness(app, witness, state) == 0   # the honest checkpoint is consistent


def test_refuses_a_tree_that_shrank_and_a_bad_signature(app, client, witness, tmp_path, capsys):
    state = tmp_path / "witness.json"
    post_payments(5)
    assert run_witness(app, witness, state) == 0
    capsys.readouterr()
    smaller = client.get("/transparency/checkpoint/5").get_data()   # size 5 is signed
    post_payments(1, first=5)
    assert run_witness(app, witness, state) == 0
    capsys.readouterr()
    assert run_witness(app, witness, state, serving_latest(smaller)) == 1
    assert "ALARM: tree shrank: I cosigned size 6, the log now says 5" in capsys.readouterr().err
    impostor = tlog.generate_signer("xiangzhu.local/ledger", tlog.ED25519)
    body = tlog.checkpoint_body("xiangzhu.local/ledger", 7, b"\1" * 32)
    forged = tlog.Note(body, (tlog.NoteSignature(impostor.name, LOG_SIGNER.verifier.id,
                                                 impostor.sign(body.encode())),)).serialize()
    assert run_witness(app, witness, state, serving_latest(forged.encode())) == 1
    assert ("ALARM: bad signature: the signature by xiangzhu.local/ledger does not verify"
            in capsys.readouterr().err)


def test_keygen_prints_a_signer_and_its_verifier(capsys):
    assert ledger_witness.main(["keygen", "witness.example.org/w1"]) == 0
    signer_line, verifier_line = capsys.readouterr().out.splitlines()
    signer = tlog.parse_signer_key(signer_line, tlog.COSIGNATURE_V1)
    assert tlog.parse_verifier_key(verifier_line, tlog.COSIGNATURE_V1) == signer.verifier
    assert verifier_line.startswith("witness.example.org/w1+")


def test_the_verifier_can_require_a_witness_cosignature(app, client, witness, tmp_path):
    import io

    import verify_ledger

    post_payments(2)
    assert run_witness(app, witness, tmp_path / "witness.json") == 0
    post_payments(1, first=2)   # a newer checkpoint the witness has not seen yet
    out = io.StringIO()
    assert verify_ledger.run_verify(client_fetch(app), published_key(app), None, out=out,
                                    witnesses=[witness.verifier]) == 0
    assert out.getvalue().rstrip().endswith(
        "; cosigned by witness.example.org/xiangzhu at size 2")
    stranger = tlog.generate_signer("other.example/w", tlog.COSIGNATURE_V1).verifier
    out = io.StringIO()
    assert verify_ledger.run_verify(client_fetch(app), published_key(app), None, out=out,
                                    witnesses=[stranger]) == 1
    assert out.getvalue().splitlines() == [
        "witness other.example/w: no valid cosignature on any checkpoint"]


def test_the_witness_command_itself_against_the_live_server(app, live_server, client, db,
                                                             monkeypatch, tmp_path):
    import subprocess
    import sys

    from tests.transparency.test_verify_tool import TOOLS

    tool = [sys.executable, str(TOOLS / "verify_ledger.py")]
    made = subprocess.run(tool + ["keygen", "witness.example.org/cli"], capture_output=True,
                          text=True, timeout=60)
    signer_key, verifier_key = made.stdout.splitlines()
    monkeypatch.setitem(app.config, "TRANSPARENCY_WITNESSES", verifier_key)
    post_payments(2)
    command = tool + ["witness", live_server, "--key", published_key(app).key_string(),
                      "--witness-key", signer_key, "--state", str(tmp_path / "w.json"), "--once"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("cosigned xiangzhu.local/ledger size 2 ")
    served = tlog.parse_note(client.get("/transparency/checkpoint").get_data())
    assert tlog.verify_cosignature(served, tlog.parse_verifier_key(verifier_key,
                                                                   tlog.COSIGNATURE_V1))
    wrong = command[:command.index("--key") + 1] + [
        tlog.generate_signer("xiangzhu.local/ledger", tlog.ED25519).verifier.key_string()] + \
        command[command.index("--key") + 2:]
    done = subprocess.run(wrong, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.startswith("ALARM: bad signature: no signature by xiangzhu.local/ledger")
