"""Reconciling one China day against WeChat Pay's bills; the only writer of bill days and
findings. One commit per run. Running a day again updates its findings in place (one row per
day, kind, line and reference), marks those no longer found as cleared, and never touches the
ledger: finance decides what a difference means."""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.bills.download import BillUnavailable, Fetched, fetch
from app.bills.ledger_side import china_day_window, ledger_lines
from app.bills.matching import BillLine, Finding, from_fund, from_trade, match
from app.bills.models import BillDay, BillDayStatus, BillFinding, FindingKind
from app.bills.parse import BillFormatError, parse_fundflow_bill, parse_trade_bill
from app.core.audit import record_audit
from app.core.chinatime import china_today
from app.extensions import db
from app.models_base import as_utc, utcnow

log = logging.getLogger(__name__)
K = FindingKind
# A line we posted this long after midnight may be in the previous day's bill.
MIDNIGHT_GRACE = timedelta(minutes=30)
# Which bill carries which kind of line.
KINDS_OF = {"tradebill": ("payment", "refund"), "fundflowbill": ("transfer",)}
Fetcher = Callable[[str, date], Fetched]


def previous_china_day() -> date:
    return china_today() - timedelta(days=1)


def _lines(fetched: Fetched, findings: list[Finding]) -> tuple[list[BillLine], bool, int]:
    """(the bill's lines to match, whether the bill can be trusted, its number of lines)."""
    if fetched.bad_hash:
        findings.append(Finding(K.bad_hash, fetched.name, detail=fetched.problem))
        return [], False, 0
    if fetched.raw is None:
        findings.append(Finding(K.bad_file, fetched.name, detail=fetched.problem[:300]))
        return [], False, 0
    if not fetched.raw:  # no bill: nothing went through WeChat that day
        return [], True, 0
    try:
        if fetched.name == "tradebill":
            bill = parse_trade_bill(fetched.raw)
            lines = [from_trade(line) for line in bill.lines]
        else:
            bill = parse_fundflow_bill(fetched.raw)
            lines = [from_fund(line) for line in bill.lines if line.is_transfer]
    except BillFormatError as error:
        findings.append(Finding(K.bad_file, fetched.name, detail=str(error)[:300]))
        return [], False, 0
    if bill.problems:
        findings.append(Finding(K.bad_summary, fetched.name, detail="；".join(bill.problems)[:300]))
    return lines, True, len(bill.lines)


def _keys_billed(name: str, day: date, fetcher: Fetcher) -> set[tuple[str, str]]:
    try:
        fetched = fetcher(name, day)
    except BillUnavailable as error:
        log.info("bills %s %s not available for the midnight check: %s", name, day, error)
        return set()
    ignored: list[Finding] = []
    lines, _, _ = _lines(fetched, ignored)
    return {line.key for line in lines}


def reconcile_day(day: date, fetcher: Fetcher = fetch) -> BillDay:
    db.session.rollback()  # hold no transaction while talking to WeChat
    try:
        fetched = {name: fetcher(name, day) for name in KINDS_OF}
    except BillUnavailable as error:
        log.warning("bills %s unavailable: %s", day, error)
        return _record_unavailable(day, str(error))
    findings: list[Finding] = []
    lines: list[BillLine] = []
    trusted: set[str] = set()
    counts = {}
    for name, bill in fetched.items():
        bill_lines, ok, counts[name] = _lines(bill, findings)
        lines += bill_lines
        if ok:
            trusted.update(KINDS_OF[name])
    refs: dict[str, set[str]] = {}
    for line in lines:
        refs.setdefault(line.kind, set()).add(line.ref)
    ledger, posted = ledger_lines(day, refs)
    posted = {key for key in posted if key[0] in trusted}  # a bad bill proves nothing missing
    billed = {line.key for line in lines}
    start, _ = china_day_window(day)
    elsewhere: set[tuple[str, str]] = set()
    for name, kinds in KINDS_OF.items():
        early = {key for key in posted - billed if key[0] in kinds
                 and as_utc(ledger[key].first_posted_at) < start + MIDNIGHT_GRACE}
        if early:
            elsewhere |= early & _keys_billed(name, day - timedelta(days=1), fetcher)
    findings += match(lines, ledger, posted, elsewhere)
    return _store(day, findings, trade_lines=counts["tradebill"],
                  fund_lines=counts["fundflowbill"], ledger_lines=len(posted),
                  trade_sha1=fetched["tradebill"].sha1,
                  fundflow_sha1=fetched["fundflowbill"].sha1)


