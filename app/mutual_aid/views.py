"""Public and member pages of the plan, under /mutual-aid.

  GET  /mutual-aid/                          the open plan
  GET  /mutual-aid/invite/<campaign id>      from a thank-you page: invitation_clicked → plan
  GET  /mutual-aid/plans/<slug>              rules, figures, rounds, the not-insurance notice
  GET  /mutual-aid/plans/<slug>/notices      公示: approved cases, masked, with objections
  GET  /mutual-aid/rounds/<id>[/shares.csv]  the public round report (and every share)
  GET  POST /mutual-aid/plans/<slug>/join    health declaration, rules, real name and ID
  GET  /mutual-aid/me                        memberships, shares due, claims, notices
  POST /mutual-aid/…                         leave, pay (WeChat Pay), claim, object
  *    /mutual-aid/wallet/…                  gone with the wallet: back to 我的 with a notice
"""
from __future__ import annotations

import csv
import io
import secrets

from flask import (Blueprint, Response, abort, flash, redirect, render_template, request,
                   session, stream_with_context, url_for)
from flask_login import current_user, login_required

from app.core import pii
from app.core.chinatime import china_today
from app.extensions import db
from app.models_base import as_utc
from app.mutual_aid import claim_payouts, claims, forms, queries, services, shares
from app.mutual_aid import verify as _verify  # noqa: F401  (registers its ledger verify check)
from app.mutual_aid.documents import StorageFull, load as load_document
from app.mutual_aid.funnel import record_step
from app.mutual_aid.hooks import current_person
from app.mutual_aid.models import Claim, ClaimDocument, Membership
from app.mutual_aid.money_models import COMPUTED, Round
from app.mutual_aid.services import NOT_INSURANCE, MutualAidError
from app.payments.provider import ProviderError

bp = Blueprint("mutual_aid", __name__, url_prefix="/mutual-aid")
SOURCE_KEY = "mutual_aid_source_campaign"


@bp.app_context_processor
def mutual_aid_helpers():
    return {"not_insurance_notice": NOT_INSURANCE, "mutual_aid_plan": services.default_plan}


def _member_user():
    if current_user.is_staff:
        abort(403)
    return current_user._get_current_object()


def _plan(slug: str):
    plan = services.get_plan(slug)
    if plan is None:
        abort(404)
    return plan


def _source() -> int | None:
    value = session.get(SOURCE_KEY)
    return value if isinstance(value, int) else None


def _track(step: str) -> None:
    user_id, visitor_id = current_person()
    if not current_user.is_authenticated or not current_user.is_staff:
        record_step(step, _source(), None, user_id, visitor_id)


def _trade_type() -> str:
    return "JSAPI" if "MicroMessenger" in (request.user_agent.string or "") else "NATIVE"


@bp.get("/")
def index():
    plan = services.default_plan()
    if plan is None:
        abort(404)
    return redirect(url_for(".plan", slug=plan.slug))


@bp.get("/invite/<id:campaign_id>")
def invite(campaign_id: int):
    session[SOURCE_KEY] = campaign_id
    _track("invitation_clicked")
    plan = services.default_plan()
    if plan is None:
        abort(404)
    return redirect(url_for(".plan", slug=plan.slug))


@bp.get("/plans/<slug>")
def plan(slug: str):
    plan = _plan(slug)
    return render_template("mutual_aid/plan.html", plan=plan,
                           counts=queries.member_counts(plan.id), rounds=queries.rounds_of(plan.id))


@bp.get("/plans/<slug>/notices")
def notices(slug: str):
    plan = _plan(slug)
    return render_template("mutual_aid/notices.html", plan=plan,
                           claims=queries.public_claims(plan.id))


@bp.post("/claims/<id:claim_id>/objection")
@login_required
def object_to(claim_id: int):
    user = _member_user()
    claim = db.session.get(Claim, claim_id) or abort(404)
    try:
        text = request.form.get("text", "")
        claims.file_objection(claim.id, user.id, text)
        flash("异议已提交，工作人员会核实处理", "success")
        if message := pii.warning(text, editable=False):
            flash(message, "warning")
    except MutualAidError as error:
        flash(error.message, "error")
    return redirect(url_for(".notices", slug=claim.membership.plan.slug))


@bp.route("/plans/<slug>/join", methods=["GET", "POST"])
@login_required
def join(slug: str):
    plan = _plan(slug)
    user = _member_user()
    if request.method == "GET":
        _track("join_started")
        return render_template("mutual_aid/join.html", plan=plan, form={})
    try:
        membership = services.join(forms.parse_join(request.form, plan, user.id, _source()))
    except MutualAidError as error:
        status = 409 if error.code == "already_member" else 422
        return render_template("mutual_aid/join.html", plan=plan, form=request.form,
                               error=error.message), status
    _track("joined")
    flash(f"{services.real_name(membership)} 已加入，观察期至 "
          f"{china_today(as_utc(membership.waiting_until))}", "success")
    return redirect(url_for(".me"))


@bp.get("/me")
@login_required
def me():
    user = _member_user()
    memberships = services.memberships_of(user.id)
    return render_template(
        "mutual_aid/me.html", memberships=memberships,
        names={m.id: services.real_name(m) for m in memberships},
        charges=queries.charges_of(user.id), open_charges=shares.open_charges(user.id),
        claims=queries.claims_of(user.id),
        notices=queries.notices_of(user.id), plan=services.default_plan(),
        year_paid=queries.year_paid_by_member(user.id, china_today().year),
        checkout_key=secrets.token_urlsafe(16), paid=request.args.get("paid"))


