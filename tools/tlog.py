"""C2SP signed notes, checkpoints and cosignatures, and RFC 6962 Merkle trees, written from the
specifications (c2sp.org/signed-note, tlog-checkpoint, tlog-cosignature; RFC 6962 §2.1) for
people outside the platform. Standard library plus `cryptography`; it shares no code with the
server (app/), so a bug there cannot hide behind the same bug here.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (Ed25519PrivateKey,
                                                               Ed25519PublicKey)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519 = 0x01        # signed-note signature type: Ed25519 over the note text
COSIGNATURE_V1 = 0x04  # timestamped Ed25519 witness cosignature (tlog-cosignature)
EM_DASH = "\u2014"
SIZE_LINE = re.compile(r"0|[1-9][0-9]*")
KEY_ID_HEX = re.compile(r"[0-9a-f]{8}")


class FormatError(ValueError):
    """A key, note or checkpoint that is not in its specified format."""


class SignatureError(ValueError):
    """A note whose signature by the expected key is missing or does not verify."""


class ProofError(ValueError):
    """A Merkle proof of the wrong shape for the sizes it claims to connect."""


def b64decode(text: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as error:
        raise FormatError(f"not standard base64: {text[:60]!r}") from error


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def key_id(name: str, sig_type: int, public: bytes) -> bytes:
    """SHA-256(key name ‖ 0x0A ‖ signature type ‖ public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([sig_type]) + public).digest()[:4]


def _check_name(name: str) -> str:
    if not name or "+" in name or any(ch.isspace() for ch in name):
        raise FormatError(f"key name must be non-empty, without spaces or '+': {name!r}")
    return name


@dataclass(frozen=True)
class Verifier:
    name: str
    sig_type: int
    public: bytes

    @property
    def id(self) -> bytes:
        return key_id(self.name, self.sig_type, self.public)

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(signature, message)
        except InvalidSignature:
            return False
        return True

    def key_string(self) -> str:
        return f"{self.name}+{self.id.hex()}+{b64encode(bytes([self.sig_type]) + self.public)}"


def parse_verifier_key(text: str, sig_type: int = ED25519) -> Verifier:
    """`<name>+<key ID, 8 hex>+<base64(type ‖ 32-byte public key)>`."""
    parts = text.strip().split("+", 2)
    if len(parts) != 3 or not KEY_ID_HEX.fullmatch(parts[1]):
        raise FormatError("a verifier key is <name>+<8 hex key ID>+<base64 key>")
    raw = b64decode(parts[2])
    if len(raw) != 33 or raw[0] != sig_type:
        raise FormatError(f"verifier key is not of signature type 0x{sig_type:02x} (Ed25519)")
    verifier = Verifier(_check_name(parts[0]), sig_type, raw[1:])
    if verifier.id.hex() != parts[1]:
        raise FormatError("verifier key's ID does not match its name and public key")
    return verifier


@dataclass(frozen=True)
class Signer:
    name: str
    sig_type: int
    seed: bytes

    @property
    def verifier(self) -> Verifier:
        public = Ed25519PrivateKey.from_private_bytes(self.seed).public_key().public_bytes(
            Encoding.Raw, PublicFormat.Raw)
        return Verifier(self.name, self.sig_type, public)

    def sign(self, message: bytes) -> bytes:
        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(message)

    def key_string(self) -> str:
        return (f"PRIVATE+KEY+{self.name}+{self.verifier.id.hex()}+"
                f"{b64encode(bytes([self.sig_type]) + self.seed)}")


def parse_signer_key(text: str, sig_type: int) -> Signer:
    """`PRIVATE+KEY+<name>+<key ID>+<base64(type ‖ 32-byte seed)>`."""
    parts = text.strip().split("+", 4)
    if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"] or not KEY_ID_HEX.fullmatch(parts[3]):
        raise FormatError("a signer key is PRIVATE+KEY+<name>+<8 hex key ID>+<base64 key>")
    raw = b64decode(parts[4])
    if len(raw) != 33 or raw[0] != sig_type:
        raise FormatError(f"signer key is not of signature type 0x{sig_type:02x}")
    signer = Signer(_check_name(parts[2]), sig_type, raw[1:])
    if signer.verifier.id.hex() != parts[3]:
        raise FormatError("signer key's ID does not match its name and key")
    return signer


