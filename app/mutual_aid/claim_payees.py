"""Where an approved claim's money goes: the claimant names a payee on their claim page, finance
verifies a bank payee (the member's own account must be in the member's real name, as held
for the membership; a hospital's account is checked against the hospital). One commit each.

The claimant's WeChat 零钱 needs no verification here: WeChat pays only the claimant's own
identity, and checks the real name itself from ¥2,000 (app/payouts/transfers.py).
"""
from __future__ import annotations

import re

from sqlalchemy import select

from app.auth.models import StaffAccount, StaffRole, User
from app.core import crypto
from app.core.reasons import ReasonRefused, clean_reason
from app.extensions import db
from app.models_base import utcnow
from app.mutual_aid import audit
from app.mutual_aid.models import Claim, ClaimStatus
from app.mutual_aid.payout_models import (OPEN_PAYOUTS, ClaimPayee, ClaimPayout, PayeeKind,
                                          PayeeStatus)
from app.mutual_aid.services import MutualAidError, notify, real_name

# From approval on: the payee can be named while the case is in 公示 or waits for its round.
PAYEE_STATUSES = (ClaimStatus.publicized, ClaimStatus.confirmed, ClaimStatus.in_round,
                  ClaimStatus.awarded, ClaimStatus.paid)
ACCOUNT_PATTERN = re.compile(r"^\d{8,30}$")
NOTE_MAX = 500


def payee_of(claim_id: int) -> ClaimPayee | None:
    return db.session.scalar(select(ClaimPayee).where(ClaimPayee.claim_id == claim_id))


def open_payout(claim_id: int) -> ClaimPayout | None:
    return db.session.scalar(select(ClaimPayout).where(
        ClaimPayout.claim_id == claim_id, ClaimPayout.status.in_(OPEN_PAYOUTS)))


def locked_claim(claim_id: int) -> Claim:
    claim = db.session.get(Claim, claim_id, with_for_update=True, populate_existing=True)
    if claim is None:
        raise MutualAidError("申请不存在", "not_found")
    return claim


def name_payee(claim_id: int, user_id: int, kind: str, account_name: str = "",
               bank_name: str = "", account_number: str = "") -> ClaimPayee:
    """The claimant names (or changes) where the money goes. Refused while a payout is in
    flight: it goes to the payee it was released to."""
    claim = locked_claim(claim_id)
    try:
        if claim.user_id != user_id:
            raise MutualAidError("申请不存在", "not_found")
        if claim.status not in PAYEE_STATUSES:
            raise MutualAidError(f"该申请{claim.status.label}，不能填写收款账户", "not_payable")
        if open_payout(claim.id) is not None:
            raise MutualAidError("打款进行中，暂不能修改收款账户", "payout_open")
        try:
            kind = PayeeKind(kind)
        except ValueError:
            raise MutualAidError("请选择收款方式", "kind_invalid") from None
        payee = payee_of(claim.id) or ClaimPayee(claim_id=claim.id)
        payee.kind = kind
        if kind == PayeeKind.wechat:
            user = db.session.get(User, user_id)
            if user is None or not user.openid:
                raise MutualAidError("请使用微信登录后再选择微信零钱", "not_wechat_user")
            payee.account_name_enc = payee.account_number_enc = ""
            payee.bank_name = payee.account_last4 = ""
            payee.status, payee.note = PayeeStatus.verified, "微信零钱：由微信核对收款人"
        else:
            _bank_account(payee, claim, kind, account_name, bank_name, account_number)
        payee.verified_by_id, payee.verified_at = None, None
        db.session.add(payee)
        db.session.flush()
        audit.record("claim_payee_named", "claim", claim.id, f"{kind.label} · {payee.masked}",
                     user_id=user_id)
        db.session.commit()
    except MutualAidError:
        db.session.rollback()
        raise
    return payee


def _bank_account(payee: ClaimPayee, claim: Claim, kind: PayeeKind, account_name: str,
                  bank_name: str, account_number: str) -> None:
    account_name = (account_name or "").strip()
    bank_name = (bank_name or "").strip()
    number = re.sub(r"[\s-]", "", account_number or "")
    if kind == PayeeKind.member and account_name != real_name(claim.membership):
        raise MutualAidError(f"户名须与会员实名（{claim.membership.name_masked}）一致；"
                             "其他人的账户请选择医院对公账户", "name_mismatch")
    if not 2 <= len(account_name) <= 60:
        raise MutualAidError("请填写收款户名（2 到 60 个字）", "account_name")
    if not 2 <= len(bank_name) <= 100:
        raise MutualAidError("请填写开户银行", "bank_name")
    if not ACCOUNT_PATTERN.match(number):
        raise MutualAidError("银行账号应为 8 到 30 位数字", "account_number")
    payee.account_name_enc = crypto.encrypt(account_name)
    payee.bank_name = bank_name
    payee.account_number_enc = crypto.encrypt(number)
    payee.account_last4 = number[-4:]
    payee.status, payee.note = PayeeStatus.pending, ""


def verify_payee(claim_id: int, staff: StaffAccount, ok: bool, note: str = "") -> ClaimPayee:
    """Finance confirms the account is the member's own (in the real name held for the
    membership) or the hospital's; a refusal says why, and the claimant sees it."""
    claim = locked_claim(claim_id)
    try:
        finance(staff, "只有财务人员可以核实收款账户")
        try:
            note = clean_reason(note, not ok, NOTE_MAX)
        except ReasonRefused as refused:
            raise MutualAidError("请说明收款账户核实不通过的原因", refused.code) from refused
        payee = payee_of(claim.id)
        if payee is None or not payee.is_bank:
            raise MutualAidError("申请人尚未填写银行收款账户", "no_payee")
        if payee.status != PayeeStatus.pending:
            raise MutualAidError(f"该收款账户{payee.status.label}", "already_decided")
        if open_payout(claim.id) is not None:
            raise MutualAidError("打款进行中，不能改变收款账户", "payout_open")
        payee.status = PayeeStatus.verified if ok else PayeeStatus.rejected
        payee.note = note
        payee.verified_by_id, payee.verified_at = staff.id, utcnow()
        audit.record("claim_payee_verified" if ok else "claim_payee_rejected", "claim", claim.id,
                     note or f"{payee.kind.label} · {payee.masked}", staff=staff)
        if not ok:
            notify(claim.user_id, "claim_payee_rejected",
                   f"{claim.membership.name_masked} 的互助金收款账户未通过核实：{note}。"
                   "请在申请页重新填写。")
        db.session.commit()
    except MutualAidError:
        db.session.rollback()
        raise
    return payee


def finance(staff, refusal: str) -> StaffAccount:
    if (not isinstance(staff, StaffAccount) or not staff.active
            or not staff.has_role(StaffRole.finance)):
        raise MutualAidError(refusal, "forbidden")
    return staff
