"""Witnesses' cosignatures: a cosigned checkpoint note posted by a configured witness is
verified (its body is a checkpoint the platform signed, the line verifies under the witness's
configured key) and stored once per witness and checkpoint."""
from __future__ import annotations

import base64
import binascii

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.core.errors import ApiError
from app.extensions import db
from app.transparency import notes
from app.transparency.models import Checkpoint, Cosignature

MAX_NOTE_BYTES = 16_384


def _checkpoint_of(body: str) -> Checkpoint:
    lines = body.split("\n")
    if len(lines) < 4 or not lines[1].isascii() or not lines[1].isdigit() or len(lines[1]) > 18:
        raise ApiError(400, "note_malformed", "检查点格式有误")
    if lines[0] != notes.origin():
        raise ApiError(404, "checkpoint_unknown", "不是本账本的检查点")
    try:
        root = base64.b64decode(lines[2], validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(400, "note_malformed", "检查点的根哈希不是 base64") from None
    checkpoint = db.session.get(Checkpoint, int(lines[1]))
    if checkpoint is None:
        raise ApiError(404, "checkpoint_unknown", "本平台没有签署过这个大小的检查点")
    if checkpoint.root_hash != root or not checkpoint.note.startswith(body + "\n"):
        raise ApiError(409, "checkpoint_mismatch", "与本平台签署的同一大小的检查点不符")
    return checkpoint


def accept_cosignature(note: str) -> list[str]:
    """Store the configured witnesses' valid cosignatures in `note`; returns their names.
    ApiError (4xx) when the note is malformed, is not a checkpoint we signed, carries no line
    of a configured witness, or a configured witness's line does not verify."""
    if len(note.encode()) > MAX_NOTE_BYTES:
        raise ApiError(413, "note_too_large", "检查点过长")
    try:
        body, lines = notes.split_note(note)
    except notes.NoteError:
        raise ApiError(400, "note_malformed", "检查点格式有误") from None
    checkpoint = _checkpoint_of(body)
    witnesses = {(w.name, w.key_id): w for w in notes.witnesses()}
    accepted: list[tuple[notes.SignatureLine, int]] = []
    for line in lines:
        witness = witnesses.get((line.name, line.key_id))
        if witness is None:
            continue
        timestamp = notes.verify_cosignature(line, body, witness)
        if timestamp is None:
            raise ApiError(403, "signature_invalid", f"见证人 {line.name} 的签名无效")
        accepted.append((line, timestamp))
    if not accepted:
        raise ApiError(403, "witness_unknown", "没有已配置的见证人的联署")
    for line, timestamp in accepted:
        _store(checkpoint.tree_size, line, timestamp)
    db.session.commit()
    return [line.name for line, _ in accepted]


def _store(size: int, line: notes.SignatureLine, timestamp: int) -> None:
    """Once per witness and checkpoint: a second posting (a retry, a later cosignature of the
    same checkpoint) keeps the first."""
    exists = select(Cosignature.id).where(Cosignature.tree_size == size,
                                          Cosignature.witness == line.name)
    if db.session.scalar(exists) is not None:
        return
    try:
        with db.session.begin_nested():
            db.session.add(Cosignature(tree_size=size, witness=line.name,
                                       signature_line=line.text, cosigned_at=timestamp))
    except IntegrityError:
        pass  # the same witness's same checkpoint, stored by a racing request
