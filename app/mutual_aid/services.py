"""Plans and memberships: joining (health declaration, rules, real name and ID), leaving, the
waiting period, suspension and rejoining. Each business action is one transaction, committed
here. Claims live in claims.py, rounds in rounds.py, money in wallet.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import exists, insert, literal, select, update
from sqlalchemy.exc import IntegrityError

from app.core import crypto, idcard
from app.core.chinatime import china_today
from app.core.templating import mask_name
from app.extensions import db
from app.models_base import as_utc, utcnow
from app.mutual_aid import audit
from app.mutual_aid.models import (LIVE_STATUSES, RELATIONS, MemberNotice, Membership,
                                   MembershipStatus, Plan, PlanStatus)
from app.mutual_aid.money_models import ChargeStatus, ShareCharge

NOT_INSURANCE = "网络互助不是保险：不承诺赔付，不预先收费，互助金由会员在病例公示后按规则分摊。"
NAME_MAX = 20


class MutualAidError(Exception):
    """A request we refuse; the message can be shown to the person who made it."""

    def __init__(self, message: str, code: str = "refused"):
        super().__init__(message)
        self.message = message
        self.code = code


def notify(user_id: int, kind: str, body: str) -> None:
    db.session.add(MemberNotice(user_id=user_id, kind=kind, body=body[:500]))


# --- plans ----------------------------------------------------------------------------------

def get_plan(slug: str) -> Plan | None:
    return db.session.scalar(select(Plan).where(Plan.slug == slug))


def default_plan() -> Plan | None:
    return db.session.scalar(select(Plan).where(Plan.status == PlanStatus.open)
                             .order_by(Plan.id).limit(1))


DEMO_QUESTIONS = [
    "过去两年内是否曾被建议住院检查或手术（不含剖腹产、阑尾炎）？",
    "是否曾患有或正在患有恶性肿瘤、白血病、淋巴瘤等疾病？",
    "是否患有心脏病、脑血管疾病、慢性肾病、肝硬化或糖尿病？",
    "是否正在等待检查结果，或有尚未明确诊断的肿块、结节？",
]
DEMO_CONDITIONS = ["恶性肿瘤（癌症）", "急性心肌梗塞", "脑中风后遗症", "重大器官移植",
                   "终末期肾病", "严重烧伤"]


def seed_demo_plan(slug: str = "kangfu") -> Plan:
    """The demo plan (idempotent): the rules of the issue's example. For app/demo.py."""
    plan = get_plan(slug)
    if plan is not None:
        return plan
    plan = Plan(slug=slug, name="相助·大病互助计划",
                summary="会员之间互帮互助：有人患大病时，其他会员在公示后共同分摊互助金。",
                min_age_days=30, max_age_years=59, covered_conditions=DEMO_CONDITIONS,
                waiting_days=180, payout_bands=[[39, 300_000_00], [59, 100_000_00]],
                fee_bp=800, yearly_cap_fen=188_00, announce_days=[7, 21],
                collect_days=[14, 28], grace_days=7, objection_days=5, rejoin_days=30,
                health_questions=DEMO_QUESTIONS)
    db.session.add(plan)
    db.session.commit()
    return plan


# --- joining --------------------------------------------------------------------------------

@dataclass
class JoinRequest:
    plan_id: int
    user_id: int
    real_name: str
    id_number: str
    relation: str
    answers: dict[int, bool] = field(default_factory=dict)   # question index → "yes"
    accepted_rules: bool = False
    accepted_notice: bool = False
    source_campaign_id: int | None = None


def check_declaration(plan: Plan, answers: dict[int, bool]) -> None:
    """Every question answered; any "yes" makes the person ineligible, with the reason."""
    for index, question in enumerate(plan.health_questions):
        if index not in answers:
            raise MutualAidError(f"请回答健康告知第 {index + 1} 题", "declaration_incomplete")
    for index, question in enumerate(plan.health_questions):
        if answers[index]:
            raise MutualAidError(
                f"很抱歉，暂不符合加入条件：健康告知第 {index + 1} 题“{question}”回答为“是”。"
                "按计划规则，有该情况的人不能加入。", "not_eligible_health")


def check_age(plan: Plan, card: idcard.IdCard, today: date) -> None:
    days = idcard.age_in_days(card.birth_date, today)
    years = card.age_on(today)
    if days < plan.min_age_days or years > plan.max_age_years:
        raise MutualAidError(
            f"很抱歉，暂不符合加入条件：本计划的加入年龄为出生满 {plan.min_age_days} 天至 "
            f"{plan.max_age_years} 周岁，该成员现在 {years} 周岁。", "not_eligible_age")


