"""A live campaign changed by its organizer: a change waits for staff (修改 of the story, photos,
hospital, diagnosis or title; 追加目标) and, once approved, is listed publicly (修改记录); a
per-campaign lift of the target cap; and the organizer's early end (提前结束).

A change keeps only what it changes: `before` and `after` hold the same keys (field → value;
photos as lists), so the review console shows before → after and the public log names what
changed without reading the campaign's history."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Enum, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.enums import LabelledEnum
from app.extensions import db
from app.models_base import created_at_column, fen_column

# What an organizer may change on a live campaign, in the order pages list them.
FIELD_LABELS = {
    "title": "筹款标题",
    "diagnosis": "所患疾病",
    "hospital": "就诊医院",
    "story": "求助故事",
    "photos_added": "新增照片",
    "photos_removed": "删除照片",
    "target_fen": "目标金额",
}
TEXT_FIELDS = ("title", "diagnosis", "hospital", "story")
# An approved change touching these is told to the campaign's donors (what they gave for).
DONOR_FIELDS = frozenset({"story", "target_fen"})


class ChangeKind(LabelledEnum):
    edit = "edit", "修改筹款信息"
    target = "target", "追加目标"


class ChangeStatus(LabelledEnum):
    pending = "pending", "待审核"
    approved = "approved", "已通过"
    rejected = "rejected", "未通过"


class CampaignChange(db.Model):
    __tablename__ = "campaign_changes"
    __table_args__ = (Index("ix_campaign_changes_campaign_status", "campaign_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    organizer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[ChangeKind] = mapped_column(Enum(ChangeKind, native_enum=False, length=16))
    status: Mapped[ChangeStatus] = mapped_column(
        Enum(ChangeStatus, native_enum=False, length=16), default=ChangeStatus.pending)
    reason: Mapped[str] = mapped_column(String(500))           # the organizer's
    before: Mapped[dict] = mapped_column(JSON, default=dict)
    after: Mapped[dict] = mapped_column(JSON, default=dict)
    # 追加目标: the medical bills uploaded with it (review documents of kind raise_bills).
    document_ids: Mapped[list] = mapped_column(JSON, default=list)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_accounts.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = created_at_column()

    campaign = relationship("Campaign")
    decided_by = relationship("StaffAccount")

    @property
    def fields(self) -> list[str]:
        """What this change changes, in FIELD_LABELS order."""
        return [name for name in FIELD_LABELS if name in self.after or name in self.before]

    @property
    def field_labels(self) -> list[str]:
        return [FIELD_LABELS[name] for name in self.fields]

    @property
    def touches_donors(self) -> bool:
        return bool(DONOR_FIELDS & set(self.fields))


class TargetCapLift(db.Model):
    """Staff lifted the target cap for one campaign, with a reason (also in the audit log).
    The latest row is the campaign's cap; rows are only ever added."""

    __tablename__ = "campaign_target_caps"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    cap_fen: Mapped[int] = fen_column()
    reason: Mapped[str] = mapped_column(String(500))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_accounts.id"))
    created_at: Mapped[datetime] = created_at_column()

    staff = relationship("StaffAccount")


class EndReason(LabelledEnum):
    recovered = "recovered", "患者已康复"
    enough = "enough", "治疗费用已有着落"
    stopped = "stopped", "已停止治疗或转院"
    passed = "passed", "患者不幸离世"
    other = "other", "其他原因"


class LeftoverRoute(LabelledEnum):
    """What happens to the custodial balance: the two ends the platform already has."""
    withdraw = "withdraw", "用于已发生的医疗费用（提现到医院或患者账户，凭票据公示）"
    refund = "refund", "按捐款比例原路退还给捐款人"


class EarlyEnd(db.Model):
    """The organizer ended the campaign before its deadline; one per campaign."""

    __tablename__ = "campaign_early_ends"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), unique=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason_kind: Mapped[EndReason] = mapped_column(Enum(EndReason, native_enum=False, length=16))
    note: Mapped[str] = mapped_column(String(300), default="")
    route: Mapped[LeftoverRoute] = mapped_column(
        Enum(LeftoverRoute, native_enum=False, length=16))
    created_at: Mapped[datetime] = created_at_column()

    @property
    def reason_text(self) -> str:
        """What the page and the notices say: the kind, then the organizer's words."""
        return f"{self.reason_kind.label}：{self.note}" if self.note else self.reason_kind.label