def _day_for_update(day: date) -> BillDay:
    query = select(BillDay).where(BillDay.bill_date == day).with_for_update()
    found = db.session.scalars(query).one_or_none()
    if found is not None:
        return found
    try:
        with db.session.begin_nested():
            db.session.add(BillDay(bill_date=day, status=BillDayStatus.unavailable,
                                   checked_at=utcnow()))
    except IntegrityError:  # another run made it first
        pass
    return db.session.scalars(query).one()


def _record_unavailable(day: date, reason: str) -> BillDay:
    bill_day = _day_for_update(day)
    bill_day.runs += 1
    bill_day.checked_at = utcnow()
    bill_day.note = reason[:300]
    db.session.commit()
    return bill_day


def _store(day: date, findings: list[Finding], **fields) -> BillDay:
    now = utcnow()
    bill_day = _day_for_update(day)
    existing = {(row.kind.value, row.line_kind, row.ref): row for row in bill_day.findings}
    seen: set[tuple[str, str, str]] = set()
    for finding in findings:
        if finding.key in seen:
            continue
        seen.add(finding.key)
        values = dict(bill_fen=finding.bill_fen, ledger_fen=finding.ledger_fen,
                      detail=finding.detail[:300], last_seen_at=now, cleared_at=None)
        row = existing.get(finding.key)
        if row is None:
            db.session.add(BillFinding(day=bill_day, kind=finding.kind, ref=finding.ref[:64],
                                       line_kind=finding.line_kind, found_at=now, **values))
        else:
            for name, value in values.items():
                setattr(row, name, value)
    for key, row in existing.items():
        if key not in seen and row.cleared_at is None:
            row.cleared_at = now
    for name, value in fields.items():
        setattr(bill_day, name, value)
    bill_day.status = BillDayStatus.differences if seen else BillDayStatus.balanced
    bill_day.runs += 1
    bill_day.checked_at = now
    bill_day.note = ""
    db.session.commit()
    if seen:
        log.warning("bills %s: %d finding(s)", day, len(seen))
    return bill_day


def bill_check(day: date | None = None) -> list[str]:
    """`flask ledger verify --against-bills [--date]`: reconcile the day (the previous China
    day by default) and name every open finding."""
    day = day or previous_china_day()
    result = reconcile_day(day)
    if result.status == BillDayStatus.unavailable:
        return [f"{day}: 未取得微信支付账单（{result.note}）"]
    return [f"{day} {row.kind.label} {row.line_kind or '-'} {row.ref}: {row.detail}"
            for row in result.open_findings]


# --- finance asks for a day again -----------------------------------------------------------

KEPT_DAYS = 90  # WeChat serves bills of the last three months only


class BillRequestError(ValueError):
    pass


def parse_requested_day(text: str) -> date:
    """The day finance asked to check: a past China day within the three months WeChat keeps."""
    try:
        day = date.fromisoformat((text or "").strip())
    except ValueError as error:
        raise BillRequestError("请输入日期，格式为 年-月-日，例如 2025-01-31") from error
    today = china_today()
    if day >= today:
        raise BillRequestError("微信支付次日才出前一天的账单，只能核对今天以前的日期")
    if day < today - timedelta(days=KEPT_DAYS):
        raise BillRequestError("微信支付只提供三个月内的账单")
    return day


def record_check_request(day: date, staff) -> None:
    """Audit that finance asked for the day (the job that runs it is enqueued after)."""
    bill_day = db.session.scalar(select(BillDay).where(BillDay.bill_date == day))
    record_audit(staff, "bills.rerun", "bill_day", bill_day.id if bill_day else None,
                 after={"bill_date": day.isoformat()})
    db.session.commit()
