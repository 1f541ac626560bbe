"""Private file storage for documents and report evidence, behind a small interface.

The default is local disk under UPLOAD_DIR/private (never under static/), one file per random
key, encrypted at rest with the data key (app/core/crypto.py). Another backend (an object store
with server-side encryption) only has to provide put/get/delete; set it with
`app.extensions["document_storage"] = MyStorage()`.
"""
from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Protocol

from flask import current_app

from app.core import crypto
from app.core.files import StorageFull, write_whole

__all__ = ["DocumentStorage", "LocalStorage", "StorageError", "StorageFull", "delete_all",
           "get_storage", "put_all"]

KEY_PATTERN = re.compile(r"^[0-9a-f]{40}$")


class StorageError(Exception):
    pass


class DocumentStorage(Protocol):
    def put(self, data: bytes) -> str: ...

    def get(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None: ...


class LocalStorage:
    def __init__(self, root: Path):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not KEY_PATTERN.match(key or ""):
            raise StorageError("bad storage key")
        return self.root / key[:2] / f"{key}.bin"

    def put(self, data: bytes) -> str:
        """Store one file whole or not at all; StorageFull when the disk is full."""
        key = secrets.token_hex(20)
        write_whole(self._path(key), crypto.encrypt_bytes(data))
        return key

    def get(self, key: str) -> bytes:
        path = self._path(key)
        if not path.exists():
            raise StorageError("no such file")
        return crypto.decrypt_bytes(path.read_bytes())

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def paths(self) -> list[Path]:
        """Every stored file, in a stable order (for `flask crypto rotate`)."""
        return sorted(self.root.glob("*/*.bin")) if self.root.exists() else []

    def keys(self) -> set[str]:
        """Every stored key (for tests and housekeeping)."""
        if not self.root.exists():
            return set()
        return {p.stem for p in self.root.glob("*/*.bin")}


def get_storage() -> DocumentStorage:
    custom = current_app.extensions.get("document_storage")
    if custom is not None:
        return custom
    return LocalStorage(Path(current_app.config["UPLOAD_DIR"]) / "private")


def encrypted_files() -> list[Path]:
    """The local store's files; another backend encrypts (and rotates) on its own."""
    storage = get_storage()
    return storage.paths() if isinstance(storage, LocalStorage) else []



def put_all(blobs: list[bytes]) -> list[str]:
    """Store several files; if one fails (StorageFull when the disk is full, or whatever the
    backend raises), the ones already written are removed."""
    storage = get_storage()
    keys: list[str] = []
    stored = False
    try:
        for blob in blobs:
            keys.append(storage.put(blob))
        stored = True
    finally:
        if not stored:
            delete_all(keys)
    return keys


def delete_all(keys: list[str]) -> None:
    storage = get_storage()
    for key in keys:
        storage.delete(key)
