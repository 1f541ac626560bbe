"""The organizer's side of verification: documents, real-name details, payee, submission.

One business action, one transaction. Files are written before the commit and removed again if
it fails; a removed document's file is deleted after the commit. Errors are ReviewError with a
Chinese message for the organizer.
"""
from __future__ import annotations

import hashlib
import re

from sqlalchemy import func, select

from app.auth import legal
from app.auth.models import User
from app.campaigns import services as campaign_services
from app.campaigns.errors import CampaignError
from app.campaigns.models import Campaign, CampaignStatus
from app.core import crypto, idcard
from app.extensions import db
from app.models_base import utcnow
from app.review.models import (
    CampaignDocument,
    CampaignIdentity,
    DocumentKind,
    DocumentStatus,
    IdentityStatus,
    Payee,
    PayeeKind,
    ReviewRound,
    RoundOutcome,
)
from app.core.storage import StorageError, delete_all, get_storage, put_all
from app.core.uploads import CheckedFile

S = CampaignStatus
UPLOAD_STATUSES = frozenset({S.draft, S.rejected, S.live, S.frozen})
PAYEE_STATUSES = frozenset({S.draft, S.rejected, S.submitted, S.live, S.frozen})
MAX_PER_KIND = 12
MAX_PER_CAMPAIGN = 60
ID_INDEX_PURPOSE = "patient-id"
ACCOUNT_PATTERN = re.compile(r"^\d{8,30}$")


class ReviewError(CampaignError):
    """A verification action that is not allowed; `message` is shown as it is."""


# --- who and what ---------------------------------------------------------------------------------

def required_kinds(campaign: Campaign) -> list[DocumentKind]:
    """What must be uploaded (and approved) before a campaign can go live."""
    kinds = [DocumentKind.diagnosis, DocumentKind.patient_id]
    if campaign.relation != "self":
        kinds += [DocumentKind.organizer_id, DocumentKind.relation_proof]
    return kinds


def current_documents(campaign_id: int) -> list[CampaignDocument]:
    return list(db.session.scalars(
        select(CampaignDocument).where(CampaignDocument.campaign_id == campaign_id,
                                       CampaignDocument.removed_at.is_(None))
        .order_by(CampaignDocument.id)))


def missing_kinds(campaign: Campaign) -> list[DocumentKind]:
    present = {d.kind for d in current_documents(campaign.id)
               if d.status != DocumentStatus.rejected}
    return [kind for kind in required_kinds(campaign) if kind not in present]


def identity_of(campaign_id: int) -> CampaignIdentity | None:
    return db.session.scalar(select(CampaignIdentity)
                             .where(CampaignIdentity.campaign_id == campaign_id))


def payee_of(campaign_id: int) -> Payee | None:
    return db.session.scalar(select(Payee).where(Payee.campaign_id == campaign_id))


def verified_payee(campaign_id: int) -> Payee | None:
    """For withdrawals: the payee if finance has verified it, else None."""
    payee = payee_of(campaign_id)
    return payee if payee is not None and payee.status == IdentityStatus.verified else None


# --- documents -------------------------------------------------------------------------------------

def upload_documents(campaign: Campaign | int, organizer: User, kind: DocumentKind | str,
                     files: list[CheckedFile]) -> list[CampaignDocument]:
    campaign = _own(campaign, organizer)
    kind = _kind(kind)
    if campaign.status not in UPLOAD_STATUSES:
        raise ReviewError(f"筹款{campaign.status.label}，现在不能上传材料")
    if not files:
        raise ReviewError("请选择要上传的文件")
    docs = current_documents(campaign.id)
    if sum(1 for d in docs if d.kind == kind) + len(files) > MAX_PER_KIND:
        raise ReviewError(f"每类材料最多 {MAX_PER_KIND} 个文件")
    if len(docs) + len(files) > MAX_PER_CAMPAIGN:
        raise ReviewError(f"材料总数最多 {MAX_PER_CAMPAIGN} 个文件")
    keys = put_all([f.data for f in files])
    committed = False
    try:
        added = [CampaignDocument(
            campaign_id=campaign.id, kind=kind, storage_key=key, content_type=f.content_type,
            size_bytes=len(f.data), width=f.width, height=f.height, pages=f.pages,
            sha256=hashlib.sha256(f.data).hexdigest(), uploaded_by_id=organizer.id, status=DocumentStatus.pending, reasons=[], note="")
            for key, f in zip(keys, files)]
        db.session.add_all(added)
        db.session.commit()
        committed = True
    finally:
        if not committed:
            db.session.rollback()
            delete_all(keys)
    return added


