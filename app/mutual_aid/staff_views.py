"""Staff pages of the plan, under /staff/mutual-aid: claims and objections (reviewers), rounds
and what is owed back to members (finance sees it; the job pays it), the funnel dashboard with
CSV export (any staff), the audit log.
Every decision goes through a service that records who, when and why."""
from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from flask import (Blueprint, Response, abort, flash, jsonify, redirect, render_template,
                   request, url_for)
from flask_login import current_user

from app.auth.decorators import staff_required
from app.auth.models import StaffRole
from app.core import crypto
from app.core.chinatime import china_today
from app.core.params import id_arg
from app.extensions import db, jobs
from app.mutual_aid import charts, claims, funnel, queries, paybacks, rounds, services
from app.mutual_aid.models import Claim, Membership, Plan
from app.mutual_aid.money_models import Round
from app.mutual_aid.services import MutualAidError

bp = Blueprint("mutual_aid_staff", __name__, url_prefix="/staff/mutual-aid")
REVIEWERS = (StaffRole.reviewer,)
FINANCE = (StaffRole.finance,)


def _staff():
    return current_user._get_current_object()


def _reason() -> str:
    return (request.form.get("reason") or "").strip()


@bp.get("/")
@staff_required()
def index():
    return render_template("mutual_aid/staff/index.html", claims=queries.claims_waiting(),
                           objections=queries.open_objections(), plans=queries.plans(),
                           rounds={p.id: queries.rounds_of(p.id, 6) for p in queries.plans()},
                           owed=paybacks.owed_to_members())


@bp.get("/claims/<id:claim_id>")
@staff_required(*REVIEWERS)
def claim(claim_id: int):
    claim = db.session.get(Claim, claim_id) or abort(404)
    membership = claim.membership
    return render_template("mutual_aid/staff/claim.html", claim=claim, membership=membership,
                           real_name=crypto.decrypt(membership.name_enc),
                           id_number=crypto.decrypt(membership.id_enc),
                           objections=queries.objections_of(claim.id),
                           history=queries.audit_of("claim", claim.id))


@bp.post("/claims/<id:claim_id>/decide")
@staff_required(*REVIEWERS)
def decide_claim(claim_id: int):
    decision = request.form.get("decision")
    actions = {"approve": lambda: claims.approve_claim(claim_id, _staff(), _reason()),
               "reject": lambda: claims.reject_claim(claim_id, _staff(), _reason()),
               "waiting_refund": lambda: claims.refund_in_waiting_period(claim_id, _staff(),
                                                                         _reason())}
    if decision not in actions:
        abort(400)
    try:
        result = actions[decision]()
        flash(f"已处理：{result.status.label}", "success")
    except MutualAidError as error:
        flash(error.message, "error")
    return redirect(url_for(".claim", claim_id=claim_id))


@bp.post("/objections/<id:objection_id>/decide")
@staff_required(*REVIEWERS)
def decide_objection(objection_id: int):
    try:
        objection = claims.decide_objection(objection_id, _staff(),
                                            request.form.get("uphold") == "1", _reason())
        flash("异议已处理", "success")
        return redirect(url_for(".claim", claim_id=objection.claim_id))
    except MutualAidError as error:
        flash(error.message, "error")
    return redirect(url_for(".index"))


@bp.post("/memberships/<id:membership_id>/remove")
@staff_required(*REVIEWERS)
def remove_member(membership_id: int):
    try:
        services.remove(membership_id, _staff(), _reason())
        flash("已移除该会员", "success")
    except MutualAidError as error:
        flash(error.message, "error")
    return redirect(request.referrer or url_for(".index"))


@bp.post("/plans/<id:plan_id>/announce")
@staff_required(*FINANCE)
def announce(plan_id: int):
    db.session.get(Plan, plan_id) or abort(404)
    round_ = rounds.announce_round(plan_id, china_today(), staff=_staff())
    if round_ is None:
        flash("没有可分摊的项目、没有可分摊的会员或本年度上限已用尽", "error")
        return redirect(url_for(".index"))
    return redirect(url_for(".round_page", round_id=round_.id))


