"""Checkpoints as C2SP signed notes: the Go sumdb/note example reproduced byte for byte (Ed25519
is deterministic), the key ID derived as signed-note defines it, the checkpoint body as
tlog-checkpoint defines it, and the platform's signature verified here with `cryptography`
directly, not with the app's own verifier."""
from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from app.transparency import integrator, merkle, notes, proofs
from tests.transparency.helpers import post_transactions

# golang.org/x/mod/sumdb/note's documented example (its package documentation).
GO_SIGNER = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = ("If you think cryptography is the answer to your problem,\n"
           "then you don't know what your problem is.\n")
GO_NOTE = GO_TEXT + "\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"


def test_the_signed_note_example_is_reproduced_byte_for_byte():
    signer = notes.parse_signer_key(GO_SIGNER)   # its base64 holds a "+"
    assert signer.verifier_key == GO_VERIFIER
    assert notes.signed_note(GO_TEXT, signer) == GO_NOTE
    body, [line] = notes.split_note(GO_NOTE)
    assert body == GO_TEXT and line.name == "PeterNeumann" and line.key_id.hex() == "c74f20a3"
    verifier = notes.parse_verifier_key(GO_VERIFIER)
    assert verifier.verify(GO_TEXT.encode(), line.signature)
    assert not verifier.verify(GO_TEXT.replace("cryptography", "cryptographY").encode(),
                               line.signature)


@pytest.mark.parametrize("bad", [
    "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",   # wrong key ID
    "PeterNeumann+c74f20a3+AhpjZHAg",                                        # short, wrong type
    "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # space in name
    "PeterNeumann+c74f20a3",
])
def test_malformed_verifier_keys_are_refused(bad):
    with pytest.raises(notes.NoteError):
        notes.parse_verifier_key(bad)


def test_the_checkpoint_is_a_tlog_checkpoint_signed_by_the_configured_key(app, db):
    post_transactions(3)
    integrator.integrate()
    checkpoint = proofs.latest_checkpoint()
    body, signature_part = checkpoint.note.split("\n\n")
    origin, size, root_b64 = body.split("\n")
    assert (origin, size) == ("xiangzhu.local/ledger", "3")
    assert base64.b64decode(root_b64) == checkpoint.root_hash == proofs.root(3)
    assert signature_part.startswith("\u2014 xiangzhu.local/ledger ")
    assert signature_part.endswith("\n") and signature_part.count("\n") == 1
    raw = base64.b64decode(signature_part.split(" ")[2])
    key_string = app.test_client().get("/.well-known/xiangzhu-ledger-key").text.strip()
    name, key_id_hex, key_b64 = key_string.split("+", 2)
    public = base64.b64decode(key_b64)
    assert public[0] == 0x01 and len(public) == 33
    expected_id = hashlib.sha256(name.encode() + b"\n\x01" + public[1:]).digest()[:4]
    assert key_id_hex == expected_id.hex() == raw[:4].hex()
    Ed25519PublicKey.from_public_bytes(public[1:]).verify(raw[4:], (body + "\n").encode())


def test_the_empty_tree_root_is_the_hash_of_nothing(db):
    integrator.integrate()
    assert proofs.latest_checkpoint().root_hash == merkle.EMPTY_ROOT


def test_a_signing_key_not_named_by_the_origin_is_refused(make_app):
    other = make_app(TRANSPARENCY_SIGNING_KEY=GO_SIGNER)
    with other.app_context(), pytest.raises(notes.NoteError, match="origin"):
        notes.signer()


def test_keygen_makes_a_key_pair_that_signs_and_verifies(app):
    result = app.test_cli_runner().invoke(args=["transparency", "keygen",
                                                "--name", "example.org/ledger"])
    signer_key, verifier_key = result.output.split()
    signer = notes.parse_signer_key(signer_key)
    assert signer.verifier_key == verifier_key
    _, [line] = notes.split_note(notes.signed_note("x\n", signer))
    assert notes.parse_verifier_key(verifier_key).verify(b"x\n", line.signature)


def test_production_refuses_to_start_without_the_log_keys(monkeypatch):
    from app import create_app
    from app.config import ProductionConfig

    for name, value in (("SECRET_KEY", "set"), ("DATA_ENCRYPTION_KEY",
                                                 "kQ7Nq1i3f5p0bOrG4t7lR8cX2y9eW6uA1sD3fG5hJ7k="),
                        ("BLIND_INDEX_KEY", "b" * 40), ("PAYOUT_PROVIDER", "bank_batch"),
                        ("TRANSPARENCY_SIGNING_KEY", None)):
        monkeypatch.setattr(ProductionConfig, name, value)
    with pytest.raises(RuntimeError, match="TRANSPARENCY_SIGNING_KEY"):
        create_app(ProductionConfig)