def clean_name(name: str) -> str:
    name = (name or "").strip().replace(" ", "")
    if not name or len(name) > NAME_MAX or any(ch.isdigit() for ch in name):
        raise MutualAidError("请填写与身份证一致的真实姓名", "name_invalid")
    return name


def join(request: JoinRequest) -> Membership:
    plan = db.session.get(Plan, request.plan_id)
    if plan is None or plan.status != PlanStatus.open:
        raise MutualAidError("该互助计划暂不接受加入", "plan_closed")
    if not (request.accepted_rules and request.accepted_notice):
        raise MutualAidError("请阅读并同意计划规则，并确认知晓“网络互助不是保险”",
                             "not_accepted")
    if request.relation not in RELATIONS:
        raise MutualAidError("请选择与您的关系", "relation_invalid")
    name = clean_name(request.real_name)
    try:
        card = idcard.parse(request.id_number)
    except idcard.IdCardError as error:
        raise MutualAidError(str(error), "id_invalid") from None
    now = utcnow()
    check_age(plan, card, china_today(now))
    check_declaration(plan, request.answers)
    id_index = crypto.blind_index(card.number, "id_number")
    if db.session.scalar(select(exists().where(
            Membership.plan_id == plan.id, Membership.id_index == id_index,
            Membership.status.in_(LIVE_STATUSES)))):
        raise MutualAidError("该身份证号码已经是本计划的会员", "already_member")
    membership = Membership(
        plan_id=plan.id, user_id=request.user_id, relation=request.relation,
        name_enc=crypto.encrypt(name), name_masked=mask_name(name),
        id_enc=crypto.encrypt(card.number), id_index=id_index, id_masked=card.masked,
        birth_date=card.birth_date, male=card.male, status=MembershipStatus.waiting,
        declaration={"questions": plan.health_questions,
                     "answers": [bool(request.answers[i])
                                 for i in range(len(plan.health_questions))]},
        accepted_rules_at=now, joined_at=now, waiting_until=now + timedelta(days=plan.waiting_days),
        source_campaign_id=request.source_campaign_id)
    db.session.add(membership)
    try:
        db.session.flush()
    except IntegrityError:   # the same ID joined a moment ago in another request
        db.session.rollback()
        raise MutualAidError("该身份证号码已经是本计划的会员", "already_member") from None
    audit.record("join", "membership", membership.id, "健康告知全部为“否”，同意规则与不是保险的提示",
                 user_id=request.user_id)
    db.session.commit()
    return membership


def memberships_of(user_id: int) -> list[Membership]:
    return list(db.session.scalars(select(Membership).where(Membership.user_id == user_id)
                                   .order_by(Membership.id)))


def real_name(membership: Membership) -> str:
    """For the member's own page and staff only."""
    return crypto.decrypt(membership.name_enc)


# --- leaving, the waiting period, suspension ------------------------------------------------

def _waive_open_charges(membership_id: int) -> None:
    db.session.execute(
        update(ShareCharge).where(ShareCharge.membership_id == membership_id,
                                  ShareCharge.status.in_((ChargeStatus.due, ChargeStatus.overdue)))
        .values(status=ChargeStatus.waived).execution_options(synchronize_session=False))


def end_membership(membership: Membership, status: MembershipStatus, reason: str, *,
                   staff=None, user_id: int | None = None, commit: bool = True) -> None:
    if not membership.is_live:
        raise MutualAidError("该会员资格已经结束", "not_live")
    membership.status = status
    membership.ended_at = utcnow()
    membership.end_reason = reason[:200]
    _waive_open_charges(membership.id)
    audit.record(status.value, "membership", membership.id, reason, staff=staff, user_id=user_id)
    if commit:
        db.session.commit()


def leave(membership_id: int, user_id: int) -> Membership:
    membership = db.session.get(Membership, membership_id)
    if membership is None or membership.user_id != user_id:
        raise MutualAidError("会员不存在", "not_found")
    end_membership(membership, MembershipStatus.left, "会员主动退出", user_id=user_id)
    notify(user_id, "left", f"{membership.name_masked} 已退出「{membership.plan.name}」，"
           "此后不再参与分摊。")
    db.session.commit()
    return membership