@bp.get("/rounds/<id:round_id>")
@staff_required()
def round_page(round_id: int):
    return _round_page(round_id)


def _round_page(round_id: int, error: str | None = None) -> str:
    round_ = db.session.get(Round, round_id) or abort(404)
    return render_template("mutual_aid/staff/round.html", round=round_,
                           items=queries.round_items(round_id),
                           collection=queries.round_collection(round_id),
                           distributions=queries.distributions_of(round_id),
                           history=queries.audit_of("round", round_id), error=error,
                           today=china_today())


@bp.get("/rounds/<id:round_id>/job.json")
@staff_required()
def round_job(round_id: int):
    round_ = db.session.get(Round, round_id) or abort(404)
    job = jobs.fetch(round_.job_id) if round_.job_id else None
    meta = dict(job.meta) if job is not None else {}
    return jsonify(status=round_.status.value, job=job.get_status() if job else None,
                   progress=meta.get("progress"), message=meta.get("message"))


@bp.post("/rounds/<id:round_id>/close")
@staff_required(*FINANCE)
def close_round(round_id: int):
    try:
        rounds.close_round(round_id, staff=_staff(), reason=_reason())
    except MutualAidError as error:
        db.session.rollback()
        return _round_page(round_id, error=error.message), 422
    flash("已结束缴费并按已收金额打款", "success")
    return redirect(url_for(".round_page", round_id=round_id))


@bp.get("/members/<id:membership_id>")
@staff_required(*REVIEWERS)
def member(membership_id: int):
    membership = db.session.get(Membership, membership_id) or abort(404)
    return render_template("mutual_aid/staff/member.html", membership=membership,
                           real_name=crypto.decrypt(membership.name_enc),
                           history=queries.audit_of("membership", membership_id))


@bp.get("/audit")
@staff_required()
def audit_log():
    return render_template("mutual_aid/staff/audit.html", records=queries.audit_of(limit=300))


# --- the funnel -------------------------------------------------------------------------------

def _filters() -> funnel.Filters:
    def day(name: str, default: date | None) -> date | None:
        try:
            return date.fromisoformat(request.args[name]) if request.args.get(name) else default
        except ValueError:
            abort(400)

    today = china_today()
    return funnel.Filters(since=day("since", today - timedelta(days=29)),
                          until=day("until", today),
                          campaign_id=id_arg(request.args, "campaign", "筹款编号"),
                          channel=request.args.get("channel") or None)


@bp.get("/funnel")
@staff_required()
def funnel_page():
    filters = _filters()
    overall = funnel.counts(filters)[None]
    by_day = funnel.counts(filters, "day")
    by_channel = funnel.counts(filters, "channel")
    by_campaign = funnel.counts(filters, "campaign")
    return render_template(
        "mutual_aid/staff/funnel.html", filters=filters, figures=funnel.figures(overall),
        overall=overall,
        by_channel=_rows(by_channel), by_campaign=_rows(by_campaign),
        channel_labels=funnel.CHANNEL_LABELS, steps=funnel.STEPS, labels=funnel.STEP_LABELS,
        chart_steps=charts.funnel_bars(overall), chart_days=charts.by_day_lines(by_day)
        if by_day else "", chart_channels=charts.by_channel_bars(by_channel) if by_channel else "")


def _rows(groups: dict) -> list[tuple]:
    """Every group, the one without a campaign (None) last, so the rows add up to the total."""
    return sorted(groups.items(), key=lambda pair: (pair[0] is None, str(pair[0])))


@bp.get("/funnel.csv")
@staff_required()
def funnel_csv():
    by = request.args.get("by", "day")
    if by not in funnel.DIMENSIONS:
        abort(400)
    out = io.StringIO()
    csv.writer(out).writerows(funnel.csv_rows(_filters(), by))
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=funnel-by-{by}.csv"})
