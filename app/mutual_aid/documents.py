"""Claim documents: validated and re-encoded by the campaign photo code (content-checked, no
metadata kept), then encrypted and written outside static/ under UPLOAD_DIR/mutual_aid/. They
are served only through the claim document view (owner and staff, Cache-Control: no-store).
"""
from __future__ import annotations

import re
import secrets
from pathlib import Path

from flask import current_app

from app.campaigns.photos import PhotoError, ProcessedImage, process_upload
from app.core import crypto
from app.core.files import StorageFull, write_whole

KEY_PATTERN = re.compile(r"^[0-9a-f]{32}$")
MAX_DOCUMENTS = 9

__all__ = ["PhotoError", "MAX_DOCUMENTS", "StorageFull", "process_upload", "store", "load", "delete"]


def document_dir() -> Path:
    return Path(current_app.config["UPLOAD_DIR"]) / "mutual_aid"


def _path(key: str) -> Path:
    if not KEY_PATTERN.match(key):
        raise ValueError("bad document key")
    return document_dir() / f"{key}.bin"


def store(image: ProcessedImage) -> str:
    """Encrypt and write one document whole or not at all; StorageFull when the disk is full."""
    key = secrets.token_hex(16)
    write_whole(_path(key), crypto.encrypt_bytes(image.data))
    return key


def load(key: str) -> bytes:
    return crypto.decrypt_bytes(_path(key).read_bytes())


def delete(keys: list[str]) -> None:
    for key in keys:
        _path(key).unlink(missing_ok=True)


def encrypted_files() -> list[Path]:
    directory = document_dir()
    return sorted(directory.glob("*.bin")) if directory.exists() else []
