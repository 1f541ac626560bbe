"""The log's HTTP routes (docs/transparency.md, HTTP): their JSON, their cache headers, their
4xx answers to bad sizes (never a 500), and the intake of witnesses' cosignatures."""
from __future__ import annotations

import base64
import hashlib
import struct
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from app.transparency import integrator, merkle, proofs
from tests.transparency.helpers import post_transactions


@pytest.fixture()
def log_of_ten(db):
    post_transactions(6)
    integrator.integrate()
    post_transactions(4, start=6)
    integrator.integrate()


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def test_the_latest_checkpoint_and_one_of_a_size(client, log_of_ten):
    latest = client.get("/transparency/checkpoint")
    assert latest.status_code == 200
    assert latest.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert latest.headers["Cache-Control"] == "public, max-age=10"
    assert latest.text.startswith("xiangzhu.local/ledger\n10\n")
    older = client.get("/transparency/checkpoint/6")
    assert older.status_code == 200 and older.text.startswith("xiangzhu.local/ledger\n6\n")
    assert older.headers["Cache-Control"] == "public, max-age=86400"
    for missing in ("7", "06", "x", "-1", "9" * 40):
        assert client.get(f"/transparency/checkpoint/{missing}").status_code == 404


def test_the_verifier_key(client, db):
    response = client.get("/.well-known/xiangzhu-ledger-key")
    assert response.text == "xiangzhu.local/ledger+fac7a59f+AX4OzNkYR0d1Z56rtE66YxEOk4w1Y8yIMXWlB/glCKSc\n"
    assert response.headers["Content-Type"].startswith("text/plain")


def test_checkpoints_newest_first_by_pages(client, log_of_ten):
    page = client.get("/api/v1/transparency/checkpoints?limit=1").get_json()
    assert [c["tree_size"] for c in page["checkpoints"]] == [10]
    assert page["next_before"] == 10
    first = page["checkpoints"][0]
    assert base64.b64decode(first["root_hash"]) == proofs.root(10)
    assert first["signed_at"].endswith("Z") and first["note"].startswith("xiangzhu.local/ledger\n10")
    rest = client.get("/api/v1/transparency/checkpoints?before=10&limit=5").get_json()
    assert [c["tree_size"] for c in rest["checkpoints"]] == [6]
    assert rest["next_before"] is None


def test_leaves_by_range_clipped_to_the_signed_size(client, log_of_ten):
    response = client.get("/api/v1/transparency/leaves?start=8&end=20")
    assert response.headers["Cache-Control"] == "public, max-age=10"
    data = response.get_json()
    assert data["tree_size"] == 10 and [leaf["index"] for leaf in data["leaves"]] == [8, 9]
    assert '"type":"ledger_transaction"' in data["leaves"][0]["leaf"]


def test_proofs_match_the_tree(client, log_of_ten):
    hashes = [merkle.leaf_hash(leaf["leaf"].encode()) for leaf in client.get(
        "/api/v1/transparency/leaves?start=0&end=10").get_json()["leaves"]]
    inclusion = client.get("/api/v1/transparency/proof/inclusion?index=3&tree_size=10")
    assert inclusion.headers["Cache-Control"] == "public, max-age=86400"
    data = inclusion.get_json()
    assert data["index"] == 3 and data["tree_size"] == 10
    assert data["leaf_hash"] == _b64(hashes[3])
    assert data["audit_path"] == [_b64(h) for h in merkle.inclusion_proof(3, hashes)]
    consistency = client.get("/api/v1/transparency/proof/consistency?first=6&second=10")
    assert consistency.get_json() == {"first": 6, "second": 10, "proof": [
        _b64(h) for h in merkle.consistency_proof(6, hashes)]}


