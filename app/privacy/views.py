"""我的 → 个人信息: download my data, consent to optional processing, delete my account."""
from __future__ import annotations

import json

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user, logout_user

from app.auth import legal
from app.auth.decorators import organizer_required
from app.extensions import limiter
from app.privacy import deletion
from app.privacy.export import export_of

bp = Blueprint("privacy", __name__, url_prefix="/me/privacy")
CONFIRM_WORD = "注销"


def _page(status: int = 200, confirm_error: str = ""):
    user = current_user._get_current_object()
    withdrawn = legal.withdrawn_purposes(user.id)
    return render_template(
        "auth/privacy.html", purposes=[(code, title, text, code not in withdrawn)
                                       for code, (title, text) in legal.PURPOSES.items()],
        acceptances=legal.acceptances_of(user.id), blockers=deletion.blockers(user),
        kept=deletion.KEPT, erased=deletion.ERASED, confirm_word=CONFIRM_WORD,
        confirm_error=confirm_error, me_active="privacy"), status


@bp.get("/")
@organizer_required
def index():
    return _page()


@bp.get("/export.json")
@organizer_required
@limiter.limit("10/hour")
def export():
    body = json.dumps(export_of(current_user._get_current_object()), ensure_ascii=False, indent=2)
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": "attachment; filename=xiangzhu-my-data.json",
        "Cache-Control": "no-store"})


@bp.post("/consents")
@organizer_required
def consents():
    purpose = request.form.get("purpose", "")
    allowed = request.form.get("allowed") == "1"
    try:
        legal.set_consent(current_user._get_current_object(), purpose, allowed)
    except legal.ConsentError as error:
        flash(str(error), "error")
        return _page(status=422)
    title = legal.PURPOSES[purpose][0]
    flash(f"已恢复：{title}" if allowed else f"已撤回同意：{title}", "success")
    return redirect(url_for(".index", _anchor="consents"))


@bp.post("/delete")
@organizer_required
def delete():
    if (request.form.get("confirm") or "").strip() != CONFIRM_WORD:
        return _page(status=422, confirm_error=f"请输入“{CONFIRM_WORD}”两个字确认")
    try:
        deletion.delete_account(current_user._get_current_object())
    except deletion.DeletionRefused as error:
        for reason in error.reasons:
            flash(reason, "error")
        return _page(status=409)
    logout_user()
    return render_template("auth/privacy_deleted.html")
