"""The 用户协议 and 隐私政策 a person accepts, by version, and the optional processing they may
withdraw their consent to (PIPL art. 15).

An organizer accepts both documents before a campaign is submitted (the campaign form's
checkbox, or the one beside 提交审核); a donor accepts them by paying, on the first donation
after a version is published. Each acceptance is kept once per person, document and version,
with when and how; a new version asks again. Consent withdrawals are rows; giving consent again
deletes the row, so "no row" means the person has not withdrawn.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import DateTime, ForeignKey, String, UniqueConstraint, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models_base import created_at_column, utcnow


@dataclass(frozen=True)
class LegalDocument:
    code: str
    title: str
    version: str
    endpoint: str


# A change to the text of templates/legal/terms.html or privacy.html that users must see again
# gets a new version here (and a line in the page's 版本记录).
DOCUMENTS = (LegalDocument("terms", "用户协议", "1.0", "legal.terms"),
             LegalDocument("privacy", "隐私政策", "1.0", "legal.privacy"))
VIA_CAMPAIGN = "campaign"
VIA_DONATION = "donation"
NOT_ACCEPTED = "提交审核前，请阅读并勾选同意《用户协议》和《隐私政策》"


class OptionalPurpose:
    """Processing that needs the person's consent and is not needed for what they came to do."""

    MUTUAL_AID_INVITATION = "mutual_aid_invitation"
    SHARER_NAME = "sharer_name"
    CAMPAIGN_NEWS = "campaign_news"


PURPOSES = {
    OptionalPurpose.MUTUAL_AID_INVITATION: (
        "互助计划邀请",
        "捐款后的感谢页向您介绍互助计划，并记录您是否查看、点击（用于统计转化）。"
        "撤回后不再向您展示邀请，也不再记录这些步骤。"),
    OptionalPurpose.SHARER_NAME: (
        "转发时显示我的昵称和头像",
        "朋友通过您转发的链接打开筹款时，页面显示“某某邀请你一起帮助 TA”，发起人的爱心大使榜"
        "也显示您的昵称。撤回后都显示为“一位朋友”；您转发带来的帮助仍计入您的“我的转发”。"),
    OptionalPurpose.CAMPAIGN_NEWS: (
        "筹款动态消息",
        "您帮助过的筹款有新动态、善款拨付或结束时，通过通知和微信消息告诉您。撤回后所有筹款的"
        "这些消息都不再发给您（如同对每个筹款选了“不再接收此筹款的消息”）；退给您的钱照常告诉您。"),
}


class LegalAcceptance(db.Model):
    __tablename__ = "legal_acceptances"
    __table_args__ = (UniqueConstraint("user_id", "document", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    document: Mapped[str] = mapped_column(String(16))
    version: Mapped[str] = mapped_column(String(16))
    via: Mapped[str] = mapped_column(String(16))   # campaign | donation
    accepted_at: Mapped[datetime] = created_at_column()


class ConsentWithdrawal(db.Model):
    __tablename__ = "consent_withdrawals"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(32), primary_key=True)
    withdrawn_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ConsentError(ValueError):
    pass


def documents() -> tuple[LegalDocument, ...]:
    """The documents in force. LEGAL_VERSIONS ({"terms": "1.1"}) overrides a version, e.g. to
    publish a correction without a code change."""
    overrides = current_app.config.get("LEGAL_VERSIONS") or {}
    return tuple(LegalDocument(d.code, d.title, str(overrides.get(d.code, d.version)), d.endpoint)
                 for d in DOCUMENTS)


def _accepted_now(user_id: int) -> set[str]:
    current = {(d.code, d.version) for d in documents()}
    rows = db.session.execute(select(LegalAcceptance.document, LegalAcceptance.version)
                              .where(LegalAcceptance.user_id == user_id)).all()
    return {code for code, version in rows if (code, version) in current}


def has_accepted(user) -> bool:
    """Has this person accepted every document in force?"""
    if user is None or getattr(user, "is_staff", False) or not getattr(user, "id", None):
        return False
    return _accepted_now(user.id) >= {d.code for d in documents()}


def note_acceptance(user_id: int, via: str) -> list[str]:
    """Add to the caller's transaction an acceptance of each document in force not yet accepted
    in this version; the calling service commits. Returns the codes of the documents newly
    accepted. Two first donations at once both find nothing accepted: the insert skips a row
    the other has written meanwhile (ON CONFLICT DO NOTHING) instead of failing the payment."""
    accepted = _accepted_now(user_id)
    rows = [{"user_id": user_id, "document": d.code, "version": d.version, "via": via,
             "accepted_at": utcnow()} for d in documents() if d.code not in accepted]
    if rows:
        conn = db.session.connection()
        insert_ = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
        conn.execute(insert_(LegalAcceptance).on_conflict_do_nothing(
            index_elements=["user_id", "document", "version"]), rows)
    return [row["document"] for row in rows]


def accept(user, via: str) -> list[str]:
    """The person ticked 同意: one business action."""
    added = note_acceptance(user.id, via)
    db.session.commit()
    return added


def acceptances_of(user_id: int) -> list[LegalAcceptance]:
    return list(db.session.scalars(select(LegalAcceptance).where(LegalAcceptance.user_id == user_id)
                                   .order_by(LegalAcceptance.id)))


# --- consent to optional processing ---------------------------------------------------------------

def allows(user_id: int | None, purpose: str) -> bool:
    """May we do `purpose` for this person? Anonymous visitors: yes (nothing is kept of them
    beyond what the purpose's own feature says)."""
    if not user_id:
        return True
    return db.session.get(ConsentWithdrawal, (user_id, purpose)) is None


def users_without(purpose: str, user_ids: set[int]) -> set[int]:
    """Which of these people withdrew their consent to `purpose` (one query for a list)."""
    if not user_ids:
        return set()
    return set(db.session.scalars(select(ConsentWithdrawal.user_id).where(
        ConsentWithdrawal.purpose == purpose, ConsentWithdrawal.user_id.in_(sorted(user_ids)))))


def withdrawn_purposes(user_id: int) -> set[str]:
    return set(db.session.scalars(select(ConsentWithdrawal.purpose)
                                  .where(ConsentWithdrawal.user_id == user_id)))


def set_consent(user, purpose: str, allowed: bool) -> None:
    if purpose not in PURPOSES:
        raise ConsentError("没有这一项")
    if allowed:
        db.session.execute(delete(ConsentWithdrawal).where(ConsentWithdrawal.user_id == user.id,
                                                           ConsentWithdrawal.purpose == purpose))
    elif db.session.get(ConsentWithdrawal, (user.id, purpose)) is None:
        db.session.add(ConsentWithdrawal(user_id=user.id, purpose=purpose, withdrawn_at=utcnow()))
    db.session.commit()