@pytest.mark.parametrize("path", [
    "/api/v1/transparency/proof/inclusion?index=10&tree_size=10",
    "/api/v1/transparency/proof/inclusion?index=0&tree_size=11",
    "/api/v1/transparency/proof/inclusion?index=0&tree_size=0",
    "/api/v1/transparency/proof/inclusion?index=-1&tree_size=5",
    "/api/v1/transparency/proof/inclusion?index=1",
    "/api/v1/transparency/proof/inclusion?index=x&tree_size=5",
    "/api/v1/transparency/proof/inclusion?index=0&tree_size=" + "9" * 30,
    "/api/v1/transparency/proof/consistency?first=0&second=5",
    "/api/v1/transparency/proof/consistency?first=6&second=5",
    "/api/v1/transparency/proof/consistency?first=5&second=11",
    "/api/v1/transparency/proof/consistency?first=1.5&second=5",
    "/api/v1/transparency/leaves?start=5&end=2",
    "/api/v1/transparency/leaves?start=0&end=1001",
    "/api/v1/transparency/leaves?start=0",
    "/api/v1/transparency/checkpoints?limit=101",
    "/api/v1/transparency/checkpoints?before=0",
])
def test_bad_sizes_are_a_json_400(client, log_of_ten, path):
    response = client.get(path)
    assert response.status_code == 400
    assert set(response.get_json()["error"]) == {"code", "message"}


# --- cosignatures (C2SP tlog-cosignature, cosignature/v1), the witness built here from the spec

class Witness:
    def __init__(self, name: str):
        self.name, self.key = name, Ed25519PrivateKey.generate()
        public = self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.key_id = hashlib.sha256(name.encode() + b"\n\x04" + public).digest()[:4]
        self.verifier_key = name + "+" + self.key_id.hex() + "+" + _b64(bytes([4]) + public)

    def cosign(self, note: str, body: str | None = None) -> str:
        body = body or note.split("\n\n")[0] + "\n"
        timestamp = int(time.time())
        message = f"cosignature/v1\ntime {timestamp}\n".encode() + body.encode()
        signature = self.key.sign(message)
        return note + f"\u2014 {self.name} " + _b64(self.key_id + struct.pack(">Q", timestamp)
                                                   + signature) + "\n"


@pytest.fixture()
def witness(app, monkeypatch):
    found = Witness("witness.example/w1")
    monkeypatch.setitem(app.config, "TRANSPARENCY_WITNESSES", found.verifier_key)
    return found


def _post(client, note: str):
    return client.post("/api/v1/transparency/cosignatures", data=note.encode(),
                       content_type="text/plain")


def test_a_witness_cosignature_is_stored_once_and_served(client, log_of_ten, witness):
    note = client.get("/transparency/checkpoint").text
    cosigned = witness.cosign(note)
    assert _post(client, cosigned).status_code == 204
    assert _post(client, cosigned).status_code == 204     # idempotent
    served = client.get("/transparency/checkpoint").text
    assert served == cosigned
    assert client.get("/transparency/checkpoint/10").text == cosigned
    older = client.get("/transparency/checkpoint/6").text
    assert _post(client, witness.cosign(older)).status_code == 204


def test_refused_cosignatures(client, log_of_ten, witness):
    note = client.get("/transparency/checkpoint").text
    stranger = Witness("witness.example/stranger")
    assert _post(client, stranger.cosign(note)).get_json()["error"]["code"] == "witness_unknown"
    good = witness.cosign(note)
    head, encoded = good.rstrip("\n").rsplit(" ", 1)
    raw = bytearray(base64.b64decode(encoded))
    raw[-1] ^= 1                                   # one bit of the Ed25519 signature
    response = _post(client, f"{head} {_b64(bytes(raw))}\n")
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "signature_invalid"
    unknown = note.replace("\n10\n", "\n7\n", 1)
    assert _post(client, witness.cosign(unknown)).status_code == 404
    other_root = note.split("\n")
    other_root[2] = _b64(b"\x07" * 32)
    split_view = "\n".join(other_root)
    assert _post(client, witness.cosign(split_view)).status_code == 409
    assert _post(client, "not a note").status_code == 400
    assert _post(client, "\xff").status_code == 400
    assert client.get("/transparency/checkpoint").text == note   # nothing stored