def remove(membership_id: int, staff, reason: str) -> Membership:
    if not reason.strip():
        raise MutualAidError("请填写移除原因", "reason_missing")
    membership = db.session.get(Membership, membership_id)
    if membership is None:
        raise MutualAidError("会员不存在", "not_found")
    end_membership(membership, MembershipStatus.removed, reason, staff=staff, commit=False)
    notify(membership.user_id, "removed", f"{membership.name_masked} 的会员资格已被移除：{reason}")
    db.session.commit()
    return membership


def end_waiting_periods(now: datetime | None = None) -> int:
    """Waiting → active once the waiting period is over (a bulk UPDATE; idempotent)."""
    now = now or utcnow()
    result = db.session.execute(
        update(Membership).where(Membership.status == MembershipStatus.waiting,
                                 Membership.waiting_until <= now)
        .values(status=MembershipStatus.active).execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount or 0


def reactivate_if_clear(membership_ids: set[int], user_id: int | None = None) -> list[int]:
    """Suspended members with nothing overdue any more come back (in the caller's transaction):
    to waiting if their waiting period is not over, else active."""
    back = []
    now = utcnow()
    for membership in db.session.scalars(select(Membership).where(
            Membership.id.in_(membership_ids),
            Membership.status == MembershipStatus.suspended)):
        owing = db.session.scalar(select(exists().where(
            ShareCharge.membership_id == membership.id,
            ShareCharge.status == ChargeStatus.overdue)))
        if owing:
            continue
        waiting = as_utc(membership.waiting_until) > now
        membership.status = MembershipStatus.waiting if waiting else MembershipStatus.active
        membership.suspended_at = None
        audit.record("rejoin", "membership", membership.id, "补缴欠缴的分摊金额，恢复会员资格",
                     user_id=user_id)
        notify(membership.user_id, "rejoined",
               f"{membership.name_masked} 已补缴分摊金额，会员资格已恢复。")
        back.append(membership.id)
    return back


def remove_unpaid(now: datetime | None = None) -> int:
    """Suspended past the plan's rejoin window → removed (with notice)."""
    now = now or utcnow()
    removed = 0
    rows = db.session.execute(
        select(Membership, Plan.rejoin_days).join(Plan, Plan.id == Membership.plan_id)
        .where(Membership.status == MembershipStatus.suspended)).all()
    for membership, rejoin_days in rows:
        if as_utc(membership.suspended_at) + timedelta(days=rejoin_days) > now:
            continue
        end_membership(membership, MembershipStatus.removed,
                       f"暂停后 {rejoin_days} 天内未补缴分摊金额", commit=False)
        notify(membership.user_id, "removed",
               f"{membership.name_masked} 暂停后 {rejoin_days} 天内未补缴分摊金额，会员资格已终止；"
               "如需继续参加，可重新加入（重新计算观察期）。")
        removed += 1
    db.session.commit()
    return removed


def suspend_overdue(round_id: int, round_number: int, rejoin_days: int) -> int:
    """At a round's close: its unpaid charges become overdue and their members are suspended,
    with one notice per payer. Bulk statements in the caller's transaction (a round can have a
    million members). Returns how many members were suspended."""
    db.session.execute(
        update(ShareCharge).where(ShareCharge.round_id == round_id,
                                  ShareCharge.status == ChargeStatus.due)
        .values(status=ChargeStatus.overdue).execution_options(synchronize_session=False))
    overdue_members = select(ShareCharge.membership_id).where(
        ShareCharge.round_id == round_id, ShareCharge.status == ChargeStatus.overdue)
    suspended = db.session.execute(
        update(Membership).where(
            Membership.id.in_(overdue_members),
            Membership.status.in_((MembershipStatus.waiting, MembershipStatus.active)))
        .values(status=MembershipStatus.suspended, suspended_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount or 0
    body = (f"您家庭中有成员未在宽限期内缴纳第 {round_number} 期分摊金额，会员资格已暂停。"
            f"请在 {rejoin_days} 天内补缴以恢复资格，逾期将被移除。")
    payers = (select(ShareCharge.user_id, literal("suspended"), literal(body), literal(utcnow()))
              .where(ShareCharge.round_id == round_id, ShareCharge.status == ChargeStatus.overdue)
              .distinct())
    db.session.execute(insert(MemberNotice).from_select(
        ["user_id", "kind", "body", "created_at"], payers))
    return suspended
