"""Money to a person's WeChat (商家转账): start, send, settle, reconcile — exactly once.

`start_transfer` runs in the caller's transaction: it writes the transfer with its out_bill_no
and posts custody → transfer clearing, both committed by the caller before WeChat is asked
(the job `send` asks after the commit). A crash, timeout or killed worker after WeChat made the
bill leaves our row `created`: the retry (job retry or `reconcile`) asks again with the same
out_bill_no and WeChat answers the same bill. Settling locks the row; the ledger's unique
(source_type, out_bill_no) makes a replayed notice or a twin job post nothing twice:

    wechat_transfer         <from account> → custodian:wechat_transfer_clearing   (on create)
    wechat_transfer_paid    clearing → custodian:wechat_transfer_out_clearing     (succeeded)
    wechat_transfer_return  clearing → <from account>                             (failed/closed)

What a transfer pays for is a purpose another feature registers (register_transfer_purpose):
its `on_settled(transfer, succeeded)` runs in the settling transaction. The recipient is told
of each change by an in-app notice and a WeChat template message, both written in the
transaction that changes the state (the message keyed by bill and state), so once per change.
"""
from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone

from flask import Flask, current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.auth.models import User
from app.core.chinatime import CHINA, china_today
from app.core.plugins import registry
from app.extensions import db
from app.ledger.services import Leg, post
from app.models_base import as_utc, format_yuan, utcnow
from app.payouts.errors import PayoutError
from app.payouts.models import add_notice
from app.payouts.provider import (PayoutUnavailable, TransferRequest, TransferResult,
                                  get_payout_provider)
from app.payouts.transfer_models import OPEN_TRANSFERS, PersonTransfer, TransferStatus
from app.wechat import messages
from app.wechat.messages import MessageTemplate

log = logging.getLogger(__name__)
T = TransferStatus
PROVIDER = "wechat_transfer"
TRANSFER_CLEARING = "custodian:wechat_transfer_clearing"
TRANSFERS_OUT = "custodian:wechat_transfer_out_clearing"
SOURCE_TRANSFER = "wechat_transfer"
SOURCE_TRANSFER_PAID = "wechat_transfer_paid"
SOURCE_TRANSFER_RETURN = "wechat_transfer_return"
MIN_FEN = 10                         # WeChat's smallest transfer: 0.1 yuan
USER_NAME_FROM_FEN = 2_000_00        # WeChat needs the real name from here
DAILY_LIMIT_FEN = 20_000_00          # per person and China day (docs: WECHAT.md)
RESEND_AFTER = timedelta(minutes=2)  # `created` this long: ask WeChat again
CONFIRM_WINDOW = timedelta(hours=24)  # WeChat closes a bill unconfirmed this long
QUERY_EVERY = timedelta(hours=1)     # waiting bills are also queried once they are this old
MY_URL = "/me/transfers"
MESSAGE_TEMPLATES = (  # 类目模板 fields: thing ≤ 20 characters, amount, time
    MessageTemplate("transfer_waiting", "待领取款项提醒", ("thing1", "amount2", "time3")),
    MessageTemplate("transfer_received", "到账通知", ("thing1", "amount2", "time3")),
    MessageTemplate("transfer_returned", "退款退回通知", ("thing1", "amount2", "thing3")),
)


@dataclass(frozen=True)
class TransferPurpose:
    name: str                                      # ≤ 24 characters, e.g. "pledge_share"
    label: str                                     # 诺言还款 — shown in 我的 and the notices
    on_settled: Callable[[PersonTransfer, bool], None]
    real_name: Callable[[str], str] = lambda ref: ""   # needed from 2,000 yuan


def register_transfer_purpose(app: Flask, purpose: TransferPurpose) -> None:
    registry("transfer_purposes", dict, app)[purpose.name] = purpose


def purpose_of(name: str) -> TransferPurpose:
    return registry("transfer_purposes", dict)[name]


def enabled() -> bool:
    return bool(current_app.config.get("WECHAT_TRANSFERS", True))


def daily_limit_fen() -> int:
    return int(current_app.config.get("WECHAT_TRANSFER_DAILY_LIMIT_FEN", DAILY_LIMIT_FEN))


def sent_today_fen(user_id: int, now: datetime | None = None) -> int:
    """What went (or is going) to this person's WeChat on the China day of `now`."""
    start = datetime.combine(china_today(now), time(0), CHINA).astimezone(timezone.utc)
    end = start + timedelta(days=1)
    return int(db.session.scalar(select(func.coalesce(func.sum(PersonTransfer.amount_fen), 0))
                                 .where(PersonTransfer.user_id == user_id,
                                        PersonTransfer.status != T.returned,
                                        PersonTransfer.created_at >= start,
                                        PersonTransfer.created_at < end)))


