"""Who decided what, when and why: one append-only row per decision (staff, member or system).

If the verification feature's audit log (app/review/audit.py) lands, these rows can be moved
there; until then the mutual-aid staff pages read this table.
"""
from __future__ import annotations

from app.extensions import db
from app.mutual_aid.models import AuditRecord


def record(action: str, subject_type: str, subject_id: int, reason: str = "", *,
           staff=None, user_id: int | None = None) -> AuditRecord:
    """Add an audit row to the current transaction (the caller's service commits)."""
    row = AuditRecord(action=action, subject_type=subject_type, subject_id=int(subject_id),
                      reason=(reason or "")[:500],
                      actor_staff_id=staff.id if staff is not None else None,
                      actor_user_id=user_id)
    db.session.add(row)
    return row
