"""Encryption of sensitive strings at rest (ID numbers, real names): Fernet (AES-128-CBC plus
HMAC-SHA256, from `cryptography`), and a keyed blind index to find equal values without
decrypting.

The key is DATA_ENCRYPTION_KEY (a Fernet key: 32 url-safe base64-encoded bytes; several keys
separated by commas rotate: the first encrypts, all decrypt; `flask crypto rotate` in
app/core/key_rotation.py re-encrypts what is stored so an old key can be dropped). The blind index
has its own key, BLIND_INDEX_KEY, which never rotates: indexes are compared, never decrypted, so a
new key would make every stored index unfindable. Only the embedded default and the tests fall back
to a fixed development key for either; production refuses to start without them
(ProductionConfig.check), and this module refuses too if asked without a key.

    python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"
"""
from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app

# Development only: never used unless app.config EMBEDDED or TESTING is on.
DEVELOPMENT_KEY = base64.urlsafe_b64encode(hashlib.sha256(b"xiangzhu-development-only")
                                           .digest()).decode()


class CryptoError(RuntimeError):
    pass


def configured_keys() -> list[str]:
    config = current_app.config
    raw = config.get("DATA_ENCRYPTION_KEY") or ""
    keys = [key.strip() for key in raw.split(",") if key.strip()]
    if keys:
        return keys
    if config.get("EMBEDDED") or config.get("TESTING"):
        return [DEVELOPMENT_KEY]
    raise CryptoError("DATA_ENCRYPTION_KEY is not set; sensitive data cannot be encrypted")


def _fernets() -> list[Fernet]:
    try:
        return [Fernet(key.encode()) for key in configured_keys()]
    except ValueError as error:
        raise CryptoError(f"DATA_ENCRYPTION_KEY is not a valid Fernet key: {error}") from None


def _fernet() -> MultiFernet:
    return MultiFernet(_fernets())


def encrypt(text: str) -> str:
    return _fernet().encrypt(text.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken:
        raise CryptoError("cannot decrypt: wrong key or damaged value") from None


def encrypt_bytes(data: bytes) -> bytes:
    return _fernet().encrypt(data)


def decrypt_bytes(token: bytes) -> bytes:
    try:
        return _fernet().decrypt(token)
    except InvalidToken:
        raise CryptoError("cannot decrypt: wrong key or damaged value") from None


def blind_index_key() -> str:
    """BLIND_INDEX_KEY; in development and tests, unset, the development key. That fallback
    gives the same indexes as before BLIND_INDEX_KEY existed (they were derived from the first
    data key, which was the development key there), so existing embedded databases still match."""
    config = current_app.config
    key = (config.get("BLIND_INDEX_KEY") or "").strip()
    if key:
        return key
    if config.get("EMBEDDED") or config.get("TESTING"):
        return DEVELOPMENT_KEY
    raise CryptoError("BLIND_INDEX_KEY is not set; ID numbers cannot be indexed")


def blind_index(text: str, purpose: str) -> str:
    """HMAC-SHA256 of the value under a key derived from BLIND_INDEX_KEY and the purpose: equal
    values give equal indexes (unique constraints, look-ups), but the index reveals nothing
    without the key. Independent of DATA_ENCRYPTION_KEY, so rotating that changes no index.
    """
    secret = hmac.new(blind_index_key().encode(), b"blind-index:" + purpose.encode(),
                      hashlib.sha256).digest()
    return hmac.new(secret, text.encode("utf-8"), hashlib.sha256).hexdigest()


class KeyRing:
    """The configured data keys, built once, for going over many stored values (rotation)."""

    def __init__(self) -> None:
        self.fernets = _fernets()
        self._multi = MultiFernet(self.fernets)

    def key_number(self, token: bytes) -> int | None:
        """Which configured key (1 is the first) decrypts `token`, None when none does. Fernet
        tokens do not name their key, so each key is tried in turn."""
        for number, fernet in enumerate(self.fernets, start=1):
            try:
                fernet.decrypt(token)
            except InvalidToken:
                continue
            return number
        return None

    def rotate(self, token: bytes) -> bytes:
        """The same plaintext encrypted under the first key (raises InvalidToken when no key
        decrypts it)."""
        return self._multi.rotate(token)
