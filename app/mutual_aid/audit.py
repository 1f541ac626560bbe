"""Who decided what, when and why: one append-only row per decision (staff, member or system).

Our own table (AuditRecord) keeps members' and the system's decisions too and feeds the plan's
staff pages; staff decisions are also written to the platform's audit log
(app/review/audit.py, `mutual_aid.<action>`), so one place lists every staff decision.
"""
from __future__ import annotations

from app.extensions import db
from app.mutual_aid.models import AuditRecord
from app.review.audit import record_audit


def record(action: str, subject_type: str, subject_id: int, reason: str = "", *,
           staff=None, user_id: int | None = None) -> AuditRecord:
    """Add an audit row to the current transaction (the caller's service commits)."""
    row = AuditRecord(action=action, subject_type=subject_type, subject_id=int(subject_id),
                      reason=(reason or "")[:500],
                      actor_staff_id=staff.id if staff is not None else None,
                      actor_user_id=user_id)
    db.session.add(row)
    if staff is not None:
        _platform_log(staff, action, subject_type, subject_id, reason)
    return row


def _platform_log(staff, action: str, subject_type: str, subject_id: int, reason: str) -> None:
    record_audit(staff, f"mutual_aid.{action}", f"mutual_aid_{subject_type}"[:32],
                 int(subject_id), reason=reason or "")
