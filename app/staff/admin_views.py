"""Admins manage staff accounts; every staff member can search the audit log."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import flash, redirect, render_template, request, url_for

from app.auth.decorators import staff_required
from app.core.chinatime import CHINA
from app.core.params import id_arg, page_arg_or_first
from app.core import audit
from app.core.plugins import audit_labels
from app.staff import services
from app.staff.forms import EmptyForm, StaffCreateForm, StaffPasswordForm, StaffRoleForm
from app.staff.views import ADMINS, bp, me

TARGET_TYPES = [("campaign", "筹款"), ("document", "材料"), ("identity", "实名信息"),
                ("payee", "收款人"), ("report", "举报"), ("staff", "员工账号")]


@bp.get("/accounts")
@staff_required(*ADMINS)
def accounts(create_form: StaffCreateForm | None = None, status: int = 200):
    return render_template("staff/accounts.html", staff_list=services.all_staff(),
                           create_form=create_form or StaffCreateForm(formdata=None),
                           role_form=StaffRoleForm(formdata=None),
                           password_form=StaffPasswordForm(formdata=None),
                           empty_form=EmptyForm(formdata=None)), status


@bp.post("/accounts")
@staff_required(*ADMINS)
def create_account():
    form = StaffCreateForm()
    if not form.validate_on_submit():
        return accounts(create_form=form, status=422)
    if _attempt(lambda: services.create_account(me(), form.username.data, form.display_name.data,
                                                form.role.data, form.password.data),
                f"已创建员工账号 {form.username.data}"):
        return redirect(url_for(".accounts"))
    return accounts(create_form=form, status=422)


@bp.post("/accounts/<id:staff_id>/<action>")
@staff_required(*ADMINS)
def account_action(staff_id: int, action: str):
    if action == "role":
        form = StaffRoleForm()
        run = lambda: services.change_role(me(), staff_id, form.role.data,  # noqa: E731
                                           form.reason.data or "")
    elif action == "password":
        form = StaffPasswordForm()
        run = lambda: services.reset_password(me(), staff_id, form.password.data)  # noqa: E731
    elif action in ("activate", "deactivate"):
        form = EmptyForm()
        run = lambda: services.set_active(me(), staff_id, action == "activate",  # noqa: E731
                                          form.reason.data or "")
    else:
        return redirect(url_for(".accounts"))
    if form.validate_on_submit():
        _attempt(run, "已保存")
    else:
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
    return redirect(url_for(".accounts"))


def _attempt(run, done: str) -> bool:
    try:
        run()
    except services.StaffAdminError as error:
        flash(error.message, "error")
        return False
    flash(done, "success")
    return True


@bp.get("/audit")
@staff_required()
def audit_log():
    args = request.args
    query = audit.AuditQuery(
        q=args.get("q", "").strip()[:50], action=args.get("action", ""),
        target_type=args.get("target_type", ""),
        campaign_id=id_arg(args, "campaign_id", "筹款编号"),
        staff_id=id_arg(args, "staff_id", "操作人"),
        since=_day(args.get("since")), until=_day(args.get("until"), end=True))
    pagination = audit.search(query, page=page_arg_or_first(args))
    return render_template("staff/audit.html", pagination=pagination, query=query,
                           actions=sorted(audit_labels().items()), target_types=TARGET_TYPES,
                           staff_list=services.all_staff(), args=args)


def _day(text: str | None, end: bool = False) -> datetime | None:
    """'2025-03-01' in China time → UTC bound (the end bound is the next midnight)."""
    try:
        day = datetime.strptime((text or "").strip(), "%Y-%m-%d").replace(tzinfo=CHINA)
    except ValueError:
        return None
    return (day + timedelta(days=1) if end else day).astimezone(timezone.utc)
