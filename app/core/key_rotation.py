"""`flask crypto rotate`: re-encrypt everything stored under the first DATA_ENCRYPTION_KEY, so an
older key can be removed; `--check` counts what is not there yet.

The core knows no feature. A feature that stores Fernet tokens registers them in its `register(app)`: its encrypted columns (register_encrypted_columns), its directories of encrypted files
(register_encrypted_files), and the blind indexes that hash an encrypted value
(register_blind_index, only checked: indexes do not depend on the data key).

Safe to run while the site is up, and to rerun after an interruption: a value already under the
first key is left alone, each batch of rows is one transaction, a row changed meanwhile by the
app is skipped (the app already writes under the first key), and a file is replaced whole (temp
file + os.replace). Every web and worker process must already run with the new key first in
DATA_ENCRYPTION_KEY, or they would go on writing under the old one.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask
from sqlalchemy import bindparam, select, update

from app.core import crypto
from app.core.files import write_whole
from app.core.plugins import registry
from app.extensions import db

DEFAULT_BATCH_SIZE = 500


@dataclass(frozen=True)
class EncryptedColumns:
    model: type
    columns: tuple[str, ...]


@dataclass(frozen=True)
class BlindIndex:
    model: type
    index: str        # the column holding blind_index(plaintext of source, purpose)
    source: str       # the encrypted column holding that plaintext
    purpose: str


def _columns(app: Flask | None = None) -> dict[str, EncryptedColumns]:
    return registry("encrypted_columns", dict, app)


def _files(app: Flask | None = None) -> dict[str, Callable[[], Iterable[Path]]]:
    return registry("encrypted_files", dict, app)


def _blind_indexes(app: Flask | None = None) -> dict[str, BlindIndex]:
    return registry("blind_indexes", dict, app)


def register_encrypted_columns(app: Flask, name: str, model: type, *columns: str) -> None:
    """Columns of `model` holding crypto.encrypt() tokens (text; NULL allowed)."""
    _columns(app)[name] = EncryptedColumns(model, columns)


def register_encrypted_files(app: Flask, name: str, paths: Callable[[], Iterable[Path]]) -> None:
    """`paths()` (called in an app context) lists every file holding crypto.encrypt_bytes()."""
    _files(app)[name] = paths


def register_blind_index(app: Flask, name: str, model: type, *, index: str, source: str,
                         purpose: str) -> None:
    _blind_indexes(app)[name] = BlindIndex(model, index, source, purpose)


def encrypted_columns() -> dict[str, EncryptedColumns]:
    return dict(_columns())


def registered() -> dict[str, list[str]]:
    return {"columns": sorted(_columns()), "files": sorted(_files()),
            "blind_indexes": sorted(_blind_indexes())}


@dataclass
class Tally:
    """What was found in one store (or all): values by the key that opens them, and what this
    run re-encrypted."""

    by_key: dict[int, int] = field(default_factory=dict)   # key number (1 = first) → count
    undecryptable: int = 0
    rotated: int = 0
    changed_meanwhile: int = 0
    index_mismatches: int = 0

    @property
    def total(self) -> int:
        return sum(self.by_key.values()) + self.undecryptable

    @property
    def not_under_first_key(self) -> int:
        return self.total - self.by_key.get(1, 0)

    def found(self, key_number: int | None) -> None:
        if key_number is None:
            self.undecryptable += 1
        else:
            self.by_key[key_number] = self.by_key.get(key_number, 0) + 1

    def add(self, other: Tally) -> None:
        for number, count in other.by_key.items():
            self.by_key[number] = self.by_key.get(number, 0) + count
        self.undecryptable += other.undecryptable
        self.rotated += other.rotated
        self.changed_meanwhile += other.changed_meanwhile
        self.index_mismatches += other.index_mismatches

    def describe(self) -> str:
        keys = ", ".join(f"key {n}: {c}" for n, c in sorted(self.by_key.items())) or "none"
        text = f"{self.total} found ({keys}; no key opens: {self.undecryptable})"
        if self.rotated or self.changed_meanwhile:
            text += f", {self.rotated} re-encrypted"
        if self.changed_meanwhile:
            text += f", {self.changed_meanwhile} row(s) changed meanwhile and left to the app"
        return text


@dataclass
class Summary:
    values: Tally = field(default_factory=Tally)
    files: Tally = field(default_factory=Tally)


Report = Callable[[str], None]


def rotate(*, check_only: bool = False, batch_size: int = DEFAULT_BATCH_SIZE,
           report: Report = print) -> Summary:
    """Re-encrypt every registered column and file under the first key (with check_only, only
    count). With check_only the blind indexes are also recomputed and compared."""
    ring = crypto.KeyRing()
    summary = Summary()
    for name, columns in sorted(_columns().items()):
        tally = _columns_pass(name, columns, ring, check_only, batch_size, report)
        report(f"{name}: {tally.describe()}")
        summary.values.add(tally)
    for name, paths in sorted(_files().items()):
        tally = _files_pass(name, paths, ring, check_only, batch_size, report)
        report(f"{name}: {tally.describe()}")
        summary.files.add(tally)
    if check_only:
        for name, index in sorted(_blind_indexes().items()):
            mismatches = _blind_index_mismatches(index, batch_size)
            report(f"{name}: {mismatches} blind index(es) do not match BLIND_INDEX_KEY")
            summary.values.index_mismatches += mismatches
    return summary


def _batches(model: type, columns: list, batch_size: int):
    """Rows (primary key first) in primary-key order, each batch committed once handled."""
    table = model.__table__
    (key,) = table.primary_key.columns
    last = None
    while True:
        query = select(key, *columns).order_by(key).limit(batch_size)
        if last is not None:
            query = query.where(key > last)
        rows = db.session.execute(query).all()
        if not rows:
            return
        yield rows
        db.session.commit()
        last = rows[-1][0]


def _columns_pass(name: str, spec: EncryptedColumns, ring: crypto.KeyRing, check_only: bool,
                  batch_size: int, report: Report) -> Tally:
    table = spec.model.__table__
    (key,) = table.primary_key.columns
    columns = [table.c[column] for column in spec.columns]
    tally, rows_seen = Tally(), 0
    for rows in _batches(spec.model, columns, batch_size):
        # Rows to update, grouped by which of their columns changed: one executemany per group.
        changes: dict[tuple[str, ...], list[dict]] = {}
        for row in rows:
            params: dict = {"row_key": row[0]}
            for column, token in zip(columns, row[1:]):
                if token is None:
                    continue
                number = ring.key_number(token.encode("ascii"))
                tally.found(number)
                if number is not None and number != 1 and not check_only:
                    params[f"old_{column.name}"] = token
                    params[f"new_{column.name}"] = ring.rotate(token.encode("ascii")).decode()
            changed = tuple(column.name for column in columns if f"new_{column.name}" in params)
            if changed:
                changes.setdefault(changed, []).append(params)
        for changed, params in changes.items():
            updated = _update_unless_changed(table, key, changed, params)
            tally.rotated += updated * len(changed)
            tally.changed_meanwhile += len(params) - updated
        rows_seen += len(rows)
        if not check_only:
            report(f"{name}: {rows_seen} rows read, {tally.rotated} values re-encrypted")
    return tally


def _update_unless_changed(table, key, changed: tuple[str, ...], params: list[dict]) -> int:
    """Write the new tokens where the row still holds the old ones (the app may have saved new
    values since they were read); returns how many rows were written."""
    # Set such columns (updated_at) to themselves, so re-encrypting is not a change of the row.
    unchanged = {column.name: column for column in table.c if column.onupdate is not None}
    statement = (update(table)
                 .where(key == bindparam("row_key"),
                        *(table.c[name] == bindparam(f"old_{name}") for name in changed))
                 .values({**{name: bindparam(f"new_{name}") for name in changed}, **unchanged}))
    return db.session.connection().execute(statement, params).rowcount


def _files_pass(name: str, paths: Callable[[], Iterable[Path]], ring: crypto.KeyRing,
                check_only: bool, batch_size: int, report: Report) -> Tally:
    tally, seen = Tally(), 0
    for path in paths():
        try:
            token = path.read_bytes()
        except FileNotFoundError:   # deleted since it was listed
            continue
        number = ring.key_number(token)
        tally.found(number)
        if number is not None and number != 1 and not check_only:
            write_whole(path, ring.rotate(token))
            tally.rotated += 1
        seen += 1
        if not check_only and seen % batch_size == 0:
            report(f"{name}: {seen} files read, {tally.rotated} re-encrypted")
    return tally


def _blind_index_mismatches(spec: BlindIndex, batch_size: int) -> int:
    table = spec.model.__table__
    source, index = table.c[spec.source], table.c[spec.index]
    mismatches = 0
    for rows in _batches(spec.model, [source, index], batch_size):
        for _, token, stored in rows:
            if token is None:
                continue
            try:
                text = crypto.decrypt(token)
            except crypto.CryptoError:
                continue    # counted as undecryptable by the column pass
            if crypto.blind_index(text, spec.purpose) != stored:
                mismatches += 1
    return mismatches
