"""Pages of claim payouts: the claimant names where the money goes; finance verifies the payee,
countersigns large payouts and releases them (never the reviewer who approved the claim).

  GET  POST /mutual-aid/claims/<id>/payee                  the claimant's payee form
  GET       /staff/mutual-aid/payouts/                      claims whose money waits, and for whom
  GET       /staff/mutual-aid/payouts/claims/<id>           one claim's payee, money and signoffs
  POST      /staff/mutual-aid/payouts/claims/<id>/{payee,countersign,release}
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.auth.decorators import staff_required
from app.auth.models import StaffRole
from app.extensions import db
from app.mutual_aid import claim_payees, claim_payouts, queries
from app.mutual_aid.claim_payouts import SUBJECT
from app.mutual_aid.models import Claim
from app.mutual_aid.payout_models import PayeeKind
from app.mutual_aid.services import MutualAidError, real_name
from app.payouts import approvals

member_bp = Blueprint("mutual_aid_claim_payee", __name__, url_prefix="/mutual-aid")
staff_bp = Blueprint("mutual_aid_payouts_staff", __name__,
                     url_prefix="/staff/mutual-aid/payouts")
WAITING_LABELS = {"claimant": "等待申请人填写收款账户", "verify": "等待财务核实收款账户",
                  "countersign": "等待财务复核（大额）", "release": "等待财务放款",
                  "transfer": "转账中，等待银行或微信结果", "": "—"}


def _own_claim(claim_id: int) -> Claim:
    if current_user.is_staff:
        abort(403)
    claim = db.session.get(Claim, claim_id)
    if claim is None or claim.user_id != current_user.id:
        abort(404)
    return claim


@member_bp.route("/claims/<id:claim_id>/payee", methods=["GET", "POST"])
@login_required
def payee(claim_id: int):
    claim = _own_claim(claim_id)
    current = claim_payees.payee_of(claim.id)
    if request.method == "GET":
        form = {"kind": current.kind.value} if current else {}
        return render_template("mutual_aid/claim_payee.html", claim=claim, payee=current,
                               form=form, kinds=PayeeKind)
    form = request.form
    try:
        claim_payees.name_payee(claim.id, current_user.id, form.get("kind", ""),
                                form.get("account_name", ""), form.get("bank_name", ""),
                                form.get("account_number", ""))
    except MutualAidError as error:
        return render_template("mutual_aid/claim_payee.html", claim=claim, payee=current,
                               form=form, kinds=PayeeKind, error=error.message), 422
    flash("收款账户已保存" + ("，财务核实后打款" if form.get("kind") != "wechat" else ""), "success")
    return redirect(url_for("mutual_aid.claim_detail", claim_id=claim.id))


# --- finance ---------------------------------------------------------------------------------

def _staff():
    return current_user._get_current_object()


@staff_bp.get("/")
@staff_required(StaffRole.finance)
def index():
    rows = [(claim, claim_payouts.waiting_for(claim), claim_payouts.payable_fen(claim.id))
            for claim in claim_payouts.claims_to_pay()]
    return render_template("mutual_aid/staff/payouts.html", rows=rows, labels=WAITING_LABELS)


@staff_bp.get("/claims/<id:claim_id>")
@staff_required(StaffRole.finance)
def claim(claim_id: int):
    claim = db.session.get(Claim, claim_id) or abort(404)
    payouts = claim_payouts.payouts_of(claim.id)
    return render_template(
        "mutual_aid/staff/payout.html", claim=claim, real_name=real_name(claim.membership),
        payee=claim_payees.payee_of(claim.id), payable=claim_payouts.payable_fen(claim.id),
        payouts=payouts, signoffs={p.id: approvals.signoffs(SUBJECT, p.id) for p in payouts},
        waiting=claim_payouts.waiting_for(claim), labels=WAITING_LABELS,
        history=queries.audit_of("claim", claim.id))


def _act(claim_id: int, action, done: str):
    try:
        action()
        flash(done, "success")
    except MutualAidError as error:
        flash(error.message, "error")
    return redirect(url_for(".claim", claim_id=claim_id))


def _reason() -> str:
    return (request.form.get("reason") or "").strip()


@staff_bp.post("/claims/<id:claim_id>/payee")
@staff_required(StaffRole.finance)
def verify_payee(claim_id: int):
    ok = request.form.get("ok") == "1"
    return _act(claim_id, lambda: claim_payees.verify_payee(claim_id, _staff(), ok, _reason()),
                "收款账户已核实" if ok else "已退回收款账户")


@staff_bp.post("/claims/<id:claim_id>/countersign")
@staff_required(StaffRole.finance)
def countersign(claim_id: int):
    return _act(claim_id, lambda: claim_payouts.countersign(claim_id, _staff(), _reason()),
                "已复核，等待另一位财务放款")


@staff_bp.post("/claims/<id:claim_id>/release")
@staff_required(StaffRole.finance)
def release(claim_id: int):
    return _act(claim_id, lambda: claim_payouts.release(claim_id, _staff(), _reason()),
                "已放款，转账结果回来后更新")