def remove_document(campaign: Campaign | int, organizer: User, document_id: int) -> None:
    """Withdraw a document that is not yet approved; its file is deleted, its decisions kept."""
    campaign = _own(campaign, organizer)
    if campaign.status not in UPLOAD_STATUSES:
        raise ReviewError(f"筹款{campaign.status.label}，现在不能删除材料")
    document = db.session.get(CampaignDocument, document_id)
    if document is None or document.campaign_id != campaign.id or document.removed_at:
        raise ReviewError("材料不存在", "not_found")
    if document.status == DocumentStatus.approved:
        raise ReviewError("已通过审核的材料不能删除")
    document.removed_at = utcnow()
    key = document.storage_key
    db.session.commit()
    get_storage().delete(key)


def read_document(document: CampaignDocument) -> bytes:
    return get_storage().get(document.storage_key)


def hash_unhashed_documents(chunk: int = 200) -> tuple[int, int]:
    """Documents uploaded before each upload's SHA-256 was kept get it from their stored file,
    so the review console can flag them too. Idempotent; commits per chunk. Returns (hashed,
    missing): a file the store no longer has is left without a hash."""
    hashed = missing = 0
    last_id = 0
    while True:
        documents = list(db.session.scalars(
            select(CampaignDocument).where(CampaignDocument.sha256.is_(None),
                                           CampaignDocument.removed_at.is_(None),
                                           CampaignDocument.id > last_id)
            .order_by(CampaignDocument.id).limit(chunk)))
        if not documents:
            return hashed, missing
        for document in documents:
            last_id = document.id
            try:
                document.sha256 = hashlib.sha256(read_document(document)).hexdigest()
                hashed += 1
            except StorageError:
                missing += 1
        db.session.commit()


# --- real names and payee --------------------------------------------------------------------------

def save_identity(campaign: Campaign | int, organizer: User, *, patient_name: str,
                  patient_id: str, organizer_name: str = "",
                  organizer_id: str = "") -> CampaignIdentity:
    campaign = _own(campaign, organizer)
    if not campaign.is_editable:
        raise ReviewError(f"筹款{campaign.status.label}，实名信息不能再修改")
    patient_name = _real_name(patient_name, "患者")
    patient = _id_number(patient_id, "患者")
    if campaign.relation == "self":
        organizer_name, organizer_number = patient_name, patient
    else:
        organizer_name = _real_name(organizer_name, "发起人")
        organizer_number = _id_number(organizer_id, "发起人")
        if organizer_number == patient:
            raise ReviewError("发起人与患者不是同一人时，身份证号码不能相同")
    identity = identity_of(campaign.id) or CampaignIdentity(campaign_id=campaign.id)
    identity.patient_name_enc = crypto.encrypt(patient_name)
    identity.patient_id_enc = crypto.encrypt(patient)
    identity.patient_id_index = crypto.blind_index(patient, ID_INDEX_PURPOSE)
    identity.organizer_name_enc = crypto.encrypt(organizer_name)
    identity.organizer_id_enc = crypto.encrypt(organizer_number)
    identity.status = IdentityStatus.pending
    identity.verified_at = None
    identity.verified_by_id = None
    identity.note = ""
    db.session.add(identity)
    db.session.commit()
    return identity


def save_payee(campaign: Campaign | int, organizer: User, *, kind: PayeeKind | str,
               account_name: str, bank_name: str, account_number: str,
               branch_code: str = "") -> Payee:
    campaign = _own(campaign, organizer)
    if campaign.status not in PAYEE_STATUSES:
        raise ReviewError(f"筹款{campaign.status.label}，收款人不能再修改")
    try:
        kind = PayeeKind(kind)
    except ValueError:
        raise ReviewError("请选择收款人类型") from None
    account_name = (account_name or "").strip()
    bank_name = (bank_name or "").strip()
    number = re.sub(r"[\s-]", "", account_number or "")
    if not 2 <= len(account_name) <= 60:
        raise ReviewError("请填写收款户名（2 到 60 个字）")
    if not 2 <= len(bank_name) <= 100:
        raise ReviewError("请填写开户银行")
    if not ACCOUNT_PATTERN.match(number):
        raise ReviewError("银行账号应为 8 到 30 位数字")
    branch_code = (branch_code or "").strip()
    if branch_code and not (branch_code.isdigit() and len(branch_code) == 12):
        raise ReviewError("联行号应为 12 位数字（可向开户银行查询），不知道可以不填")
    payee = payee_of(campaign.id) or Payee(campaign_id=campaign.id)
    payee.kind = kind
    payee.account_name_enc = crypto.encrypt(account_name)
    payee.bank_name = bank_name
    payee.branch_code = branch_code
    payee.account_number_enc = crypto.encrypt(number)
    payee.account_last4 = number[-4:]
    payee.status = IdentityStatus.pending
    payee.verified_at = None
    payee.verified_by_id = None
    payee.note = ""
    db.session.add(payee)
    db.session.commit()
    return payee


