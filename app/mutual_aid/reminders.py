"""Telling members a round's share is due (后付费: nothing is paid before a round is announced).

Once a round's charges are written, each payer with a share due gets one in-app notice (on
我的互助 and on 通知) and one WeChat template message (缴费提醒, keyed by round and payer, so a job run again tells nobody
twice), pointing to 我的互助 where they pay by WeChat Pay.
"""
from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models_base import format_yuan
from app.mutual_aid.models import MemberNotice
from app.mutual_aid.money_models import ChargeStatus, Round, RoundStatus, ShareCharge
from app.notices.services import Message, send_told, tell
from app.wechat.messages import MessageTemplate

CHUNK = 1000
MY_URL = "/mutual-aid/me"
MESSAGE_TEMPLATES = (  # 类目模板 fields: thing ≤ 20 characters, amount, time
    MessageTemplate("share_due", "缴费提醒", ("thing1", "amount2", "time3")),
)


def notice_kind(round_id: int) -> str:
    return f"due:{round_id}"[:24]


def remind_shares_due(round_id: int, chunk: int = CHUNK) -> int:
    """Tell every payer of the announced round what they owe and by when; returns how many
    were told now (0 for those told before)."""
    round_ = db.session.get(Round, round_id)
    if round_ is None or round_.status != RoundStatus.announced:
        db.session.rollback()
        return 0
    number, due_on, kind = round_.number, round_.due_on, notice_kind(round_id)
    told, after = 0, 0
    while True:
        rows = db.session.execute(
            select(ShareCharge.user_id, func.sum(ShareCharge.amount_fen))
            .where(ShareCharge.round_id == round_id, ShareCharge.status == ChargeStatus.due,
                   ShareCharge.user_id > after)
            .group_by(ShareCharge.user_id).order_by(ShareCharge.user_id).limit(chunk)).all()
        if not rows:
            break
        users = [user_id for user_id, _ in rows]
        already = set(db.session.scalars(select(MemberNotice.user_id).where(
            MemberNotice.kind == kind, MemberNotice.user_id.in_(users))))
        for user_id, total in rows:
            if user_id in already:
                continue
            amount = f"¥{format_yuan(int(total))}"
            body = (f"互助计划第 {number} 期分摊已公布，您需缴纳 {amount}，请在 {due_on} 前"
                    "在“我的互助”中用微信支付缴纳。")
            db.session.add(MemberNotice(user_id=user_id, kind=kind, body=body))
            tell(user_id, f"share_due:{round_id}", Message(
                "mutual_aid", "互助分摊缴费提醒", body, MY_URL, "share_due", {
                    "thing1": f"互助计划第 {number} 期分摊", "amount2": amount,
                    "time3": f"{due_on:%Y年%m月%d日}"}))
            told += 1
        after = users[-1]
        db.session.commit()
        send_told()
    return told
