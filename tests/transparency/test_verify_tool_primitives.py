"""The outsider's primitives (tools/tlog.py) against the specifications' own definitions: RFC
6962 §2.1 hashes, audit paths and consistency proofs generated here, straight from the RFC's
recursive definitions, for every tree size up to 64; the signed-note format against the
example of golang.org/x/mod/sumdb/note; cosignatures as c2sp.org/tlog-cosignature defines
them. Nothing here touches the app."""
from __future__ import annotations

import base64
import hashlib
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
import tlog  # noqa: E402

# golang.org/x/mod/sumdb/note's documented example (its package documentation and tests).
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_TEXT = ("If you think cryptography is the answer to your problem,\n"
           "then you don't know what your problem is.\n")
GO_NOTE = (GO_TEXT + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1"
           "FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n")


# --- RFC 6962 §2.1, as written ------------------------------------------------------------------

def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def mth(leaves: list[bytes]) -> bytes:
    n = len(leaves)
    if n == 0:
        return sha(b"")
    if n == 1:
        return sha(b"\x00" + leaves[0])
    k = 1
    while k * 2 < n:
        k *= 2
    return sha(b"\x01" + mth(leaves[:k]) + mth(leaves[k:]))


def path(m: int, leaves: list[bytes]) -> list[bytes]:
    n = len(leaves)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return path(m, leaves[:k]) + [mth(leaves[k:])]
    return path(m - k, leaves[k:]) + [mth(leaves[:k])]


