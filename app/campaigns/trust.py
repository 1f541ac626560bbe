"""Attestations (证实) and updates (动态): what people around the patient say, and what the
organizer reports as treatment goes on. Models, their services (each one transaction) and the
read helpers the campaign page uses.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime

from flask import Flask
from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.campaigns import telling
from app.campaigns.errors import CampaignError
from app.campaigns.models import Campaign, CampaignStatus
from app.campaigns.photos import ProcessedImage, delete_stored, store_image
from app.core.plugins import registry
from app.extensions import db
from app.models_base import created_at_column
from app.notices.services import send_told

ATTEST_RELATIONS = [
    ("relative", "亲属"), ("friend", "朋友"), ("colleague", "同事"), ("neighbour", "邻居"),
    ("classmate", "同学"), ("medical", "医护人员"),
]
ATTEST_RELATION_LABELS = dict(ATTEST_RELATIONS)
STATEMENT_MIN, STATEMENT_MAX = 5, 200
UPDATE_MIN, UPDATE_MAX = 5, 2000
UPDATE_PHOTOS_MAX = 6
ATTESTABLE = frozenset({CampaignStatus.live, CampaignStatus.frozen})
UPDATABLE = frozenset({CampaignStatus.live, CampaignStatus.frozen, CampaignStatus.ended,
                       CampaignStatus.terminated})


class Attestation(db.Model):
    __tablename__ = "campaign_attestations"
    __table_args__ = (UniqueConstraint("campaign_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    relation: Mapped[str] = mapped_column(String(16))
    statement: Mapped[str] = mapped_column(String(STATEMENT_MAX))
    created_at: Mapped[datetime] = created_at_column()

    user = relationship("User", lazy="joined")

    @property
    def relation_label(self) -> str:
        return ATTEST_RELATION_LABELS.get(self.relation, self.relation)


class CampaignUpdate(db.Model):
    __tablename__ = "campaign_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()

    photos: Mapped[list["UpdatePhoto"]] = relationship(
        order_by="UpdatePhoto.position", cascade="all, delete-orphan", lazy="selectin")

    @property
    def paragraphs(self) -> list[str]:
        return [line.strip() for line in self.body.splitlines() if line.strip()]


class UpdatePhoto(db.Model):
    """Public, like campaign photos: re-encoded JPEGs in the photo store."""

    __tablename__ = "campaign_update_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    update_id: Mapped[int] = mapped_column(ForeignKey("campaign_updates.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)


# --- services ------------------------------------------------------------------------------------

def attest(campaign_id: int, user: User, relation: str, statement: str) -> Attestation:
    """One attestation per person per campaign; never by the organizer."""
    if not isinstance(user, User):
        raise CampaignError("请先用微信登录再证实", "forbidden")
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or not campaign.is_public:
        raise CampaignError("筹款不存在", "not_found")
    if campaign.status not in ATTESTABLE:
        raise CampaignError(f"筹款{campaign.status.label}，不能再证实")
    if campaign.organizer_id == user.id:
        raise CampaignError("发起人不能为自己的筹款证实", "own_campaign")
    if relation not in ATTEST_RELATION_LABELS:
        raise CampaignError("请选择您与患者的关系")
    statement = (statement or "").strip()
    if not STATEMENT_MIN <= len(statement) <= STATEMENT_MAX:
        raise CampaignError(f"证实内容需要 {STATEMENT_MIN} 到 {STATEMENT_MAX} 个字")
    if has_attested(campaign_id, user.id):
        raise CampaignError("您已经证实过这个筹款了", "duplicate")
    attestation = Attestation(campaign_id=campaign.id, user_id=user.id, relation=relation,
                              statement=statement)
    db.session.add(attestation)
    try:
        db.session.commit()
    except IntegrityError:
        # The same person twice at once: the unique constraint keeps one.
        db.session.rollback()
        raise CampaignError("您已经证实过这个筹款了", "duplicate") from None
    return attestation


def post_update(campaign_id: int, organizer: User, body: str,
                photos: list[ProcessedImage] = ()) -> CampaignUpdate:
    campaign = db.session.get(Campaign, campaign_id)
    if (campaign is None or not isinstance(organizer, User)
            or campaign.organizer_id != organizer.id):
        raise CampaignError("只有发起人可以发布动态", "forbidden")
    if campaign.status not in UPDATABLE:
        raise CampaignError("筹款上线后才能发布动态")
    body = (body or "").strip()
    if not UPDATE_MIN <= len(body) <= UPDATE_MAX:
        raise CampaignError(f"动态内容需要 {UPDATE_MIN} 到 {UPDATE_MAX} 个字")
    photos = list(photos)
    if len(photos) > UPDATE_PHOTOS_MAX:
        raise CampaignError(f"每条动态最多 {UPDATE_PHOTOS_MAX} 张照片")
    update = CampaignUpdate(campaign_id=campaign.id, author_id=organizer.id, body=body)
    keys: list[str] = []
    committed = False
    try:
        for position, image in enumerate(photos):
            key = store_image(image)
            keys.append(key)
            update.photos.append(UpdatePhoto(position=position, storage_key=key,
                                             width=image.width, height=image.height))
        db.session.add(update)
        telling.update_posted(campaign, body)
        db.session.commit()
        committed = True
    finally:
        if not committed:
            db.session.rollback()
            delete_stored(keys)
    send_told()
    return update


# --- reading ------------------------------------------------------------------------------------

def has_attested(campaign_id: int, user_id: int) -> bool:
    return db.session.scalar(select(Attestation.id).where(
        Attestation.campaign_id == campaign_id, Attestation.user_id == user_id)) is not None


def attestations_of(campaign_id: int, limit: int = 50) -> list[Attestation]:
    return list(db.session.scalars(select(Attestation).where(
        Attestation.campaign_id == campaign_id).order_by(Attestation.id.desc()).limit(limit)))


def attestation_counts(campaign_id: int) -> list[tuple[str, int]]:
    """(label, count) by relation, in the fixed order of ATTEST_RELATIONS, non-zero only."""
    counts = Counter(db.session.scalars(select(Attestation.relation).where(
        Attestation.campaign_id == campaign_id)))
    return [(label, counts[code]) for code, label in ATTEST_RELATIONS if counts[code]]


def updates_of(campaign_id: int) -> list[CampaignUpdate]:
    """Newest first."""
    return list(db.session.scalars(select(CampaignUpdate).where(
        CampaignUpdate.campaign_id == campaign_id)
        .order_by(CampaignUpdate.created_at.desc(), CampaignUpdate.id.desc())))


# --- what other features vouch for --------------------------------------------------------------

def register_badge_source(app: Flask, source: Callable[[Campaign], list]) -> None:
    """`source(campaign)` returns the badges (kind, label, description, since) a feature shows
    on the campaign page, e.g. review's 已核实 materials and payee. A source with a
    `page_part` attribute (a callable returning a page_data.Part) has what it reads fetched in
    the page's one statement."""
    registry("campaign_badge_sources", list, app).append(source)
    make_part = getattr(source, "page_part", None)
    if make_part is not None:
        from app.campaigns.page_data import register_part

        register_part(app, make_part())