# --- submission ------------------------------------------------------------------------------------

def submit_for_review(campaign: Campaign | int, organizer: User,
                      accept_legal: bool = False) -> ReviewRound:
    """Check the documents and real names are there and the organizer has accepted the
    用户协议 and 隐私政策 in force (`accept_legal`: they ticked 同意 now, recorded with this
    submission), open the next review round and submit the campaign (draft or rejected →
    submitted), all in one transaction."""
    campaign = _own(campaign, organizer)
    if not campaign.is_editable:
        raise ReviewError(f"筹款当前状态为“{campaign.status.label}”，不能提交审核",
                          "invalid_transition")
    if not campaign.photos:
        raise ReviewError("请至少上传一张照片作为封面，再提交审核", "photo_required")
    missing = missing_kinds(campaign)
    if missing:
        raise ReviewError("提交前请上传：" + "、".join(k.label for k in missing), "documents_missing")
    identity = identity_of(campaign.id)
    if identity is None:
        raise ReviewError("提交前请填写患者和发起人的实名信息", "identity_missing")
    _check_patient_elsewhere(campaign, identity)
    if accept_legal:
        legal.note_acceptance(organizer.id, legal.VIA_CAMPAIGN)
    elif not legal.has_accepted(organizer):
        raise ReviewError(legal.NOT_ACCEPTED, "terms_not_accepted")
    number = (db.session.scalar(select(func.max(ReviewRound.number))
                                .where(ReviewRound.campaign_id == campaign.id)) or 0) + 1
    round_ = ReviewRound(campaign_id=campaign.id, number=number, submitted_at=utcnow(),
                         outcome=RoundOutcome.pending, verified=[], summary="")
    db.session.add(round_)
    # Rejected documents were judged unusable: replacements are uploaded (missing_kinds checks
    # that), and what is left of them is withdrawn with this submission. Decisions are kept.
    withdrawn = [d for d in current_documents(campaign.id) if d.status == DocumentStatus.rejected]
    for document in withdrawn:
        document.removed_at = utcnow()
    if identity.status == IdentityStatus.rejected:
        identity.status = IdentityStatus.pending
    try:
        campaign_services.submit_campaign(campaign.id, by_user=organizer)  # commits
    except CampaignError:
        db.session.rollback()
        raise
    delete_all([d.storage_key for d in withdrawn])
    return round_


def _check_patient_elsewhere(campaign: Campaign, identity: CampaignIdentity) -> None:
    """One campaign at a time per patient, whoever organises it (by the ID number's index)."""
    busy = db.session.scalar(
        select(Campaign.id).join(CampaignIdentity, CampaignIdentity.campaign_id == Campaign.id)
        .where(CampaignIdentity.patient_id_index == identity.patient_id_index,
               Campaign.id != campaign.id,
               Campaign.status.in_([S.submitted, S.live, S.frozen])).limit(1))
    if busy is not None:
        raise ReviewError("该患者已有一个正在审核或进行中的筹款，同一患者同时只能有一个筹款",
                          "patient_busy")


# --- helpers ----------------------------------------------------------------------------------------

def _own(campaign: Campaign | int, organizer: User) -> Campaign:
    found = db.session.get(Campaign, campaign) if isinstance(campaign, int) else campaign
    if (found is None or getattr(organizer, "is_staff", False)
            or found.organizer_id != organizer.id):
        raise ReviewError("筹款不存在", "not_found")
    return found


def _kind(kind: DocumentKind | str) -> DocumentKind:
    try:
        return DocumentKind(kind)
    except ValueError:
        raise ReviewError("请选择材料类型") from None


def _real_name(name: str, who: str) -> str:
    name = (name or "").strip()
    if not 2 <= len(name) <= 32:
        raise ReviewError(f"请填写{who}的真实姓名（2 到 32 个字）")
    return name


def _id_number(number: str, who: str) -> str:
    try:
        return idcard.parse(number).number
    except idcard.IdCardError as error:
        raise ReviewError(f"{who}{error}") from None