def subproof(m: int, leaves: list[bytes], b: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if b else [mth(leaves)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return subproof(m, leaves[:k], b) + [mth(leaves[k:])]
    return subproof(m - k, leaves[k:], False) + [mth(leaves[:k])]


LEAVES = [f"leaf {i}".encode() for i in range(64)]


def leads_to(root: bytes, index: int, size: int, hashed: bytes, proof: list[bytes]) -> bool:
    try:
        return tlog.root_from_inclusion(index, size, hashed, proof) == root
    except tlog.ProofError:
        return False


def test_hashes_are_rfc_6962s():
    assert tlog.EMPTY_ROOT == sha(b"") == bytes.fromhex(
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    assert tlog.leaf_hash(b"") == bytes.fromhex(
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
    assert tlog.node_hash(b"l" * 32, b"r" * 32) == sha(b"\x01" + b"l" * 32 + b"r" * 32)


@pytest.mark.parametrize("n", range(0, 65))
def test_roots_of_every_size_up_to_64(n):
    builder = tlog.TreeBuilder()
    for leaf in LEAVES[:n]:
        builder.append(tlog.leaf_hash(leaf))
    assert builder.size == n and builder.root() == mth(LEAVES[:n])


@pytest.mark.parametrize("n", range(1, 65))
def test_inclusion_proofs_of_every_leaf_up_to_64(n):
    root = mth(LEAVES[:n])
    for m in range(n):
        proof = path(m, LEAVES[:n])
        hashed = tlog.leaf_hash(LEAVES[m])
        assert tlog.root_from_inclusion(m, n, hashed, proof) == root
        if proof:
            wrong = proof[:-1] + [sha(proof[-1])]
            assert tlog.root_from_inclusion(m, n, hashed, wrong) != root
            with pytest.raises(tlog.ProofError):
                tlog.root_from_inclusion(m, n, hashed, proof[:-1])
        with pytest.raises(tlog.ProofError):
            tlog.root_from_inclusion(m, n, hashed, proof + [root])
        if n > 1:  # the same path does not place the leaf elsewhere
            assert not leads_to(root, (m + 1) % n, n, hashed, proof)


@pytest.mark.parametrize("n", range(1, 65))
def test_consistency_proofs_of_every_pair_up_to_64(n):
    new_root = mth(LEAVES[:n])
    for m in range(1, n + 1):
        old_root = mth(LEAVES[:m])
        proof = subproof(m, LEAVES[:n], True)
        assert tlog.consistent(m, n, old_root, new_root, proof)
        assert not tlog.consistent(m, n, sha(old_root), new_root, proof)
        assert not tlog.consistent(m, n, old_root, sha(new_root), proof)
        for i in range(len(proof)):  # any hash changed breaks it
            broken = proof[:i] + [sha(proof[i])] + proof[i + 1:]
            assert not tlog.consistent(m, n, old_root, new_root, broken)
        assert not tlog.consistent(m, n, old_root, new_root, proof + [new_root])
        if proof:
            assert not tlog.consistent(m, n, old_root, new_root, proof[1:])
    # a rewritten history: the same sizes over other leaves
    other = LEAVES[:1] + [b"rewritten"] + LEAVES[2:]
    if n >= 3:
        assert not tlog.consistent(2, n, mth(LEAVES[:2]), mth(other[:n]),
                                   subproof(2, other[:n], True))


def test_rfc_examples_of_the_proof_shapes():
    """§2.1.3's tree of seven leaves d0..d6: PROOF(3, D[7]) is [c, d, g, l]."""
    d = LEAVES[:7]
    c, dd = mth(d[2:3]), mth(d[3:4])
    g, l_ = mth(d[0:2]), mth(d[4:7])
    assert subproof(3, d, True) == [c, dd, g, l_]
    assert tlog.consistent(3, 7, mth(d[:3]), mth(d), [c, dd, g, l_])
    assert subproof(4, d, True) == [l_]
    assert tlog.consistent(4, 7, mth(d[:4]), mth(d), [l_])


def test_the_go_note_example_verifies_and_a_changed_letter_does_not():
    key = tlog.parse_verifier_key(GO_VKEY)
    assert key.name == "PeterNeumann" and key.id.hex() == "c74f20a3"
    note = tlog.parse_note(GO_NOTE.encode())
    assert note.text == GO_TEXT
    tlog.verify_note(note, key)
    with pytest.raises(tlog.SignatureError, match="does not verify"):
        tlog.verify_note(tlog.parse_note(GO_NOTE.replace("cryptography", "cryptographY")), key)
    signer = tlog.parse_signer_key(GO_SKEY, tlog.ED25519)
    assert signer.verifier == key and signer.key_string() == GO_SKEY
    assert key.key_string() == GO_VKEY
    # Ed25519 is deterministic: signing the text again gives the documented line
    line = tlog.NoteSignature(key.name, key.id, signer.sign(GO_TEXT.encode())).line()
    assert GO_NOTE.endswith(line)


def test_unknown_signatures_are_ignored_and_a_note_needs_a_known_one():
    key = tlog.parse_verifier_key(GO_VKEY)
    stranger = tlog.generate_signer("PeterNeumann", tlog.ED25519)  # same name, other key
    extra = tlog.NoteSignature(stranger.name, stranger.verifier.id,
                               stranger.sign(GO_TEXT.encode())).line()
    tlog.verify_note(tlog.parse_note(GO_NOTE + extra), key)
    alone = tlog.parse_note(GO_TEXT + "\n" + extra)
    with pytest.raises(tlog.SignatureError, match="no signature by PeterNeumann"):
        tlog.verify_note(alone, key)


@pytest.mark.parametrize("text", [
    GO_TEXT,                                   # no signatures
    GO_TEXT + "\n— PeterNeumann !!!\n",        # not base64
    GO_TEXT + "\n- PeterNeumann x08go/ZJ\n",   # a hyphen, not an em dash
    GO_NOTE[:-1],                              # no final newline
    "a\x07b\n\n" + GO_NOTE.split("\n\n")[1],   # a control character
])
def test_malformed_notes_are_refused(text):
    with pytest.raises(tlog.FormatError):
        tlog.parse_note(text)


@pytest.mark.parametrize("key", [
    "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # wrong key ID
    "PeterNeumann+c74f20a3+BBpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # not type 0x01
    "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # a space
    "PeterNeumann+c74f20a3",
])
def test_malformed_verifier_keys_are_refused(key):
    with pytest.raises(tlog.FormatError):
        tlog.parse_verifier_key(key)


def test_checkpoint_format():
    root = sha(b"root")
    body = tlog.checkpoint_body("xiangzhu.local/ledger", 42, root)
    assert body == f"xiangzhu.local/ledger\n42\n{base64.b64encode(root).decode()}\n"
    parsed = tlog.parse_checkpoint(body)
    assert (parsed.origin, parsed.size, parsed.root) == ("xiangzhu.local/ledger", 42, root)
    for bad in ("o\n042\n" + base64.b64encode(root).decode() + "\n",
                "o\n4\n" + base64.b64encode(root[:31]).decode() + "\n",
                "o\n4\n" + base64.b64encode(root).decode(), "\n4\nAAAA\n"):
        with pytest.raises(tlog.FormatError):
            tlog.parse_checkpoint(bad)


def test_cosignature_v1_message_key_id_and_line():
    witness = tlog.generate_signer("witness.example/w1", tlog.COSIGNATURE_V1)
    body = tlog.checkpoint_body("example.com/behind-the-sofa", 20852163,
                                base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="))
    assert tlog.cosignature_message(body, 1679315147) == (
        b"cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\n"
        b"CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n")
    public = witness.verifier.public
    assert witness.verifier.id == sha(b"witness.example/w1\n\x04" + public)[:4]
    line = tlog.cosign(witness, body, 1679315147)
    raw = base64.b64decode(line.line().split(" ")[2])
    assert raw[:4] == witness.verifier.id and int.from_bytes(raw[4:12], "big") == 1679315147
    note = tlog.Note(body, (line,))
    assert tlog.verify_cosignature(note, witness.verifier) == 1679315147
    assert tlog.parse_verifier_key(witness.verifier.key_string(), tlog.COSIGNATURE_V1) == \
        witness.verifier
    forged = tlog.Note(body.replace("20852163", "20852164"), (line,))
    with pytest.raises(tlog.SignatureError):
        tlog.verify_cosignature(forged, witness.verifier)


def test_the_tools_import_only_the_standard_library_cryptography_and_each_other():
    """The outsider's tools share no code with the server: nothing from app/ (nor any other
    package a verifier would have to trust besides `cryptography`)."""
    import ast

    tools = Path(tlog.__file__).resolve().parent
    allowed = set(sys.stdlib_module_names) | {"cryptography"} | {
        path.stem for path in tools.glob("*.py")}
    imported = set()
    for path in tools.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {(path.name, alias.name.split(".")[0]) for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                imported.add((path.name, (node.module or "").split(".")[0]))
    assert {(name, module) for name, module in imported if module not in allowed} == set()
    assert ("tlog.py", "cryptography") in imported