def generate_signer(name: str, sig_type: int) -> Signer:
    seed = Ed25519PrivateKey.generate().private_bytes_raw()
    return Signer(_check_name(name), sig_type, seed)


# --- signed notes -------------------------------------------------------------------------------

@dataclass(frozen=True)
class NoteSignature:
    name: str
    key_id: bytes
    signature: bytes  # the bytes after the key ID

    def line(self) -> str:
        return f"{EM_DASH} {self.name} {b64encode(self.key_id + self.signature)}\n"


@dataclass(frozen=True)
class Note:
    text: str  # the signed text, final newline included
    signatures: tuple[NoteSignature, ...]

    def by(self, verifier: Verifier) -> list[NoteSignature]:
        return [s for s in self.signatures
                if s.name == verifier.name and s.key_id == verifier.id]

    def serialize(self) -> str:
        return self.text + "\n" + "".join(s.line() for s in self.signatures)


def parse_note(data: bytes | str) -> Note:
    """Text ending in a newline, a blank line, then `— <name> <base64(key ID ‖ sig)>` lines."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError as error:
        raise FormatError("a note must be UTF-8") from error
    if any(ord(ch) < 0x20 and ch != "\n" for ch in text):
        raise FormatError("a note must hold no control characters but newlines")
    split = text.rfind("\n\n")
    if split < 0 or not text.endswith("\n"):
        raise FormatError("a note is text, a blank line and signature lines, each ending in \\n")
    body, lines = text[:split + 1], text[split + 2:].split("\n")[:-1]
    signatures = []
    for line in lines:
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != EM_DASH:
            raise FormatError(f"not a signature line: {line[:80]!r}")
        raw = b64decode(parts[2])
        if len(raw) < 5:
            raise FormatError("a signature is a 4-byte key ID and the signature")
        signatures.append(NoteSignature(_check_name(parts[1]), raw[:4], raw[4:]))
    if not signatures:
        raise FormatError("a note carries at least one signature")
    return Note(body, tuple(signatures))


def verify_note(note: Note, verifier: Verifier) -> None:
    """Raises SignatureError unless the note is signed by the verifier's key (and every signature
    that claims to be by that key verifies); other keys' signatures are ignored."""
    known = note.by(verifier)
    if not known:
        raise SignatureError(f"no signature by {verifier.name} ({verifier.id.hex()})")
    for signature in known:
        if not verifier.verify(note.text.encode(), signature.signature):
            raise SignatureError(f"the signature by {verifier.name} does not verify")


# --- checkpoints and cosignatures ---------------------------------------------------------------

@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    body: str


def parse_checkpoint(body: str) -> Checkpoint:
    lines = body.split("\n")
    if len(lines) < 4 or lines[-1] != "" or any(not line for line in lines[:-1]):
        raise FormatError("a checkpoint is origin, tree size and root hash lines (non-empty)")
    if not SIZE_LINE.fullmatch(lines[1]):
        raise FormatError(f"tree size is not a decimal without leading zeros: {lines[1]!r}")
    root = b64decode(lines[2])
    if len(root) != 32:
        raise FormatError("the root hash is not 32 bytes")
    return Checkpoint(lines[0], int(lines[1]), root, body)


def checkpoint_body(origin: str, size: int, root: bytes) -> str:
    return f"{origin}\n{size}\n{b64encode(root)}\n"


