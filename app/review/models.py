"""Verification state: medical documents, review rounds and per-document decisions, the real-name
record of organizer and patient, the payee, and what the public may see of it (badges).

Document files live in the private store (app/core/storage.py); rows hold only a random key.
ID numbers, real names and account numbers are Fernet-encrypted (app/core/crypto.py); a keyed
blind index of the patient's ID number finds the same patient across organizers.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Enum, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core import crypto, idcard
from app.core.enums import LabelledEnum
from app.core.templating import mask_name
from app.extensions import db
from app.models_base import created_at_column, updated_at_column


class DocumentKind(LabelledEnum):
    diagnosis = "diagnosis", "诊断证明"
    medical_record = "medical_record", "病历 / 入院记录"
    costs = "costs", "费用清单 / 发票"
    patient_id = "patient_id", "患者身份证"
    organizer_id = "organizer_id", "发起人身份证"
    relation_proof = "relation_proof", "关系证明"
    payee = "payee", "收款人信息"
    raise_bills = "raise_bills", "追加目标的医疗票据"

    @property
    def hint(self) -> str:
        return KIND_HINTS[self]


KIND_HINTS = {
    DocumentKind.diagnosis: "医院出具、盖有公章的诊断证明书",
    DocumentKind.medical_record: "住院病历首页、入院记录或出院小结",
    DocumentKind.costs: "费用清单、缴费发票或医生出具的费用预估",
    DocumentKind.patient_id: "患者身份证正反面（未成年人可用户口本）",
    DocumentKind.organizer_id: "发起人本人身份证正反面",
    DocumentKind.relation_proof: "户口本、结婚证、出生证明等",
    DocumentKind.payee: "医院对公账户证明，或收款银行卡照片",
    DocumentKind.raise_bills: "申请追加目标时上传：新的费用清单、缴费票据或医生出具的费用预估",
}


class DocumentStatus(LabelledEnum):
    pending = "pending", "待审核"
    approved = "approved", "已通过"
    rejected = "rejected", "未通过"


# Reasons a reviewer picks from (plus free text); the organizer reads their labels.
REJECT_REASONS = [
    ("unclear", "图片模糊或不完整，无法辨认"),
    ("wrong_kind", "上传的不是所需的材料"),
    ("no_stamp", "缺少医院公章或医生签字"),
    ("expired", "材料已过期，请提供近期材料"),
    ("mismatch", "与填写的患者、医院或疾病信息不一致"),
    ("name_mismatch", "姓名或身份证号与实名信息不一致"),
    ("suspected_fake", "材料疑似经过修改"),
    ("other", "其他（见说明）"),
]
REASON_LABELS = dict(REJECT_REASONS)


class RoundOutcome(LabelledEnum):
    pending = "pending", "审核中"
    approved = "approved", "已通过"
    rejected = "rejected", "未通过"


class CampaignDocument(db.Model):
    __tablename__ = "campaign_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    kind: Mapped[DocumentKind] = mapped_column(Enum(DocumentKind, native_enum=False, length=24))
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(32))
    size_bytes: Mapped[int] = mapped_column(Integer)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    pages: Mapped[int | None] = mapped_column(Integer)
    # Hex SHA-256 of the file as uploaded: the same file sent for two kinds is flagged to the
    # reviewer. NULL for documents uploaded before it was recorded.
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[DocumentStatus] = mapped_column(
        Enum(DocumentStatus, native_enum=False, length=16), default=DocumentStatus.pending)
    # The latest decision, copied from DocumentDecision for quick reads.
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(String(500), default="")
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()

    decisions: Mapped[list["DocumentDecision"]] = relationship(
        order_by="DocumentDecision.id", viewonly=True)

    @property
    def is_pdf(self) -> bool:
        return self.content_type == "application/pdf"

    @property
    def reason_labels(self) -> list[str]:
        return [REASON_LABELS.get(code, code) for code in self.reasons or []]


class ReviewRound(db.Model):
    """One submission and its decision. Round 1 is the first submission; each resubmission
    after a rejection opens the next."""

    __tablename__ = "review_rounds"
    __table_args__ = (UniqueConstraint("campaign_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[RoundOutcome] = mapped_column(
        Enum(RoundOutcome, native_enum=False, length=16), default=RoundOutcome.pending)
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_accounts.id"))
    summary: Mapped[str] = mapped_column(String(500), default="")
    # What the approval verified, for the public badges: ["diagnosis", "hospital", "identity"].
    verified: Mapped[list] = mapped_column(JSON, default=list)

    decided_by = relationship("StaffAccount")
    decisions: Mapped[list["DocumentDecision"]] = relationship(
        order_by="DocumentDecision.id", viewonly=True)


class DocumentDecision(db.Model):
    """Append-only: every approve or reject of a document, with reasons."""

    __tablename__ = "document_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("campaign_documents.id"), index=True)
    round_id: Mapped[int | None] = mapped_column(ForeignKey("review_rounds.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_accounts.id"))
    status: Mapped[DocumentStatus] = mapped_column(
        Enum(DocumentStatus, native_enum=False, length=16))
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = created_at_column()

    staff = relationship("StaffAccount")
    document = relationship("CampaignDocument")

    @property
    def reason_labels(self) -> list[str]:
        return [REASON_LABELS.get(code, code) for code in self.reasons or []]


class IdentityStatus(LabelledEnum):
    pending = "pending", "待核实"
    verified = "verified", "已核实"
    rejected = "rejected", "未通过"


class StaffVerified:
    """Columns of something staff verify: its state, who verified it, when, and their note."""

    status: Mapped[IdentityStatus] = mapped_column(
        Enum(IdentityStatus, native_enum=False, length=16), default=IdentityStatus.pending)
    note: Mapped[str] = mapped_column(String(500), default="")
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_accounts.id"))
    updated_at: Mapped[datetime] = updated_at_column()


class CampaignIdentity(StaffVerified, db.Model):
    """Real names and ID numbers of patient and organizer, encrypted; one row per campaign."""

    __tablename__ = "campaign_identities"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), unique=True)
    patient_name_enc: Mapped[str] = mapped_column(Text)
    patient_id_enc: Mapped[str] = mapped_column(Text)
    patient_id_index: Mapped[str] = mapped_column(String(64), index=True)
    organizer_name_enc: Mapped[str] = mapped_column(Text)
    organizer_id_enc: Mapped[str] = mapped_column(Text)

    @property
    def patient_name(self) -> str:
        return crypto.decrypt(self.patient_name_enc)

    @property
    def patient_id_number(self) -> str:
        return crypto.decrypt(self.patient_id_enc)

    @property
    def organizer_name(self) -> str:
        return crypto.decrypt(self.organizer_name_enc)

    @property
    def organizer_id_number(self) -> str:
        return crypto.decrypt(self.organizer_id_enc)

    def masked(self) -> dict[str, str]:
        return {"patient_name": mask_name(self.patient_name),
                "patient_id": idcard.mask(self.patient_id_number),
                "organizer_name": mask_name(self.organizer_name),
                "organizer_id": idcard.mask(self.organizer_id_number)}

    def revealed(self) -> dict[str, str]:
        return {"patient_name": self.patient_name, "patient_id": self.patient_id_number,
                "organizer_name": self.organizer_name, "organizer_id": self.organizer_id_number}


class PayeeKind(LabelledEnum):
    hospital = "hospital", "医院对公账户（推荐）"
    patient = "patient", "患者本人账户"
    family = "family", "患者家属账户"


class Payee(StaffVerified, db.Model):
    """Where withdrawals go. Verified by finance staff; a change sends it back to pending."""

    __tablename__ = "campaign_payees"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), unique=True)
    kind: Mapped[PayeeKind] = mapped_column(Enum(PayeeKind, native_enum=False, length=16))
    account_name_enc: Mapped[str] = mapped_column(Text)
    bank_name: Mapped[str] = mapped_column(String(100))
    branch_code: Mapped[str] = mapped_column(String(12), default="", server_default="")  # 联行号
    account_number_enc: Mapped[str] = mapped_column(Text)
    account_last4: Mapped[str] = mapped_column(String(4))

    @property
    def account_name(self) -> str:
        return crypto.decrypt(self.account_name_enc)

    @property
    def account_number(self) -> str:
        return crypto.decrypt(self.account_number_enc)

    @property
    def masked_account(self) -> str:
        return f"**** **** {self.account_last4}"

    @property
    def public_name(self) -> str:
        """A hospital's name is public; a person's is masked."""
        name = self.account_name
        return name if self.kind == PayeeKind.hospital else mask_name(name)


BADGE_LABELS = {
    "diagnosis": ("诊断证明已核实", "医院出具的诊断证明经平台审核"),
    "hospital": ("就诊医院已核实", "病历、入院记录或费用单据与所填医院一致"),
    "identity": ("身份已核实", "患者与发起人的身份证件及关系经平台核对"),
    "payee": ("收款账户已核实", "善款只能提现到经核实的收款账户"),
}
