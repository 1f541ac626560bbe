"""Rounds (分摊): announce (items owed → a round), apportion (a background job writing one
charge per sharing member in batches, in one database transaction), close (unpaid → suspended;
closed early by staff, at the end of the grace period), and distribute what was collected
through the ledger. The arithmetic is apportionment.py's.
"""
from __future__ import annotations

import logging
from datetime import date, timedelta

from sqlalchemy import BigInteger, case, func, insert, literal, select, update

from app.core.chinatime import china_today
from app.extensions import db, jobs
from app.ledger.services import Leg, post
from app.models_base import format_yuan, utcnow
from app.mutual_aid import apportionment, audit
from app.mutual_aid.accounts import (FEE_CLEARING, PAYOUT_CLEARING, claim_payable, plan_custody,
                                      wallet_account)
from app.mutual_aid.models import SHARING_STATUSES, Claim, ClaimStatus, Membership, Plan
from app.mutual_aid.money_models import (COMPUTED, ChargeStatus, Distribution, DistributionLine,
                                         ItemKind, Round, RoundItem, RoundStatus, ShareCharge)
from app.mutual_aid.services import MutualAidError, suspend_overdue
from app.mutual_aid.tasks import apportion_round_job
from app.mutual_aid.accounts import PAYBACK_DUE

log = logging.getLogger(__name__)
BATCH_SIZE = 50_000


class RoundChanged(RuntimeError):
    """The sharing members changed under the job; it rolls back and can simply run again."""


def due_dates(plan: Plan, announced_on: date) -> tuple[date, date]:
    """(due date: the next collection day after the announcement, close: due + grace)."""
    day = announced_on
    for _ in range(62):
        day += timedelta(days=1)
        if day.day in plan.collect_days:
            break
    return day, day + timedelta(days=plan.grace_days)


def year_to_date_fen(plan_id: int, year: int) -> int:
    """The most any member can have been charged this year: the sum of earlier rounds' largest
    shares (base + 1 fen where there was a remainder)."""
    largest = Round.base_share_fen + case((Round.remainder > 0, 1), else_=0)
    return int(db.session.scalar(select(func.coalesce(func.sum(largest), 0)).where(
        Round.plan_id == plan_id, Round.year == year,
        Round.status.in_(COMPUTED))))


def _eligible(round_: Round):
    return (Membership.plan_id == round_.plan_id, Membership.status.in_(SHARING_STATUSES),
            Membership.id <= round_.cutoff_membership_id,
            Membership.joined_at <= round_.cutoff_at)


def announce_round(plan_id: int, today: date | None = None, staff=None) -> Round | None:
    """Gather what is owed into a new round and start its apportionment job. Idempotent per day;
    None when there is nothing to share, nobody to share it, or no cap left this year."""
    plan = db.session.get(Plan, plan_id)
    today = today or china_today()
    existing = db.session.scalar(select(Round).where(Round.plan_id == plan_id,
                                                     Round.announced_on == today))
    if existing is not None:
        return existing
    if db.session.scalar(select(Round.id).where(Round.plan_id == plan_id,
                                                Round.status == RoundStatus.computing)):
        return None   # the previous round's figures decide this one's offset and room
    items = db.session.scalars(select(RoundItem).where(
        RoundItem.plan_id == plan_id, RoundItem.round_id.is_(None)).order_by(RoundItem.id)).all()
    room = max(0, plan.yearly_cap_fen - year_to_date_fen(plan_id, today.year))
    cutoff_id = db.session.scalar(select(func.max(Membership.id)).where(
        Membership.plan_id == plan_id)) or 0
    sharing = db.session.scalar(select(func.count()).select_from(Membership).where(
        Membership.plan_id == plan_id, Membership.status.in_(SHARING_STATUSES)))
    if not items or room == 0 or not sharing:
        return None
    number = (db.session.scalar(select(func.max(Round.number)).where(
        Round.plan_id == plan_id)) or 0) + 1
    due_on, close_on = due_dates(plan, today)
    round_ = Round(plan_id=plan_id, number=number, status=RoundStatus.computing,
                   announced_on=today, due_on=due_on, close_on=close_on, cutoff_at=utcnow(),
                   cutoff_membership_id=cutoff_id, year=today.year, cap_room_fen=room)
    db.session.add(round_)
    db.session.flush()
    round_.job_id = f"mutual-aid-apportion-{round_.id}"
    for item in items:
        item.round_id = round_.id
    db.session.execute(update(Claim).where(
        Claim.id.in_([i.claim_id for i in items if i.claim_id is not None]))
        .values(status=ClaimStatus.in_round).execution_options(synchronize_session=False))
    audit.record("round_announced", "round", round_.id,
                 f"第 {number} 期：{len(items)} 项，缴费截止 {due_on}", staff=staff)
    db.session.commit()
    jobs.enqueue(apportion_round_job, round_.id, queue="default", job_id=round_.job_id,
                 job_timeout=900)
    return round_