def cosignature_message(body: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n".encode() + body.encode()


def cosign(signer: Signer, body: str, timestamp: int) -> NoteSignature:
    signature = signer.sign(cosignature_message(body, timestamp))
    return NoteSignature(signer.name, signer.verifier.id,
                         timestamp.to_bytes(8, "big") + signature)


def verify_cosignature(note: Note, witness: Verifier) -> int:
    """The timestamp of the witness's valid cosignature on the note; SignatureError if none."""
    for signature in note.by(witness):
        if len(signature.signature) != 72:
            raise SignatureError("a cosignature is an 8-byte timestamp and 64-byte signature")
        timestamp = int.from_bytes(signature.signature[:8], "big")
        if not witness.verify(cosignature_message(note.text, timestamp),
                              signature.signature[8:]):
            raise SignatureError(f"the cosignature by {witness.name} does not verify")
        return timestamp
    raise SignatureError(f"no cosignature by {witness.name}")


# --- RFC 6962 §2.1 Merkle trees -----------------------------------------------------------------

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """k, the largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


class TreeBuilder:
    """The root of the first n leaves for every n, appending one leaf hash at a time: it keeps
    the perfect subtrees of decreasing size that MTH splits the tree into."""

    def __init__(self) -> None:
        self.size = 0
        self._stack: list[tuple[int, bytes]] = []

    def append(self, hashed_leaf: bytes) -> None:
        self.size += 1
        height, digest = 0, hashed_leaf
        while self._stack and self._stack[-1][0] == height:
            digest = node_hash(self._stack.pop()[1], digest)
            height += 1
        self._stack.append((height, digest))

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        digest = self._stack[-1][1]
        for _, left in reversed(self._stack[:-1]):
            digest = node_hash(left, digest)
        return digest


class _Proof:
    """A proof's hashes, taken from the end: RFC 6962 lists the deepest hash first."""

    def __init__(self, hashes: list[bytes]) -> None:
        if any(len(h) != 32 for h in hashes):
            raise ProofError("every proof hash is 32 bytes")
        self.hashes, self.left = hashes, len(hashes)

    def take(self) -> bytes:
        if self.left == 0:
            raise ProofError("the proof is too short")
        self.left -= 1
        return self.hashes[self.left]

    def done(self) -> None:
        if self.left:
            raise ProofError("the proof is too long")


def root_from_inclusion(index: int, size: int, hashed_leaf: bytes,
                        audit_path: list[bytes]) -> bytes:
    """The root an audit path (§2.1.1 PATH(m, D[n])) leads to from leaf `index`."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of size {size}")
    proof = _Proof(audit_path)

    def climb(m: int, n: int) -> bytes:
        if n == 1:
            return hashed_leaf
        k = split_point(n)
        sibling = proof.take()
        return node_hash(climb(m, k), sibling) if m < k else node_hash(sibling, climb(m - k, n - k))

    root = climb(index, size)
    proof.done()
    return root


def roots_from_consistency(first: int, second: int, first_root: bytes,
                           hashes: list[bytes]) -> tuple[bytes, bytes]:
    """(old root, new root) a consistency proof (§2.1.2 PROOF(m, D[n])) leads to; the old one
    must equal first_root for the proof to hold."""
    if not 0 < first <= second:
        raise ProofError(f"no consistency proof from size {first} to {second}")
    proof = _Proof(hashes)

    def walk(m: int, n: int, whole_old_tree: bool) -> tuple[bytes, bytes]:
        if m == n:
            if whole_old_tree:  # SUBPROOF(m, D[m], true) is empty: the old root itself
                return first_root, first_root
            subtree = proof.take()
            return subtree, subtree
        k = split_point(n)
        sibling = proof.take()
        if m <= k:
            old, new = walk(m, k, whole_old_tree)
            return old, node_hash(new, sibling)
        old, new = walk(m - k, n - k, False)
        return node_hash(sibling, old), node_hash(sibling, new)

    roots = walk(first, second, True)
    proof.done()
    return roots


def consistent(first: int, second: int, first_root: bytes, second_root: bytes,
               hashes: list[bytes]) -> bool:
    try:
        old, new = roots_from_consistency(first, second, first_root, hashes)
    except ProofError:
        return False
    return old == first_root and new == second_root
