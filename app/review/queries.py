"""Read-only look-ups for the staff console, the organizer's documents page and the public
badges. Nothing here commits."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from app.campaigns.models import Campaign, CampaignStatus
from app.extensions import db
from app.models_base import as_utc, utcnow
from app.review.models import (
    BADGE_LABELS,
    CampaignDocument,
    DocumentKind,
    DocumentStatus,
    IdentityStatus,
    Payee,
    ReviewRound,
    RoundOutcome,
)
from app.review.services import current_documents


@dataclass(frozen=True)
class QueueItem:
    campaign: Campaign
    round_number: int
    waiting: str
    waiting_hours: float
    documents: int
    pending_documents: int


def waiting_label(since: datetime | None, now: datetime | None = None) -> str:
    if since is None:
        return "—"
    seconds = max(0, int(((now or utcnow()) - as_utc(since)).total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days} 天 {hours} 小时"
    if hours:
        return f"{hours} 小时 {minutes} 分"
    return f"{minutes} 分钟"


def review_queue(now: datetime | None = None) -> list[QueueItem]:
    """Submitted campaigns, longest waiting first, with how long each has waited."""
    now = now or utcnow()
    campaigns = db.session.scalars(
        select(Campaign).where(Campaign.status == CampaignStatus.submitted)
        .order_by(Campaign.submitted_at.asc(), Campaign.id.asc())).unique().all()
    ids = [c.id for c in campaigns]
    rounds = dict(db.session.execute(
        select(ReviewRound.campaign_id, func.max(ReviewRound.number))
        .where(ReviewRound.campaign_id.in_(ids)).group_by(ReviewRound.campaign_id)).all())
    doc_counts: dict[int, tuple[int, int]] = {}
    for campaign_id, status, count in db.session.execute(
            select(CampaignDocument.campaign_id, CampaignDocument.status, func.count())
            .where(CampaignDocument.campaign_id.in_(ids), CampaignDocument.removed_at.is_(None))
            .group_by(CampaignDocument.campaign_id, CampaignDocument.status)):
        total, pending = doc_counts.get(campaign_id, (0, 0))
        doc_counts[campaign_id] = (total + count,
                                   pending + (count if status == DocumentStatus.pending else 0))
    items = []
    for campaign in campaigns:
        since = as_utc(campaign.submitted_at) if campaign.submitted_at else now
        total, pending = doc_counts.get(campaign.id, (0, 0))
        items.append(QueueItem(campaign=campaign, round_number=rounds.get(campaign.id) or 1,
                               waiting=waiting_label(since, now),
                               waiting_hours=(now - since).total_seconds() / 3600,
                               documents=total, pending_documents=pending))
    return items


def rounds_of(campaign_id: int) -> list[ReviewRound]:
    return list(db.session.scalars(select(ReviewRound).where(
        ReviewRound.campaign_id == campaign_id).order_by(ReviewRound.number.desc())))


def documents_by_kind(campaign_id: int) -> list[tuple[DocumentKind, list[CampaignDocument]]]:
    docs = current_documents(campaign_id)
    return [(kind, [d for d in docs if d.kind == kind]) for kind in DocumentKind]


@dataclass(frozen=True)
class DuplicateUpload:
    """One file (same SHA-256) uploaded as several document kinds of one campaign."""
    documents: tuple[CampaignDocument, ...]

    @property
    def kind_labels(self) -> list[str]:
        labels: list[str] = []
        for document in self.documents:
            if document.kind.label not in labels:
                labels.append(document.kind.label)
        return labels


@dataclass(frozen=True)
class DuplicateUploads:
    groups: list[DuplicateUpload]
    # sha256 → documents of other campaigns (any organizer, removed ones too) with that file
    elsewhere: dict[str, list[CampaignDocument]]

    def others(self, document: CampaignDocument) -> list[CampaignDocument]:
        """The documents of other kinds holding the same file as `document`."""
        for group in self.groups:
            if document in group.documents:
                return [d for d in group.documents if d.kind != document.kind]
        return []

    def in_other_campaigns(self, document: CampaignDocument) -> list[CampaignDocument]:
        return self.elsewhere.get(document.sha256 or "", [])

    @property
    def any(self) -> bool:
        return bool(self.groups or self.elsewhere)


def duplicate_uploads(campaign_id: int) -> DuplicateUploads:
    """The current documents whose file was also uploaded as another kind, or for another
    campaign. The same file twice under one kind is not flagged: it proves nothing twice over."""
    by_hash: dict[str, list[CampaignDocument]] = {}
    for document in current_documents(campaign_id):
        if document.sha256:
            by_hash.setdefault(document.sha256, []).append(document)
    elsewhere: dict[str, list[CampaignDocument]] = {}
    if by_hash:
        for other in db.session.scalars(select(CampaignDocument).where(
                CampaignDocument.sha256.in_(list(by_hash)),
                CampaignDocument.campaign_id != campaign_id).order_by(CampaignDocument.id)):
            elsewhere.setdefault(other.sha256, []).append(other)
    return DuplicateUploads([DuplicateUpload(tuple(documents)) for documents in by_hash.values()
                             if len({d.kind for d in documents}) > 1], elsewhere)


def removed_documents(campaign_id: int) -> list[CampaignDocument]:
    return list(db.session.scalars(select(CampaignDocument).where(
        CampaignDocument.campaign_id == campaign_id, CampaignDocument.removed_at.is_not(None))
        .order_by(CampaignDocument.id)))


@dataclass(frozen=True)
class Badge:
    kind: str
    label: str
    description: str
    verified_at: datetime


def badges_for(campaign: Campaign) -> list[Badge]:
    """What the platform verified, and when — never the documents themselves."""
    if not campaign.is_public:
        return []
    from app.campaigns import page_data

    fetched = page_data.prefetched(campaign.id, "review_badges")
    if fetched is not page_data.MISSING:
        approved, payee = fetched
    else:
        approved = db.session.scalar(select(ReviewRound).where(
            ReviewRound.campaign_id == campaign.id, ReviewRound.outcome == RoundOutcome.approved)
            .order_by(ReviewRound.number.desc()).limit(1))
        payee = db.session.scalar(select(Payee).where(Payee.campaign_id == campaign.id))
    badges = []
    if approved is not None and approved.decided_at is not None:
        for kind in approved.verified or []:
            label, description = BADGE_LABELS[kind]
            badges.append(Badge(kind, label, description, approved.decided_at))
    if payee is not None and payee.status == IdentityStatus.verified and payee.verified_at:
        label, description = BADGE_LABELS["payee"]
        badges.append(Badge("payee", label, description, payee.verified_at))
    return badges


def _badges_page_part():
    """The last approved round and the payee, in the campaign page's one statement."""
    from app.campaigns import page_data
    from app.campaigns.page_data import CAMPAIGN_ID, rows_of

    rounds = rows_of(select(ReviewRound.verified, ReviewRound.decided_at)
                     .where(ReviewRound.campaign_id == CAMPAIGN_ID,
                            ReviewRound.outcome == RoundOutcome.approved)
                     .order_by(ReviewRound.number.desc()).limit(1))
    payees = rows_of(select(Payee.status, Payee.verified_at)
                     .where(Payee.campaign_id == CAMPAIGN_ID).limit(1))

    def decode(values: dict):
        approved = page_data.decode_rows(values["round"], rounds)
        payee = page_data.decode_rows(values["payee"], payees)
        return (page_data.transient(ReviewRound, approved[0]) if approved else None,
                page_data.transient(Payee, payee[0]) if payee else None)

    return page_data.Part("review_badges", lambda: {"round": rounds, "payee": payees}, decode)


badges_for.page_part = _badges_page_part