def apportion(round_id: int, batch_size: int = BATCH_SIZE, progress=None) -> Round:
    """Write every sharing member's charge, in batches of INSERT … SELECT computed by the
    database, and the round's figures — all in one transaction (REPEATABLE READ on PostgreSQL,
    so the member count and the batches see the same members). Idempotent."""
    progress = progress or (lambda percent, message: None)
    db.session.rollback()
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    round_ = db.session.get(Round, round_id, with_for_update=True)
    if round_ is None or round_.status != RoundStatus.computing:
        return round_
    eligible = _eligible(round_)
    members = db.session.scalar(select(func.count()).select_from(Membership).where(*eligible))
    items = db.session.scalars(select(RoundItem).where(RoundItem.round_id == round_id)
                               .order_by(RoundItem.id)).all()
    if not members:   # everyone left meanwhile: the items wait for the next round
        return _cancel(round_, items)
    figures = apportionment.compute_round(
        [apportionment.Item(item.kind.value, item.requested_fen) for item in items],
        round_.plan.fee_bp, members, round_.cap_room_fen)
    previous = db.session.scalar(select(Round).where(
        Round.plan_id == round_.plan_id, Round.number < round_.number,
        Round.status.in_(COMPUTED))
        .order_by(Round.number.desc()).limit(1))
    offset = (apportionment.next_offset(previous.remainder_offset, previous.remainder, members)
              if previous else 0)
    progress(2, f"{members} 名会员参与分摊")
    written, after = 0, 0
    while True:
        # The batch_size-th sharing member after `after`: each batch but the last holds exactly
        # batch_size members of the snapshot, so positions continue from batch to batch.
        boundary = db.session.scalar(select(Membership.id).where(*eligible, Membership.id > after)
                                     .order_by(Membership.id).offset(batch_size - 1).limit(1))
        upper = boundary if boundary is not None else round_.cutoff_membership_id
        _insert_batch(round_id, eligible, after, upper, written, members, figures, offset)
        if boundary is None:
            break
        written += batch_size
        after = upper
        progress(2 + 96 * written // members, f"已计算 {written}/{members}")
    count, total, last = db.session.execute(
        select(func.count(), func.coalesce(func.sum(ShareCharge.amount_fen), 0),
               func.max(ShareCharge.position)).where(ShareCharge.round_id == round_id)).one()
    if (count, total, last) != (members, figures.total_fen, members - 1):
        raise RoundChanged(f"round {round_id}: {members} members and {figures.total_fen} fen "
                           f"expected, {count} charges of {total} fen written")
    for item, granted in zip(items, figures.granted):
        item.granted_fen = granted
    round_.members = members
    round_.items_requested_fen = figures.items_requested_fen
    round_.fee_requested_fen = figures.fee_requested_fen
    round_.capped = figures.capped
    round_.items_granted_fen = figures.items_granted_fen
    round_.fee_fen = figures.fee_fen
    round_.total_fen = figures.total_fen
    round_.base_share_fen = figures.base_share_fen
    round_.remainder = figures.remainder
    round_.remainder_offset = offset
    round_.status = RoundStatus.announced
    round_.computed_at = utcnow()
    audit.record("round_computed", "round", round_id,
                 f"{members} 名会员，合计 ¥{format_yuan(figures.total_fen)}"
                 + ("，已触及年度上限，按比例降低互助金" if figures.capped else ""))
    db.session.commit()
    progress(100, "分摊已公布")
    return round_


def _cancel(round_: Round, items: list[RoundItem]) -> Round:
    for item in items:
        item.round_id = None
        if item.claim is not None and item.claim.status == ClaimStatus.in_round:
            item.claim.status = ClaimStatus.confirmed
    round_.status = RoundStatus.cancelled
    audit.record("round_cancelled", "round", round_.id, "没有可参与分摊的会员，病例顺延至下一期")
    db.session.commit()
    return round_


def _insert_batch(round_id, eligible, after, upper, start, members, figures, offset) -> None:
    ranked = (select(Membership.id.label("membership_id"), Membership.user_id,
                     (literal(start, BigInteger) + func.row_number().over(order_by=Membership.id)
                      - 1).label("position"))
              .where(*eligible, Membership.id > after, Membership.id <= upper).subquery())
    extra = case((((ranked.c.position - offset + members) % members) < figures.remainder, 1),
                 else_=0)
    rows = select(literal(round_id, BigInteger), ranked.c.membership_id, ranked.c.user_id,
                  ranked.c.position, literal(figures.base_share_fen, BigInteger) + extra,
                  literal(ChargeStatus.due.name))
    db.session.execute(insert(ShareCharge.__table__).from_select(
        ["round_id", "membership_id", "user_id", "position", "amount_fen", "status"], rows))


def close_round(round_id: int, today: date | None = None, staff=None, reason: str = "") -> Round:
    """Stop waiting for the round and distribute what was collected. Past its close date (the
    periodic job, or staff): unpaid → overdue, members suspended. Before it (staff only, with a
    reason): nobody is suspended, unpaid charges stay payable until close_on, when
    end_grace_period suspends whoever still has not paid."""
    round_ = db.session.get(Round, round_id, with_for_update=True)
    if round_ is None or round_.status != RoundStatus.announced:
        raise MutualAidError("该期分摊不在缴费中", "not_announced")
    today = today or china_today()
    reason = (reason or "").strip()
    early = today < round_.close_on
    if early and staff is None:
        raise MutualAidError("宽限期尚未结束", "grace_not_over")
    if early and not reason:
        raise MutualAidError("请填写提前结束缴费的原因", "reason_missing")
    round_.status = RoundStatus.closed
    round_.closed_at = utcnow()
    if early:
        audit.record("round_closed_early", "round", round_.id,
                     f"提前结束缴费：{reason}（未缴会员仍可在宽限期内缴费，至 {round_.close_on}）",
                     staff=staff)
    else:
        suspended = suspend_overdue(round_.id, round_.number, round_.plan.rejoin_days)
        audit.record("round_closed", "round", round_.id,
                     f"宽限期结束，{suspended} 名会员因未缴费暂停"
                     + (f"；{reason}" if reason else ""), staff=staff)
    db.session.commit()
    distribute(round_id)
    return round_


def rounds_past_grace_with_due(today: date) -> list[int]:
    """Rounds closed early whose grace period is over while some charges are still due."""
    return list(db.session.scalars(select(Round.id).where(
        Round.status == RoundStatus.closed, Round.close_on <= today,
        select(ShareCharge.id).where(ShareCharge.round_id == Round.id,
                                     ShareCharge.status == ChargeStatus.due).exists())
        .order_by(Round.id)))


def end_grace_period(round_id: int, today: date | None = None) -> int:
    """The grace period of a round closed early is over: its unpaid charges become overdue and
    their members are suspended, as at a normal close. Idempotent (nothing due is left after)."""
    round_ = db.session.get(Round, round_id, with_for_update=True)
    today = today or china_today()
    if round_ is None or round_.status != RoundStatus.closed or today < round_.close_on:
        db.session.rollback()
        return 0
    still_due = db.session.scalar(select(ShareCharge.id).where(
        ShareCharge.round_id == round_id, ShareCharge.status == ChargeStatus.due).limit(1))
    if still_due is None:
        db.session.rollback()
        return 0
    suspended = suspend_overdue(round_.id, round_.number, round_.plan.rejoin_days)
    audit.record("round_closed", "round", round_.id,
                 f"宽限期结束，{suspended} 名会员因未缴费暂停")
    db.session.commit()
    return suspended


def collected_fen(round_id: int) -> int:
    return int(db.session.scalar(select(func.coalesce(func.sum(ShareCharge.amount_fen), 0))
                                 .where(ShareCharge.round_id == round_id,
                                        ShareCharge.status == ChargeStatus.paid)))


def distribute(round_id: int) -> Distribution | None:
    """Pay out what was collected and not yet paid out: one ledger transaction from the plan's
    custody to the payout and fee accounts (and the payback clearing for refunds, paid back to
    each member by paybacks.py). Idempotent."""
    round_ = db.session.get(Round, round_id, with_for_update=True)
    if round_ is None or round_.status != RoundStatus.closed:
        return None
    items = db.session.scalars(select(RoundItem).where(RoundItem.round_id == round_id)
                               .order_by(RoundItem.id)).all()
    fee_paid = int(db.session.scalar(select(func.coalesce(func.sum(Distribution.fee_fen), 0))
                                     .where(Distribution.round_id == round_id)))
    collected = collected_fen(round_id)
    now = apportionment.installment(collected, round_.total_fen, round_.fee_fen, fee_paid,
                                    [item.granted_fen for item in items],
                                    [item.distributed_fen for item in items])
    if now.total_fen == 0:
        db.session.rollback()
        return None
    seq = (db.session.scalar(select(func.max(Distribution.seq)).where(
        Distribution.round_id == round_id)) or 0) + 1
    credits: dict[str, int] = {}
    if now.fee_fen:
        credits[FEE_CLEARING] = now.fee_fen
    for item, part in zip(items, now.parts):
        if part:
            code = PAYBACK_DUE if item.kind == ItemKind.refund else PAYOUT_CLEARING
            if item.kind == ItemKind.claim and item.claim_id is not None:
                code = claim_payable(item.claim_id)   # 待打款 until finance pays it
            credits[code] = credits.get(code, 0) + part
    legs = [Leg(plan_custody(round_.plan_id), -now.total_fen)]
    legs += [Leg(code, amount) for code, amount in credits.items()]
    post("plan_distribution", f"{round_id}:{seq}", legs,
         memo=f"互助计划第 {round_.number} 期分摊打款（第 {seq} 笔）")
    distribution = Distribution(round_id=round_id, seq=seq, collected_fen=collected,
                                items_fen=sum(now.parts), fee_fen=now.fee_fen)
    db.session.add(distribution)
    db.session.flush()
    for item, part in zip(items, now.parts):
        if part:
            db.session.add(DistributionLine(distribution_id=distribution.id, item_id=item.id,
                                            amount_fen=part))
            item.distributed_fen += part
            if item.claim_id is not None:   # locked: a payout settling reads its balance
                claim = db.session.get(Claim, item.claim_id, with_for_update=True,
                                       populate_existing=True)
                if claim.status in (ClaimStatus.in_round, ClaimStatus.paid):
                    claim.status = ClaimStatus.awarded   # paid by finance (claim_payouts.py)
    audit.record("round_distributed", "round", round_id,
                 f"第 {seq} 笔：互助金 {sum(now.parts)} 分，管理费 {now.fee_fen} 分")
    db.session.commit()
    return distribution


def rounds_with_money_waiting() -> list[int]:
    """Closed rounds whose collected money is not all paid out (late payments)."""
    out = (select(Distribution.round_id, func.sum(Distribution.items_fen + Distribution.fee_fen)
                  .label("out")).group_by(Distribution.round_id).subquery())
    paid = (select(ShareCharge.round_id, func.sum(ShareCharge.amount_fen).label("paid"))
            .where(ShareCharge.status == ChargeStatus.paid).group_by(ShareCharge.round_id)
            .subquery())
    return list(db.session.scalars(
        select(Round.id).join(paid, paid.c.round_id == Round.id)
        .outerjoin(out, out.c.round_id == Round.id)
        .where(Round.status == RoundStatus.closed,
               paid.c.paid > func.coalesce(out.c.out, 0))))
