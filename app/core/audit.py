"""The platform's one append-only audit log: who (staff, a member or the system), when, what,
before and after, why.

Every feature records its decisions here, inside its own transaction, and contributes the
Chinese labels of its actions through its manifest (register_audit_labels):

    from app.core.audit import record_audit
    record_audit(staff, "withdrawal.approve", "withdrawal", w.id, before={"status": "pending"},
                 after={"status": "approved"}, reason=reason, campaign_id=w.campaign_id)
    db.session.commit()   # the caller's service commits; the row rides on that transaction

Rows are never updated or deleted (the ORM refuses; nothing in the app issues raw SQL on them).
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, event, or_, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.plugins import audit_labels, audit_words
from app.extensions import db
from app.models_base import created_at_column, format_yuan

REASON_MAX = 1000


class AuditEntry(db.Model):
    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_target", "target_type", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_accounts.id"),
                                                        index=True)
    # A snapshot: the log still says who it was if the account is renamed.
    actor_name: Mapped[str] = mapped_column(String(64))
    # A member acting on their own behalf (a mutual-aid claim, a wallet refund request).
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[int | None] = mapped_column(Integer)
    campaign_id: Mapped[int | None] = mapped_column(Integer, index=True)
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(String(REASON_MAX), default="")
    created_at: Mapped[datetime] = created_at_column()

    actor = relationship("StaffAccount")

    @property
    def label(self) -> str:
        return audit_labels().get(self.action, self.action)

    @property
    def changes(self) -> list[tuple[str, Any, Any]]:
        """(field, before, after) for each field that differs, for display."""
        before, after = self.before or {}, self.after or {}
        keys = list(dict.fromkeys([*before.keys(), *after.keys()]))
        return [(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)]

    @property
    def target_label(self) -> str:
        return target_label(self.target_type)

    @property
    def readable_changes(self) -> list["Change"]:
        """The changes in Chinese, as the features that write them registered their words."""
        words = audit_words()
        return [Change(key, _field_label(words, key),
                       _value_text(words, self.target_type, key, old),
                       _value_text(words, self.target_type, key, new), f"{key}: {old} → {new}")
                for key, old, new in self.changes]


class Change(NamedTuple):
    key: str
    label: str
    before: str
    after: str
    raw: str


def target_label(target_type: str) -> str:
    return audit_words()["targets"].get(target_type) or _readable_code(target_type)


def _field_label(words: dict, key: str) -> str:
    return words["fields"].get(key) or _readable_code(key)


def _readable_code(code: str) -> str:
    """An unregistered code read as words ("rejected_documents" → "rejected documents")."""
    return code.replace("_", " ").replace(".", " · ").strip() or "—"


def _value_text(words: dict, target_type: str, key: str, value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int) and key.endswith("_fen"):
        return f"¥{format_yuan(value)}"
    if isinstance(value, str):
        return _value_label(words, target_type, key, value)
    if isinstance(value, (list, tuple)):
        return "、".join(f"#{item}" if isinstance(item, int) and not isinstance(item, bool)
                        else _value_text(words, target_type, key, item) for item in value)
    if isinstance(value, dict):
        return "；".join(
            f"{_field_label(words, str(k))}：{_value_text(words, target_type, str(k), v)}"
            for k, v in value.items())
    return str(value)


def _value_label(words: dict, target_type: str, key: str, value: str) -> str:
    values = words["values"]
    for scope in (f"{target_type}.{key}", key):
        if value in values.get(scope, {}):
            return values[scope][value]
    for labels in values.values():   # a value of a field its feature did not scope
        if value in labels:
            return labels[value]
    return value


@event.listens_for(AuditEntry, "before_update")
def _refuse_update(mapper, connection, target) -> None:
    raise RuntimeError("audit entries are append-only")


@event.listens_for(AuditEntry, "before_delete")
def _refuse_delete(mapper, connection, target) -> None:
    raise RuntimeError("audit entries are append-only")


def record_audit(actor_staff, action: str, target_type: str, target_id: int | None,
                 before: dict | None = None, after: dict | None = None, reason: str = "",
                 *, campaign_id: int | None = None,
                 actor_user_id: int | None = None) -> AuditEntry:
    """Add one row to the current transaction; the calling service commits.

    actor_staff is a StaffAccount, actor_user_id a member acting for themselves; with neither
    the system acted. campaign_id links the row to a campaign's log; it defaults to target_id
    when the target is a campaign.
    """
    if campaign_id is None and target_type == "campaign":
        campaign_id = target_id
    entry = AuditEntry(
        actor_staff_id=actor_staff.id if actor_staff is not None else None,
        actor_name=_actor_name(actor_staff, actor_user_id), actor_user_id=actor_user_id,
        action=action[:64], target_type=target_type[:32], target_id=target_id,
        campaign_id=campaign_id, before=_plain(before), after=_plain(after),
        reason=(reason or "")[:REASON_MAX])
    db.session.add(entry)
    return entry


def _actor_name(actor_staff, actor_user_id: int | None) -> str:
    if actor_staff is not None:
        return actor_staff.display_name[:64]
    return "会员本人" if actor_user_id is not None else "系统"


def _plain(value: dict | None) -> dict | None:
    """JSON-safe copy: enums by value, datetimes as ISO strings."""
    if value is None:
        return None
    return {str(key): _jsonable(item) for key, item in value.items()}


def _jsonable(item: Any) -> Any:
    if isinstance(item, enum.Enum):
        return item.value
    if isinstance(item, datetime):
        return item.isoformat()
    if isinstance(item, (list, tuple)):
        return [_jsonable(x) for x in item]
    return item


# --- reading ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AuditQuery:
    q: str = ""
    action: str = ""
    target_type: str = ""
    campaign_id: int | None = None
    staff_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None


def for_campaign(campaign_id: int, limit: int = 200) -> list[AuditEntry]:
    return list(db.session.scalars(
        select(AuditEntry).where(AuditEntry.campaign_id == campaign_id)
        .order_by(AuditEntry.id.desc()).limit(limit)))


def search(query: AuditQuery, page: int = 1, per_page: int = 50):
    stmt = select(AuditEntry)
    if query.q:
        text = query.q.strip()[:50]
        stmt = stmt.where(or_(AuditEntry.reason.icontains(text, autoescape=True),
                              AuditEntry.actor_name.icontains(text, autoescape=True),
                              AuditEntry.action.icontains(text, autoescape=True)))
    if query.action:
        stmt = stmt.where(AuditEntry.action == query.action)
    if query.target_type:
        stmt = stmt.where(AuditEntry.target_type == query.target_type)
    if query.campaign_id is not None:
        stmt = stmt.where(AuditEntry.campaign_id == query.campaign_id)
    if query.staff_id is not None:
        stmt = stmt.where(AuditEntry.actor_staff_id == query.staff_id)
    if query.since is not None:
        stmt = stmt.where(AuditEntry.created_at >= query.since)
    if query.until is not None:
        stmt = stmt.where(AuditEntry.created_at < query.until)
    stmt = stmt.order_by(AuditEntry.id.desc())
    return db.paginate(stmt, page=max(1, page), per_page=per_page, error_out=False)