def badges_of(campaign: Campaign) -> list:
    return [badge for source in registry("campaign_badge_sources", list)
            for badge in source(campaign)]


# --- on the campaign page, in its one statement (app/campaigns/page_data.py) --------------------

ATTESTATIONS_SHOWN = 50


def page_part():
    from app.campaigns import page_data
    from app.campaigns.page_data import CAMPAIGN_ID, rows_of

    attestations = rows_of(
        select(*Attestation.__table__.c, User.nickname, User.avatar_url)
        .join(User, User.id == Attestation.user_id)
        .where(Attestation.campaign_id == CAMPAIGN_ID).limit(ATTESTATIONS_SHOWN),
        Attestation.id.desc())
    counts = rows_of(select(Attestation.relation, func.count().label("n"))
                     .where(Attestation.campaign_id == CAMPAIGN_ID)
                     .group_by(Attestation.relation), Attestation.relation)
    updates = rows_of(select(*CampaignUpdate.__table__.c)
                      .where(CampaignUpdate.campaign_id == CAMPAIGN_ID),
                      CampaignUpdate.created_at.desc(), CampaignUpdate.id.desc())
    photos = rows_of(select(*UpdatePhoto.__table__.c)
                     .join(CampaignUpdate, CampaignUpdate.id == UpdatePhoto.update_id)
                     .where(CampaignUpdate.campaign_id == CAMPAIGN_ID),
                     UpdatePhoto.update_id, UpdatePhoto.position)

    def decode(values: dict) -> dict:
        by_update: dict[int, list] = {}
        for row in page_data.decode_rows(values["update_photos"], photos):
            by_update.setdefault(row["update_id"], []).append(
                page_data.transient(UpdatePhoto, row))
        counted = Counter({row["relation"]: row["n"]
                           for row in page_data.decode_rows(values["counts"], counts)})
        return {
            "attestations": [page_data.transient(Attestation, row, user=page_data.transient(
                User, {"id": row["user_id"], "nickname": row["nickname"],
                       "avatar_url": row["avatar_url"]}))
                for row in page_data.decode_rows(values["attestations"], attestations)],
            "attestation_counts": [(label, counted[code]) for code, label in ATTEST_RELATIONS
                                   if counted[code]],
            "updates": [page_data.transient(CampaignUpdate, row,
                                            photos=by_update.get(row["id"], []))
                        for row in page_data.decode_rows(values["updates"], updates)],
        }

    return page_data.Part("trust", lambda: {"attestations": attestations, "counts": counts,
                                            "updates": updates, "update_photos": photos},
                          decode)