def start_transfer(purpose: str, ref: str, user_id: int, amount_fen: int, from_account: str,
                   remark: str) -> PersonTransfer:
    """The transfer of (purpose, ref) — made once, with the money moved into the transfer
    clearing. In the caller's transaction, which commits it; `enqueue_send` after the commit.
    Refused with PayoutError (nothing written) when WeChat cannot take it: the caller pays by
    bank instead."""
    existing = db.session.scalar(select(PersonTransfer).where(
        PersonTransfer.purpose == purpose, PersonTransfer.purpose_ref == str(ref)))
    if existing is not None:
        return existing
    kind = purpose_of(purpose)
    if type(amount_fen) is not int or amount_fen < MIN_FEN:
        raise PayoutError(f"微信转账金额至少 ¥{format_yuan(MIN_FEN)}", "transfer_too_small")
    user = db.session.get(User, user_id, with_for_update=True)  # one limit check at a time
    if user is None or not user.openid:
        raise PayoutError("收款人没有微信身份，改由银行转账", "not_wechat_user")
    limit, sent = daily_limit_fen(), sent_today_fen(user_id)
    if sent + amount_fen > limit:
        raise PayoutError(f"超过微信单人单日转账限额 ¥{format_yuan(limit)}（今日已转 "
                          f"¥{format_yuan(sent)}），改由银行转账", "over_daily_limit")
    if amount_fen >= USER_NAME_FROM_FEN and not kind.real_name(str(ref)):
        raise PayoutError(f"¥{format_yuan(USER_NAME_FROM_FEN)} 及以上的微信转账需要收款人实名，"
                          "改由银行转账", "real_name_missing")
    transfer = PersonTransfer(
        out_bill_no="XZTB" + secrets.token_hex(14).upper(), user_id=user_id, openid=user.openid,
        amount_fen=amount_fen, purpose=purpose, purpose_ref=str(ref),
        from_account=from_account, remark=remark[:32], status=T.created)
    db.session.add(transfer)
    db.session.flush()
    post(SOURCE_TRANSFER, transfer.out_bill_no,
         [Leg(from_account, -amount_fen), Leg(TRANSFER_CLEARING, amount_fen)],
         memo=f"微信转账 · {kind.label}"[:200])
    return transfer


def enqueue_send(transfer_id: int) -> None:
    from app.payouts.tasks import enqueue_retried, send_transfer_job

    enqueue_retried(send_transfer_job, transfer_id)


def send(transfer_id: int) -> str:
    """Ask WeChat for the bill (same out_bill_no every time) and record its answer.
    PayoutUnavailable propagates: the job is retried, and `reconcile` asks again."""
    transfer = db.session.get(PersonTransfer, transfer_id)
    if transfer is None or transfer.status != T.created:
        db.session.rollback()
        return transfer.status.value if transfer else "missing"
    name = purpose_of(transfer.purpose).real_name(transfer.purpose_ref) \
        if transfer.amount_fen >= USER_NAME_FROM_FEN else ""
    request = TransferRequest(
        transfer_id=transfer.out_bill_no, amount_fen=transfer.amount_fen,
        payee_kind="wechat_user", account_name=name, account_number=transfer.openid,
        bank_name="微信零钱", memo=transfer.remark)
    db.session.rollback()  # no transaction (nor lock) held while WeChat works
    return settle(request.transfer_id, get_payout_provider(PROVIDER).transfer(request))


def settle(out_bill_no: str, result: TransferResult) -> str:
    """Record what WeChat says about a bill, once; returns the transfer's status."""
    transfer = db.session.scalars(
        select(PersonTransfer).where(PersonTransfer.out_bill_no == out_bill_no)
        .with_for_update().execution_options(populate_existing=True)).one_or_none()
    if transfer is None:
        db.session.rollback()
        return "missing"
    if transfer.status not in OPEN_TRANSFERS:
        db.session.rollback()
        return transfer.status.value
    if result.amount_fen != transfer.amount_fen:
        db.session.rollback()
        log.error("transfer %s: WeChat says %s fen, ours is %s", out_bill_no,
                  result.amount_fen, transfer.amount_fen)
        return "amount_mismatch"
    try:
        return _settle(transfer, result)
    except IntegrityError:  # a twin (another copy of the notice) posted it first
        db.session.rollback()
        return db.session.scalar(select(PersonTransfer.status).where(
            PersonTransfer.out_bill_no == out_bill_no)).value