@bp.post("/memberships/<id:membership_id>/leave")
@login_required
def leave(membership_id: int):
    user = _member_user()
    try:
        services.leave(membership_id, user.id)
        flash("已退出互助计划", "success")
    except MutualAidError as error:
        flash(error.message, "error")
    return redirect(url_for(".me"))


@bp.post("/plans/<slug>/pay")
@login_required
def pay(slug: str):
    plan, user = _plan(slug), _member_user()
    return _checkout(lambda: shares.start_share_payment(
        user, plan.id, request.form.get("checkout_key", ""), _trade_type(),
        request.remote_addr or "127.0.0.1"))


WALLET_GONE = ("互助计划实行后付费，不设余额、不预先收费：每期分摊公布后用微信支付缴纳。"
               "原有余额将自动原路退回您的微信支付或转入微信零钱，无需申请。")


@bp.route("/wallet/<path:rest>", methods=["GET", "POST"])
def wallet_gone(rest: str):
    """The removed wallet's pages (top-up, refund): nothing is taken, the member is told."""
    flash(WALLET_GONE, "info")
    return redirect(url_for(".me"), 303)


def _checkout(start_payment):
    """Start a WeChat Pay order and go to its page; a refusal goes back to the member page."""
    try:
        payment = start_payment()
    except MutualAidError as error:
        flash(error.message, "error")
        return redirect(url_for(".me"))
    except ProviderError as error:
        flash(f"微信支付下单失败：{error.message}", "error")
        return redirect(url_for(".me"))
    return redirect(url_for("payments.order", out_trade_no=payment.out_trade_no))


def _own_membership(membership_id: int, user) -> Membership:
    membership = db.session.get(Membership, membership_id)
    if membership is None or membership.user_id != user.id:
        abort(404)
    return membership


@bp.route("/memberships/<id:membership_id>/claim", methods=["GET", "POST"])
@login_required
def claim_new(membership_id: int):
    user = _member_user()
    membership = _own_membership(membership_id, user)
    if request.method == "GET":
        return render_template("mutual_aid/claim_form.html", membership=membership, form={})
    try:
        claim = claims.submit_claim(forms.parse_claim(
            request.form, request.files.getlist("documents"), membership.id, user.id))
    except (MutualAidError, StorageFull) as error:
        return render_template("mutual_aid/claim_form.html", membership=membership,
                               form=request.form, error=error.message), 422
    flash("申请已提交，工作人员会尽快审核", "success")
    # The diagnosis and hospital are shown on the plan's 病例公示 once approved.
    if message := pii.warning(f"{claim.diagnosis} {claim.hospital}", editable=False):
        flash(message, "warning")
    return redirect(url_for(".claim_detail", claim_id=claim.id))


def _viewable_claim(claim_id: int) -> Claim:
    claim = db.session.get(Claim, claim_id)
    if claim is None or not (current_user.is_staff or claim.user_id == current_user.id):
        abort(404)
    return claim


@bp.get("/claims/<id:claim_id>")
@login_required
def claim_detail(claim_id: int):
    claim = _viewable_claim(claim_id)
    item = queries.claim_item(claim.id)
    round_ = db.session.get(Round, item.round_id) if item and item.round_id else None
    return render_template("mutual_aid/claim.html", claim=claim,
                           objections=queries.objections_of(claim.id), item=item, round=round_,
                           payout_money=claim_payouts.money_of(claim),
                           shortfall=queries.shortfall(round_, [item], china_today())
                           if round_ else None)


@bp.get("/claims/<id:claim_id>/documents/<id:document_id>.jpg")
@login_required
def claim_document(claim_id: int, document_id: int):
    claim = _viewable_claim(claim_id)
    document = db.session.get(ClaimDocument, document_id)
    if document is None or document.claim_id != claim.id:
        abort(404)
    try:
        data = load_document(document.storage_key)
    except FileNotFoundError:
        abort(404)
    response = Response(data, mimetype="image/jpeg")
    response.headers["Cache-Control"] = "no-store, private"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _public_round(round_id: int) -> Round:
    round_ = db.session.get(Round, round_id)
    if round_ is None or round_.status not in COMPUTED:
        abort(404)
    return round_


@bp.get("/rounds/<id:round_id>")
def round_report(round_id: int):
    round_ = _public_round(round_id)
    mine = []
    if current_user.is_authenticated and not current_user.is_staff:
        mine = queries.charges_of(current_user.id, round_id=round_.id)
    items = queries.round_items(round_.id)
    return render_template("mutual_aid/round.html", round=round_, items=items,
                           collection=queries.round_collection(round_.id),
                           distributions=queries.distributions_of(round_.id), mine=mine,
                           shortfall=queries.shortfall(round_, items, china_today()))


@bp.get("/rounds/<id:round_id>/shares.csv")
def round_shares_csv(round_id: int):
    round_ = _public_round(round_id)

    def generate():
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["position", "membership_number", "share_fen", "status"])
        for position, member, amount, status in queries.share_rows(round_.id):
            writer.writerow([position, member, amount, status.value])
            if out.tell() > 64_000:
                yield out.getvalue()
                out.seek(0)
                out.truncate()
        yield out.getvalue()

    return Response(stream_with_context(generate()), mimetype="text/csv",
                    headers={"Content-Disposition":
                             f"attachment; filename=round-{round_.id}-shares.csv"})
