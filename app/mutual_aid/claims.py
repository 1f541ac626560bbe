"""Claims: a member applies with documents; staff approve (→ 公示 with a window for objections),
reject, or find the diagnosis within the waiting period (→ the member's shares come back and the
membership ends); objections are decided by staff; a notice that ends without an upheld
objection confirms the case, which then waits for the next round. One commit per action.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import exists, func, select

from app.campaigns.photos import ProcessedImage
from app.core import idcard
from app.core.chinatime import china_today
from app.extensions import db
from app.models_base import as_utc, format_yuan, utcnow
from app.notices.services import send_told
from app.mutual_aid import audit, documents, telling
from app.mutual_aid.models import (Claim, ClaimDocument, ClaimStatus, Membership,
                                   MembershipStatus, Objection, ObjectionStatus)
from app.mutual_aid.money_models import ChargeStatus, ItemKind, RoundItem, ShareCharge
from app.mutual_aid.services import MutualAidError, end_membership, notify

OPEN_STATUSES = (ClaimStatus.submitted, ClaimStatus.publicized, ClaimStatus.confirmed,
                 ClaimStatus.in_round, ClaimStatus.awarded, ClaimStatus.paying)
TEXT_MAX = 100


@dataclass
class ClaimRequest:
    membership_id: int
    user_id: int
    condition: str
    diagnosis: str
    hospital: str
    diagnosed_on: date
    description: str
    images: list[ProcessedImage]


def _text(value: str, label: str, limit: int = TEXT_MAX) -> str:
    value = (value or "").strip()
    if not value:
        raise MutualAidError(f"请填写{label}", "field_missing")
    if len(value) > limit:
        raise MutualAidError(f"{label}不能超过 {limit} 字", "field_too_long")
    return value


def submit_claim(request: ClaimRequest) -> Claim:
    membership = db.session.get(Membership, request.membership_id)
    if membership is None or membership.user_id != request.user_id:
        raise MutualAidError("会员不存在", "not_found")
    if membership.status not in (MembershipStatus.waiting, MembershipStatus.active):
        raise MutualAidError(f"会员状态为“{membership.status.label}”，暂不能申请互助",
                             "not_eligible")
    plan = membership.plan
    if request.condition not in plan.covered_conditions:
        raise MutualAidError("请选择计划保障范围内的疾病", "condition_not_covered")
    today = china_today()
    joined = china_today(as_utc(membership.joined_at))
    if request.diagnosed_on > today or request.diagnosed_on < joined:
        raise MutualAidError("确诊日期应在加入计划之后、今天之前", "diagnosed_on_invalid")
    if not request.images:
        raise MutualAidError("请上传诊断证明、病历等材料的照片", "documents_missing")
    if len(request.images) > documents.MAX_DOCUMENTS:
        raise MutualAidError(f"材料照片最多 {documents.MAX_DOCUMENTS} 张", "documents_too_many")
    if db.session.scalar(select(exists().where(Claim.membership_id == membership.id,
                                               Claim.status.in_(OPEN_STATUSES)))):
        raise MutualAidError("该会员已有一个正在处理的互助申请", "claim_open")
    claim = Claim(plan_id=plan.id, membership_id=membership.id, user_id=request.user_id,
                  condition=request.condition, diagnosis=_text(request.diagnosis, "诊断结果"),
                  hospital=_text(request.hospital, "确诊医院"), diagnosed_on=request.diagnosed_on,
                  description=(request.description or "").strip()[:2000])
    db.session.add(claim)
    db.session.flush()
    keys: list[str] = []
    committed = False
    try:
        for image in request.images:
            keys.append(documents.store(image))
            db.session.add(ClaimDocument(claim_id=claim.id, storage_key=keys[-1],
                                         width=image.width, height=image.height))
        audit.record("claim_submitted", "claim", claim.id, user_id=request.user_id)
        db.session.commit()
        committed = True
    finally:
        if not committed:   # nothing of a failed claim stays behind, on disk or in the db
            db.session.rollback()
            documents.delete(keys)
    return claim


def _submitted(claim_id: int) -> Claim:
    claim = db.session.get(Claim, claim_id, with_for_update=True)
    if claim is None:
        raise MutualAidError("申请不存在", "not_found")
    if claim.status != ClaimStatus.submitted:
        raise MutualAidError(f"该申请已处理（{claim.status.label}）", "already_decided")
    return claim


def _decided(claim: Claim, staff, status: ClaimStatus, reason: str) -> None:
    claim.status = status
    claim.decided_by_id = staff.id
    claim.decided_at = utcnow()
    claim.decision_reason = reason[:500]


def approve_claim(claim_id: int, staff, reason: str = "") -> Claim:
    claim = _submitted(claim_id)
    membership, plan = claim.membership, claim.membership.plan
    if membership.status not in (MembershipStatus.waiting, MembershipStatus.active):
        raise MutualAidError(f"会员状态为“{membership.status.label}”，不能通过", "not_eligible")
    waiting_end = china_today(as_utc(membership.waiting_until))
    if claim.diagnosed_on < waiting_end:
        raise MutualAidError("确诊日期在观察期内，应按观察期规则退还分摊并退出", "in_waiting")
    age = idcard.age_on(membership.birth_date, claim.diagnosed_on)
    payout = plan.payout_for_age(age)
    if payout is None:
        raise MutualAidError(f"确诊时 {age} 岁，不在任何互助金年龄段内", "no_band")
    _decided(claim, staff, ClaimStatus.publicized, reason)
    claim.age_at_diagnosis = age
    claim.payout_fen = payout
    claim.notice_until = claim.decided_at + timedelta(days=plan.objection_days)
    audit.record("claim_approved", "claim", claim.id, reason or "材料审核通过，进入公示",
                 staff=staff)
    body = f"{membership.name_masked} 的互助申请已审核通过，现进入 {plan.objection_days} 天公示期。"
    notify(claim.user_id, "claim_approved", body)
    telling.claim_decided(claim, True, body, reason)
    telling.case_publicized(claim)
    db.session.commit()
    send_told()
    return claim


def reject_claim(claim_id: int, staff, reason: str) -> Claim:
    if not (reason or "").strip():
        raise MutualAidError("请填写驳回原因，申请人会看到它", "reason_missing")
    claim = _submitted(claim_id)
    _decided(claim, staff, ClaimStatus.rejected, reason)
    audit.record("claim_rejected", "claim", claim.id, reason, staff=staff)
    body = f"{claim.membership.name_masked} 的互助申请未通过：{reason}"
    notify(claim.user_id, "claim_rejected", body)
    telling.claim_decided(claim, False, body, reason)
    db.session.commit()
    send_told()
    return claim


def shares_paid(membership_id: int) -> int:
    return int(db.session.scalar(
        select(func.coalesce(func.sum(ShareCharge.amount_fen), 0))
        .where(ShareCharge.membership_id == membership_id,
               ShareCharge.status == ChargeStatus.paid)))


def refund_in_waiting_period(claim_id: int, staff, reason: str = "") -> Claim:
    """Diagnosed within the waiting period: the member's paid shares are owed back (paid by the
    next round, then refunded to their WeChat payments or sent by 商家转账: paybacks.py) and the
    membership ends."""
    claim = _submitted(claim_id)
    membership = claim.membership
    waiting_end = china_today(as_utc(membership.waiting_until))
    if claim.diagnosed_on >= waiting_end:
        raise MutualAidError("确诊日期不在观察期内", "not_in_waiting")
    refund = shares_paid(membership.id)
    why = reason or f"确诊日期 {claim.diagnosed_on} 在观察期内（至 {waiting_end}）"
    _decided(claim, staff, ClaimStatus.refunded, why)
    end_membership(membership, MembershipStatus.left, "观察期内确诊，退还已分摊金额后退出",
                   staff=staff, commit=False)
    if refund > 0:
        db.session.add(RoundItem(plan_id=claim.plan_id, kind=ItemKind.refund,
                                 membership_id=membership.id,
                                 beneficiary_user_id=membership.user_id, requested_fen=refund))
    audit.record("claim_waiting_refund", "claim", claim.id, f"{why}；退还 {refund} 分",
                 staff=staff)
    notify(claim.user_id, "waiting_refund",
           f"{membership.name_masked} 在观察期内确诊，按规则退出计划；已分摊的 "
           f"{format_yuan(refund)} 元将在下一期分摊后原路退回您的微信支付（或转入微信零钱）。")
    db.session.commit()
    return claim


# --- 公示 and objections ----------------------------------------------------------------------

def file_objection(claim_id: int, user_id: int, text: str) -> Objection:
    text = _text(text, "异议内容", 500)
    claim = db.session.get(Claim, claim_id)
    if claim is None or claim.status != ClaimStatus.publicized:
        raise MutualAidError("该病例不在公示期内", "not_in_notice")
    if as_utc(claim.notice_until) <= utcnow():
        raise MutualAidError("公示期已结束", "notice_over")
    objection = Objection(claim_id=claim.id, user_id=user_id, text=text)
    db.session.add(objection)
    db.session.flush()
    audit.record("objection_filed", "objection", objection.id, user_id=user_id)
    db.session.commit()
    return objection


def decide_objection(objection_id: int, staff, uphold: bool, reason: str) -> Objection:
    if not (reason or "").strip():
        raise MutualAidError("请填写处理意见", "reason_missing")
    objection = db.session.get(Objection, objection_id, with_for_update=True)
    if objection is None or objection.status != ObjectionStatus.open:
        raise MutualAidError("该异议已处理", "already_decided")
    objection.status = ObjectionStatus.upheld if uphold else ObjectionStatus.dismissed
    objection.decided_by_id = staff.id
    objection.decided_at = utcnow()
    objection.decision_reason = reason[:500]
    audit.record("objection_upheld" if uphold else "objection_dismissed", "objection",
                 objection.id, reason, staff=staff)
    claim = db.session.get(Claim, objection.claim_id, with_for_update=True)
    if uphold and claim.status == ClaimStatus.publicized:
        claim.status = ClaimStatus.revoked
        audit.record("claim_revoked", "claim", claim.id, f"公示期异议成立：{reason}", staff=staff)
        notify(claim.user_id, "claim_revoked",
               f"{claim.membership.name_masked} 的互助申请在公示期收到异议并经核实成立，已撤销：{reason}")
    db.session.commit()
    return objection


def confirm_noticed_claims(now=None) -> int:
    """公示 over with no open objection → confirmed, owed by the next round. Idempotent."""
    now = now or utcnow()
    open_objection = exists().where(Objection.claim_id == Claim.id,
                                    Objection.status == ObjectionStatus.open)
    claims = db.session.scalars(select(Claim).where(
        Claim.status == ClaimStatus.publicized, Claim.notice_until <= now,
        ~open_objection).with_for_update()).all()
    for claim in claims:
        claim.status = ClaimStatus.confirmed
        db.session.add(RoundItem(plan_id=claim.plan_id, kind=ItemKind.claim, claim_id=claim.id,
                                 membership_id=claim.membership_id,
                                 beneficiary_user_id=claim.user_id,
                                 requested_fen=claim.payout_fen))
        audit.record("claim_confirmed", "claim", claim.id, "公示期满，无成立的异议")
    db.session.commit()
    return len(claims)
