"""Moderating blessings (祝福): the organizer hides one on their own campaign (and shows it
again), anyone signed in reports one once, staff remove one with a reason or keep it. Only the
text leaves public view; the donation and its amount stay. Each action is one transaction."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from app.campaigns.models import Campaign
from app.core.audit import record_audit
from app.core.reasons import ReasonRefused, clean_reason
from app.donations.models import REPORT_REASON_MAX, BlessingReport, Donation
from app.extensions import db
from app.models_base import utcnow

STAFF_REASON_MAX = 500

AUDIT_LABELS = {
    "blessing.hide": "隐藏祝福",
    "blessing.unhide": "恢复显示祝福",
    "blessing.remove": "删除祝福",
    "blessing.keep": "保留被举报的祝福",
}
AUDIT_TARGETS = {"donation": "捐款"}
AUDIT_FIELDS = {"blessing": "祝福"}
AUDIT_VALUES = {"donation.blessing": {"shown": "显示中", "hidden": "发起人已隐藏",
                                      "removed": "平台已删除"}}


class BlessingError(Exception):
    """`message` is Chinese and shown as it is; `status` is the HTTP status it answers with."""

    def __init__(self, message: str, code: str, status: int = 422):
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status


def _donation_with_blessing(donation_id: int) -> tuple[Donation, Campaign]:
    donation = db.session.get(Donation, donation_id)
    if donation is None or donation.paid_at is None or not donation.blessing:
        raise BlessingError("祝福不存在", "not_found", 404)
    return donation, db.session.get(Campaign, donation.campaign_id)


def organizer_donation(donation_id: int, user) -> Donation:
    """The donation, if `user` organizes its campaign (403 for anyone else)."""
    donation, campaign = _donation_with_blessing(donation_id)
    if getattr(user, "is_staff", False) or campaign.organizer_id != user.id:
        raise BlessingError("只有发起人可以隐藏本筹款的祝福", "not_organizer", 403)
    return donation


def set_hidden(donation_id: int, user, hidden: bool) -> Donation:
    donation = organizer_donation(donation_id, user)
    if donation.blessing_removed_at is not None:
        raise BlessingError("这条祝福已被平台删除", "removed", 409)
    if (donation.blessing_hidden_at is not None) != hidden:
        before = "hidden" if donation.blessing_hidden_at else "shown"
        donation.blessing_hidden_at = utcnow() if hidden else None
        record_audit(None, "blessing.hide" if hidden else "blessing.unhide", "donation",
                     donation.id, before={"blessing": before},
                     after={"blessing": "hidden" if hidden else "shown"},
                     campaign_id=donation.campaign_id, actor_user_id=user.id)
    db.session.commit()
    return donation


def reportable_donation(donation_id: int) -> Donation:
    donation, campaign = _donation_with_blessing(donation_id)
    if campaign is None or not campaign.is_public or not donation.blessing_shown:
        raise BlessingError("祝福不存在", "not_found", 404)
    return donation


def report(donation_id: int, user, reason: str | None) -> BlessingReport:
    if getattr(user, "is_staff", False):
        raise BlessingError("员工账号不能举报，请在审核后台处理", "staff", 403)
    donation = reportable_donation(donation_id)
    try:
        reason = clean_reason(reason, required=True, max_len=REPORT_REASON_MAX)
    except ReasonRefused as refused:
        raise BlessingError(refused.message, refused.code) from None
    already = db.session.scalar(select(BlessingReport.id).where(
        BlessingReport.donation_id == donation.id, BlessingReport.reporter_id == user.id))
    if already is not None:
        raise BlessingError("你已举报过这条祝福，我们会尽快处理", "already_reported", 409)
    row = BlessingReport(donation_id=donation.id, reporter_id=user.id, reason=reason)
    db.session.add(row)
    try:
        db.session.commit()
    except IntegrityError:   # the same person's second report, at the same moment
        db.session.rollback()
        raise BlessingError("你已举报过这条祝福，我们会尽快处理", "already_reported",
                            409) from None
    return row


def _resolve(donation_id: int, staff, reason: str | None, remove: bool) -> Donation:
    donation = db.session.get(Donation, donation_id)
    if donation is None:
        raise BlessingError("祝福不存在", "not_found", 404)
    try:
        reason = clean_reason(reason, required=remove, max_len=STAFF_REASON_MAX)
    except ReasonRefused as refused:
        raise BlessingError(refused.message, refused.code) from None
    now = utcnow()
    before = _state(donation)
    if remove and donation.blessing_removed_at is None:
        donation.blessing_removed_at = now
    db.session.execute(update(BlessingReport).where(
        BlessingReport.donation_id == donation.id, BlessingReport.resolved_at.is_(None))
        .values(resolved_at=now))
    record_audit(staff, "blessing.remove" if remove else "blessing.keep", "donation",
                 donation.id, before={"blessing": before}, after={"blessing": _state(donation)},
                 reason=reason, campaign_id=donation.campaign_id)
    db.session.commit()
    return donation


def remove(donation_id: int, staff, reason: str | None) -> Donation:
    return _resolve(donation_id, staff, reason, remove=True)


def keep(donation_id: int, staff, reason: str | None) -> Donation:
    return _resolve(donation_id, staff, reason, remove=False)


def _state(donation: Donation) -> str:
    if donation.blessing_removed_at is not None:
        return "removed"
    return "hidden" if donation.blessing_hidden_at is not None else "shown"


# --- reading ------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReportedBlessing:
    donation: Donation
    campaign_title: str
    reports: int
    reasons: list[str]
    first_reported_at: datetime


def reported_blessings(limit: int = 200) -> list[ReportedBlessing]:
    """Blessings with open reports, the longest waiting first."""
    open_reports = (select(BlessingReport.donation_id, func.count().label("n"),
                           func.min(BlessingReport.created_at).label("first"))
                    .where(BlessingReport.resolved_at.is_(None))
                    .group_by(BlessingReport.donation_id).subquery())
    rows = db.session.execute(
        select(Donation, Campaign.title, open_reports.c.n, open_reports.c.first)
        .join(open_reports, open_reports.c.donation_id == Donation.id)
        .join(Campaign, Campaign.id == Donation.campaign_id)
        .order_by(open_reports.c.first, Donation.id).limit(limit)).all()
    reasons = _open_reasons([donation.id for donation, *_ in rows])
    return [ReportedBlessing(donation=donation, campaign_title=title, reports=n,
                             reasons=reasons.get(donation.id, []), first_reported_at=first)
            for donation, title, n, first in rows]


def _open_reasons(donation_ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    if not donation_ids:
        return found
    for donation_id, reason in db.session.execute(
            select(BlessingReport.donation_id, BlessingReport.reason)
            .where(BlessingReport.donation_id.in_(donation_ids),
                   BlessingReport.resolved_at.is_(None))
            .order_by(BlessingReport.id)):
        found.setdefault(donation_id, []).append(reason)
    return found


def campaign_blessings(campaign_id: int) -> list[Donation]:
    """Every paid donation with a blessing on the campaign, for its organizer: newest first."""
    return list(db.session.scalars(
        select(Donation).where(Donation.campaign_id == campaign_id,
                               Donation.paid_at.is_not(None), Donation.blessing != "")
        .order_by(Donation.paid_at.desc(), Donation.id.desc()).limit(500)))