def _settle(transfer: PersonTransfer, result: TransferResult) -> str:
    out_bill_no = transfer.out_bill_no
    kind, now = purpose_of(transfer.purpose), utcnow()
    amount = f"¥{format_yuan(transfer.amount_fen)}"
    told = ""
    transfer.transfer_bill_no = result.custodian_ref or transfer.transfer_bill_no
    transfer.wechat_state = result.wechat_state or transfer.wechat_state
    if result.state == "waiting_user":
        if transfer.status == T.created:
            transfer.status, transfer.waiting_since = T.waiting_user, now
            transfer.package_info = result.package_info
            add_notice(transfer.user_id, "transfer", "有一笔款项待领取",
                       f"{kind.label} {amount} 已发往您的微信，请在“我的 · 领取”中确认收款，"
                       "24 小时内未领取将退回。", MY_URL)
            told = _tell(transfer, "transfer_waiting", {
                "thing1": f"{kind.label}（请在 24 小时内领取）", "amount2": amount,
                "time3": _china_minute(now + CONFIRM_WINDOW)})
    elif result.state == "processing":
        transfer.status = T.transferring
    elif result.state == "succeeded":
        post(SOURCE_TRANSFER_PAID, out_bill_no,
             [Leg(TRANSFER_CLEARING, -transfer.amount_fen), Leg(TRANSFERS_OUT, transfer.amount_fen)],
             memo=f"微信转账到账 · {kind.label}"[:200])
        transfer.status, transfer.settled_at = T.succeeded, now
        transfer.package_info = ""
        kind.on_settled(transfer, True)
        add_notice(transfer.user_id, "transfer", "款项已到账",
                   f"{kind.label} {amount} 已转入您的微信零钱。", MY_URL)
        told = _tell(transfer, "transfer_received", {
            "thing1": kind.label, "amount2": amount, "time3": _china_minute(now)})
    else:
        post(SOURCE_TRANSFER_RETURN, out_bill_no,
             [Leg(TRANSFER_CLEARING, -transfer.amount_fen),
              Leg(transfer.from_account, transfer.amount_fen)],
             memo=f"微信转账退回 · {kind.label}"[:200])
        transfer.status, transfer.settled_at = T.returned, now
        transfer.fail_reason = (result.message or result.fail_reason or "转账未成功")[:100]
        transfer.package_info = ""
        kind.on_settled(transfer, False)
        add_notice(transfer.user_id, "transfer", "转账未能到账",
                   f"{kind.label} {amount} 未能转入您的微信：{transfer.fail_reason}。", MY_URL)
        told = _tell(transfer, "transfer_returned", {
            "thing1": kind.label, "amount2": amount, "thing3": transfer.fail_reason})
    status = transfer.status.value
    db.session.commit()
    if told:
        messages.enqueue_delivery([told])
    return status


def _tell(transfer: PersonTransfer, template: str, values: dict[str, str]) -> str:
    key = f"transfer:{transfer.out_bill_no}:{template}"
    messages.queue_message(key, transfer.openid, template, values, MY_URL)
    return key


def _china_minute(moment: datetime) -> str:
    return f"{as_utc(moment).astimezone(CHINA):%Y年%m月%d日 %H:%M}"


def cancel(transfer_id: int) -> str:
    """Withdraw a transfer its recipient has not confirmed (WeChat returns the money)."""
    transfer = db.session.get(PersonTransfer, transfer_id)
    if transfer is None or transfer.status not in OPEN_TRANSFERS:
        db.session.rollback()
        return transfer.status.value if transfer else "missing"
    out_bill_no = transfer.out_bill_no
    db.session.rollback()
    result = get_payout_provider(PROVIDER).cancel(out_bill_no)
    if result is None:  # WeChat never made it: nothing can be paid any more, take it back
        result = TransferResult(out_bill_no, "failed", transfer.amount_fen, message="已撤销")
    return settle(out_bill_no, result)


def reconcile(now: datetime | None = None) -> dict[str, int]:
    """Transfers left open: `created` ones are sent again (same out_bill_no), those WeChat
    should have finished or closed by now are queried and settled. Safe at any time."""
    now = now or utcnow()
    rows = db.session.execute(select(
        PersonTransfer.id, PersonTransfer.out_bill_no, PersonTransfer.status,
        PersonTransfer.updated_at, PersonTransfer.waiting_since)
        .where(PersonTransfer.status.in_(OPEN_TRANSFERS)).order_by(PersonTransfer.id)).all()
    db.session.rollback()
    counts: dict[str, int] = {}
    provider = None
    for transfer_id, out_bill_no, status, updated_at, waiting_since in rows:
        due = _due(status, updated_at, waiting_since, now)
        if not due:
            continue
        provider = provider or get_payout_provider(PROVIDER)
        try:
            if status == T.created:
                outcome = send(transfer_id)
            else:
                known = provider.query(out_bill_no)
                outcome = settle(out_bill_no, known) if known else "unknown_to_wechat"
        except PayoutUnavailable as error:
            log.warning("reconcile transfer %s: %s", out_bill_no, error)
            db.session.rollback()
            outcome = "unavailable"
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def _due(status, updated_at, waiting_since, now: datetime) -> bool:
    if status == T.waiting_user:  # a lost notice, or a bill WeChat closed (CONFIRM_WINDOW)
        return now - as_utc(waiting_since) >= QUERY_EVERY
    return now - as_utc(updated_at) >= RESEND_AFTER


def transfers_of(user_id: int, limit: int = 50) -> list[PersonTransfer]:
    return list(db.session.scalars(select(PersonTransfer).where(
        PersonTransfer.user_id == user_id).order_by(PersonTransfer.id.desc()).limit(limit)))


def waiting_for(user_id: int, transfer_id: int) -> PersonTransfer | None:
    """The recipient's own transfer still waiting for them, else None (anyone else: None)."""
    transfer = db.session.get(PersonTransfer, transfer_id)
    if transfer is None or transfer.user_id != user_id or transfer.status != T.waiting_user:
        return None
    return transfer
