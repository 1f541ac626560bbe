"""Reports (举报): signed-in people flag a public campaign with a category, details and evidence;
staff dismiss, ask the organizer for documents, freeze or terminate. The reporter sees the
outcome; the organizer sees a request for documents but never who reported.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import DateTime, Enum, ForeignKey, Integer, String, Text, func, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import StaffAccount, StaffRole, User
from app.campaigns import moderation
from app.campaigns.errors import CampaignError
from app.campaigns.models import Campaign, CampaignStatus
from app.core.enums import LabelledEnum
from app.extensions import db
from app.models_base import created_at_column, utcnow
from app.core.audit import record_audit
from app.notices.services import Message, forget_told, send_told, tell
from app.review.services import ReviewError
from app.core.storage import delete_all, put_all
from app.core.uploads import CheckedFile

REPORTS_PER_DAY = 3
MAX_EVIDENCE = 6
DETAILS_MIN, DETAILS_MAX = 10, 1000
NOTE_MAX = 500
CATEGORIES = [
    ("false_illness", "虚假病情"),
    ("exaggerated_costs", "夸大治疗费用"),
    ("hidden_assets", "隐瞒家庭财产"),
    ("funds_misused", "善款挪作他用"),
    ("other", "其他"),
]
CATEGORY_LABELS = dict(CATEGORIES)
REPORTABLE = frozenset({CampaignStatus.live, CampaignStatus.frozen, CampaignStatus.ended})


class ReportStatus(LabelledEnum):
    open = "open", "待处理"
    documents_requested = "documents_requested", "已要求发起人补充材料"
    dismissed = "dismissed", "经核实不成立"
    frozen = "frozen", "筹款已冻结"
    unfrozen = "unfrozen", "冻结已解除"       # frozen, then lifted after the concern was cleared
    terminated = "terminated", "筹款已终止"

    @property
    def is_open(self) -> bool:
        return self in (ReportStatus.open, ReportStatus.documents_requested)


# A template message's phrase field holds at most 5 characters.
REPORT_PHRASES = {ReportStatus.open: "待处理", ReportStatus.documents_requested: "核实中",
                  ReportStatus.dismissed: "不成立", ReportStatus.frozen: "已冻结",
                  ReportStatus.unfrozen: "已解除冻结", ReportStatus.terminated: "已终止"}


class Report(db.Model):
    __tablename__ = "campaign_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    category: Mapped[str] = mapped_column(String(32))
    details: Mapped[str] = mapped_column(Text)
    status: Mapped[ReportStatus] = mapped_column(
        Enum(ReportStatus, native_enum=False, length=24), default=ReportStatus.open, index=True)
    outcome: Mapped[str] = mapped_column(String(NOTE_MAX), default="")
    organizer_message: Mapped[str] = mapped_column(String(NOTE_MAX), default="")
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_accounts.id"))
    handled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()

    campaign = relationship("Campaign")
    reporter = relationship("User")
    handled_by = relationship("StaffAccount")
    evidence: Mapped[list["ReportEvidence"]] = relationship(order_by="ReportEvidence.id")

    @property
    def category_label(self) -> str:
        return CATEGORY_LABELS.get(self.category, self.category)


class ReportEvidence(db.Model):
    __tablename__ = "report_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("campaign_reports.id"), index=True)
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(32))
    size_bytes: Mapped[int] = mapped_column(Integer)
    pages: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = created_at_column()

    report = relationship("Report", back_populates="evidence")

    @property
    def is_pdf(self) -> bool:
        return self.content_type == "application/pdf"


# --- filing ---------------------------------------------------------------------------------------

def reports_today(user_id: int, now: datetime | None = None) -> int:
    since = (now or utcnow()) - timedelta(days=1)
    return db.session.scalar(select(func.count()).select_from(Report).where(
        Report.reporter_id == user_id, Report.created_at >= since)) or 0


def file_report(campaign_id: int, reporter: User, category: str, details: str,
                evidence: list[CheckedFile] = ()) -> Report:
    if not isinstance(reporter, User):
        raise ReviewError("请先用微信登录再举报", "forbidden")
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or not campaign.is_public:
        raise ReviewError("筹款不存在", "not_found")
    if campaign.status not in REPORTABLE:
        raise ReviewError(f"筹款{campaign.status.label}，无需再举报")
    if campaign.organizer_id == reporter.id:
        raise ReviewError("不能举报自己发起的筹款")
    if category not in CATEGORY_LABELS:
        raise ReviewError("请选择举报类型")
    details = (details or "").strip()
    if not DETAILS_MIN <= len(details) <= DETAILS_MAX:
        raise ReviewError(f"请描述举报内容（{DETAILS_MIN} 到 {DETAILS_MAX} 字）")
    evidence = list(evidence)
    if len(evidence) > MAX_EVIDENCE:
        raise ReviewError(f"证据最多 {MAX_EVIDENCE} 个文件")
    # Serialize one person's reports so the daily limit holds under concurrent requests.
    db.session.execute(select(User.id).where(User.id == reporter.id).with_for_update())
    if reports_today(reporter.id) >= REPORTS_PER_DAY:
        db.session.rollback()
        raise ReviewError(f"每人每天最多举报 {REPORTS_PER_DAY} 次，请明天再试", "rate_limited")
    keys = put_all([f.data for f in evidence])
    committed = False
    try:
        report = Report(campaign_id=campaign.id, reporter_id=reporter.id, category=category,
                        details=details, status=ReportStatus.open, outcome="",
                        organizer_message="")
        report.evidence = [ReportEvidence(storage_key=key, content_type=f.content_type,
                                          size_bytes=len(f.data), pages=f.pages)
                           for key, f in zip(keys, evidence)]
        db.session.add(report)
        db.session.flush()
        _tell_organizer(report, f"report_filed:{report.id}", "您的筹款收到一条举报",
                        "平台会核实举报内容，如需补充材料会再通知您；举报人信息不会公开。", "核实中")
        db.session.commit()
        committed = True
    finally:
        if not committed:
            db.session.rollback()
            delete_all(keys)
    send_told()
    return report


# --- handling (staff) --------------------------------------------------------------------------------

HANDLER_ROLES = (StaffRole.reviewer, StaffRole.admin)


def dismiss_report(report_id: int, staff: StaffAccount, outcome: str) -> Report:
    report, staff = _open_report(report_id, staff)
    outcome = _text(outcome, "请填写处理结果，举报人会看到它")
    _close(report, staff, ReportStatus.dismissed, outcome, "report.dismiss")
    _tell_organizer(report, f"report_dismissed:{report.id}", "举报经核实不成立",
                    f"关于“{report.campaign.title}”的一条举报经平台核实不成立，筹款照常进行。", "不成立")
    db.session.commit()
    send_told()
    return report


def request_documents(report_id: int, staff: StaffAccount, message: str,
                      outcome: str = "") -> Report:
    """The organizer is asked (without naming the reporter) to upload more documents."""
    report, staff = _open_report(report_id, staff)
    message = _text(message, "请写明需要发起人补充哪些材料")
    before = {"status": report.status}
    report.status = ReportStatus.documents_requested
    report.organizer_message = message
    report.outcome = (outcome or "").strip()[:NOTE_MAX] or "平台已要求发起人补充证明材料，核实后会告知结果"
    report.handled_by_id, report.handled_at = staff.id, utcnow()
    record_audit(staff, "report.request_documents", "report", report.id, before=before,
                 after={"status": report.status}, reason=message, campaign_id=report.campaign_id)
    _tell_reporter(report)
    _tell_organizer(report, f"report_documents:{report.id}", "请补充证明材料",
                    f"平台核实“{report.campaign.title}”时需要您补充材料：{message}", "待补充",
                    url=f"/c/{report.campaign_id}/documents")
    db.session.commit()
    send_told()
    return report


def freeze_from_report(report_id: int, staff: StaffAccount, reason: str) -> Report:
    """Freeze the campaign (donations paused, the page shows `reason`) and tell every open
    reporter of this campaign."""
    report, staff = _open_report(report_id, staff)
    reason = _text(reason, "请填写冻结原因，它会显示在筹款页上")
    _moderate(lambda: moderation._freeze(report.campaign_id, staff, reason))
    for other in _open_reports_of(report.campaign_id):
        _close(other, staff, ReportStatus.frozen, f"筹款已冻结：{reason}", "report.freeze")
    db.session.commit()
    send_told()
    return report


def terminate_from_report(report_id: int, staff: StaffAccount, reason: str) -> Report:
    report, staff = _open_report(report_id, staff)
    reason = _text(reason, "请填写终止原因")
    _moderate(lambda: moderation._terminate(report.campaign_id, staff, reason))
    for other in _open_reports_of(report.campaign_id):
        _close(other, staff, ReportStatus.terminated, f"筹款已终止：{reason}",
               "report.terminate")
    db.session.commit()
    send_told()
    moderation.run_termination_hooks(report.campaign_id)
    return report


def lift_frozen_reports(campaign_id: int, staff: StaffAccount, reason: str) -> None:
    """The unfreeze hook (in its transaction): reports that froze the campaign now read that
    the freeze was lifted, and their reporters are told."""
    for report in db.session.scalars(select(Report).where(
            Report.campaign_id == campaign_id, Report.status == ReportStatus.frozen)):
        _close(report, staff, ReportStatus.unfrozen, f"经核实，筹款已恢复：{reason}",
               "report.unfreeze")


def _moderate(action) -> None:
    try:
        action()
    except CampaignError as error:
        db.session.rollback()
        forget_told()
        raise ReviewError(error.message, error.code) from None


def _open_report(report_id: int, staff: StaffAccount) -> tuple[Report, StaffAccount]:
    if not isinstance(staff, StaffAccount) or not staff.active or not staff.has_role(
            *HANDLER_ROLES):
        raise ReviewError("只有审核员可以处理举报", "forbidden")
    report = db.session.get(Report, report_id, with_for_update=True)
    if report is None:
        raise ReviewError("举报不存在", "not_found")
    if not report.status.is_open:
        raise ReviewError(f"该举报已处理（{report.status.label}）", "already_handled")
    return report, staff


def _open_reports_of(campaign_id: int) -> list[Report]:
    return list(db.session.scalars(select(Report).where(
        Report.campaign_id == campaign_id,
        Report.status.in_([ReportStatus.open, ReportStatus.documents_requested]))))


def _close(report: Report, staff: StaffAccount, status: ReportStatus, outcome: str,
           action: str) -> None:
    before = {"status": report.status}
    report.status, report.outcome = status, outcome[:NOTE_MAX]
    report.handled_by_id, report.handled_at = staff.id, utcnow()
    record_audit(staff, action, "report", report.id, before=before, after={"status": status},
                 reason=outcome, campaign_id=report.campaign_id)
    _tell_reporter(report)


def _tell_reporter(report: Report) -> None:
    """The reporter hears each outcome of their report (once per report and outcome)."""
    status = report.status
    tell(report.reporter_id, f"report_{status.value}:{report.id}", Message(
        "report", f"举报处理结果：{status.label}", f"您对“{report.campaign.title}”的举报：{report.outcome}",
        "/me/reports", "report_result",
        {"thing1": report.campaign.title, "phrase2": REPORT_PHRASES[status],
         "thing3": report.outcome}))


def _tell_organizer(report: Report, event: str, title: str, body: str, phrase: str,
                    url: str = "") -> None:
    """The organizer hears of a report and its outcome, never who made it."""
    campaign = report.campaign or db.session.get(Campaign, report.campaign_id)
    tell(campaign.organizer_id, event, Message(
        "report", title, body, url or f"/c/{campaign.id}", "report_result",
        {"thing1": campaign.title, "phrase2": phrase, "thing3": title}))


def _text(text: str | None, message: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ReviewError(message, "reason_required")
    if len(text) > NOTE_MAX:
        raise ReviewError(f"内容不能超过 {NOTE_MAX} 字", "reason_too_long")
    return text


# --- reading ------------------------------------------------------------------------------------------

def report_queue() -> list[Report]:
    return list(db.session.scalars(select(Report).where(
        Report.status.in_([ReportStatus.open, ReportStatus.documents_requested]))
        .order_by(Report.created_at.asc(), Report.id.asc())))


def reports_by(user_id: int) -> list[Report]:
    return list(db.session.scalars(select(Report).where(Report.reporter_id == user_id)
                                   .order_by(Report.id.desc())))


def document_requests_for(campaign_id: int) -> list[Report]:
    """Open requests for documents the organizer should see (without the reporter)."""
    return list(db.session.scalars(select(Report).where(
        Report.campaign_id == campaign_id,
        Report.status == ReportStatus.documents_requested).order_by(Report.id)))
