"""Finance's page of the reconciliation against WeChat Pay's bills: the days, their status and
findings; a day can be checked again (a job; the result replaces the day's findings in place)."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from app.auth.decorators import staff_required
from app.auth.models import StaffRole
from app.bills import services
from app.bills.models import BillDay, BillFinding
from app.bills.tasks import reconcile_bills
from app.campaigns.forms import ActionForm
from app.extensions import db, jobs

bp = Blueprint("bills_staff", __name__, url_prefix="/staff/finance/bills")
DAYS_SHOWN = 62


@bp.get("/")
@staff_required(StaffRole.finance)
def index():
    days = db.session.scalars(select(BillDay).order_by(BillDay.bill_date.desc())
                              .limit(DAYS_SHOWN)).all()
    open_counts = dict(db.session.execute(
        select(BillFinding.bill_day_id, func.count())
        .where(BillFinding.bill_day_id.in_([d.id for d in days]),
               BillFinding.cleared_at.is_(None))
        .group_by(BillFinding.bill_day_id)).all()) if days else {}
    return render_template("bills/index.html", days=days, open_counts=open_counts,
                           form=ActionForm(), yesterday=services.previous_china_day())


@bp.get("/<bill_date>")
@staff_required(StaffRole.finance)
def day(bill_date: str):
    try:
        wanted = date.fromisoformat(bill_date)
    except ValueError:
        abort(404)
    found = db.session.scalar(select(BillDay).where(BillDay.bill_date == wanted))
    if found is None:
        abort(404)
    return render_template("bills/day.html", day=found, form=ActionForm())


@bp.post("/check")
@staff_required(StaffRole.finance)
def check():
    form = ActionForm()
    if not form.validate_on_submit():
        flash("页面已过期，请刷新后重试", "error")
        return redirect(url_for(".index"))
    try:
        wanted = services.parse_requested_day(request.form.get("bill_date", ""))
    except services.BillRequestError as error:
        flash(str(error), "error")
        return redirect(url_for(".index"))
    services.record_check_request(wanted, current_user)
    jobs.enqueue(reconcile_bills, wanted.isoformat(), queue="payments")
    flash(f"已开始核对 {wanted.isoformat()} 的微信账单", "success")
    if db.session.scalar(select(BillDay.id).where(BillDay.bill_date == wanted)) is None:
        return redirect(url_for(".index"))
    return redirect(url_for(".day", bill_date=wanted.isoformat()))
