"""Checkpoints as C2SP signed notes, signed with Ed25519, and witnesses' cosignatures.

Formats (docs/transparency.md, Checkpoints and Cosignatures; C2SP tlog-checkpoint,
signed-note and tlog-cosignature): a checkpoint body is "origin\\nsize\\nbase64(root)\\n"; a
signature line is "— name base64(key ID ‖ signature)"; the key ID is the first 4 bytes of
SHA-256(name ‖ 0x0A ‖ type ‖ public key), type 0x01 for Ed25519 and 0x04 for cosignature/v1.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from flask import current_app

ED25519 = 0x01
COSIGNATURE_V1 = 0x04
EM_DASH = "\u2014"
# Development only (EMBEDDED or TESTING): production refuses to start without its own keys.
DEVELOPMENT_ORIGIN = "xiangzhu.local/ledger"
DEVELOPMENT_SIGNING_KEY = ("PRIVATE+KEY+xiangzhu.local/ledger+fac7a59f+"
                           "AapFnUX8jxPugjwHIZXqRGFn6BlqOtqjYMrfSu8dE7nQ")
DEVELOPMENT_REF_KEY = "xiangzhu-transparency-ref-development-only"


class NoteError(ValueError):
    """A key string, note or signature that is malformed or does not verify."""


def key_id(name: str, key_type: int, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([key_type]) + public).digest()[:4]


def _b64decode(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as error:
        raise NoteError("not base64") from error


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def _valid_name(name: str) -> bool:
    return bool(name) and "+" not in name and not any(c.isspace() for c in name)


@dataclass(frozen=True)
class Signer:
    name: str
    private: Ed25519PrivateKey

    @property
    def public(self) -> bytes:
        return _raw(self.private.public_key())

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, ED25519, self.public)

    @property
    def verifier_key(self) -> str:
        return (f"{self.name}+{self.key_id.hex()}+"
                f"{base64.b64encode(bytes([ED25519]) + self.public).decode()}")

    def signature_line(self, body: str) -> str:
        signature = self.private.sign(body.encode())
        return f"{EM_DASH} {self.name} {base64.b64encode(self.key_id + signature).decode()}\n"


def parse_signer_key(text: str) -> Signer:
    """PRIVATE+KEY+<name>+<key ID hex>+<base64(0x01 ‖ 32-byte seed)> (Go's sumdb/note)."""
    parts = text.strip().split("+", 4)  # the base64 may hold a "+" too
    if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"] or not _valid_name(parts[2]):
        raise NoteError("a signer key reads PRIVATE+KEY+name+keyid+base64")
    raw = _b64decode(parts[4])
    if len(raw) != 33 or raw[0] != ED25519:
        raise NoteError("the signer key is not an Ed25519 seed")
    signer = Signer(parts[2], Ed25519PrivateKey.from_private_bytes(raw[1:]))
    if signer.key_id.hex() != parts[3].lower():
        raise NoteError("the signer key's key ID does not match its key")
    return signer


@dataclass(frozen=True)
class Verifier:
    name: str
    key_type: int
    public: bytes

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.key_type, self.public)

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(signature, message)
        except InvalidSignature:
            return False
        return True


def parse_verifier_key(text: str) -> Verifier:
    """<name>+<key ID hex>+<base64(type ‖ public key)>, type 0x01 (Ed25519) or 0x04
    (cosignature/v1)."""
    parts = text.strip().split("+", 2)
    if len(parts) != 3 or not _valid_name(parts[0]):
        raise NoteError("a verifier key reads name+keyid+base64")
    raw = _b64decode(parts[2])
    if len(raw) != 33 or raw[0] not in (ED25519, COSIGNATURE_V1):
        raise NoteError("the verifier key is neither Ed25519 nor cosignature/v1")
    verifier = Verifier(parts[0], raw[0], raw[1:])
    if verifier.key_id.hex() != parts[1].lower():
        raise NoteError("the verifier key's key ID does not match its key")
    return verifier


def checkpoint_body(origin: str, size: int, root: bytes) -> str:
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n"


def signed_note(body: str, signer: Signer) -> str:
    return body + "\n" + signer.signature_line(body)


@dataclass(frozen=True)
class SignatureLine:
    name: str
    key_id: bytes
    signature: bytes  # for cosignature/v1: 8-byte timestamp ‖ signature
    text: str         # the whole line with its newline


def split_note(note: str) -> tuple[str, list[SignatureLine]]:
    """(body, signature lines) of a signed note; NoteError unless well formed."""
    body, separator, signatures = note.rpartition("\n\n")
    if not separator or not signatures.endswith("\n"):
        raise NoteError("a signed note is a body, an empty line and signature lines")
    body += "\n"
    lines = []
    for line in signatures[:-1].split("\n"):
        dash, _, rest = line.partition(" ")
        name, _, encoded = rest.partition(" ")
        if dash != EM_DASH or not _valid_name(name) or not encoded or " " in encoded:
            raise NoteError("a signature line reads “— name base64”")
        raw = _b64decode(encoded)
        if len(raw) < 5:
            raise NoteError("a signature is too short")
        lines.append(SignatureLine(name, raw[:4], raw[4:], line + "\n"))
    return body, lines


def cosignature_message(timestamp: int, body: str) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n".encode() + body.encode()


def verify_cosignature(line: SignatureLine, body: str, witness: Verifier) -> int | None:
    """The cosignature's timestamp if `line` is `witness`'s valid cosignature/v1 over `body`."""
    if (witness.key_type != COSIGNATURE_V1 or line.name != witness.name
            or line.key_id != witness.key_id or len(line.signature) != 8 + 64):
        return None
    timestamp = int.from_bytes(line.signature[:8], "big")
    if not witness.verify(cosignature_message(timestamp, body), line.signature[8:]):
        return None
    return timestamp


# The app's keys: from config, or the development stand-ins in the embedded default and tests.

def _development_allowed() -> bool:
    return bool(current_app.config.get("EMBEDDED") or current_app.config.get("TESTING"))


def origin() -> str:
    configured = current_app.config.get("TRANSPARENCY_ORIGIN")
    if configured:
        return configured
    if _development_allowed():
        return DEVELOPMENT_ORIGIN
    raise NoteError("TRANSPARENCY_ORIGIN is not set")


def signer() -> Signer:
    configured = current_app.config.get("TRANSPARENCY_SIGNING_KEY")
    if not configured and not _development_allowed():
        raise NoteError("TRANSPARENCY_SIGNING_KEY is not set")
    key = parse_signer_key(configured or DEVELOPMENT_SIGNING_KEY)
    if key.name != origin():
        raise NoteError(f"the signing key is named {key.name}, the log's origin is {origin()}")
    return key


def ref_key() -> bytes:
    configured = current_app.config.get("TRANSPARENCY_REF_KEY")
    if not configured and not _development_allowed():
        raise NoteError("TRANSPARENCY_REF_KEY is not set")
    return (configured or DEVELOPMENT_REF_KEY).encode()


def witnesses() -> list[Verifier]:
    configured = current_app.config.get("TRANSPARENCY_WITNESSES") or ""
    if isinstance(configured, (list, tuple)):
        configured = " ".join(configured)
    return [parse_verifier_key(text) for text in configured.split()]


def generate_signer_key(name: str) -> str:
    private = Ed25519PrivateKey.generate()
    seed = private.private_bytes_raw()
    encoded = base64.b64encode(bytes([ED25519]) + seed).decode()
    return f"PRIVATE+KEY+{name}+{Signer(name, private).key_id.hex()}+{encoded}"
