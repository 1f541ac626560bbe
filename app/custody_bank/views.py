"""Finance's bank console (/staff/finance/bank): payouts waiting for the bank, batch files to
download, the bank's result files and daily statements to upload, and what did not match. With
the stand-in bank (development and tests only) each batch can be "sent" and its result file and
the day's statement downloaded, so the loop is clickable end to end."""
from __future__ import annotations

import io

from flask import (Blueprint, abort, current_app, flash, redirect, render_template, send_file,
                   url_for)
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import FileField

from app.auth.decorators import staff_required
from app.auth.models import StaffRole
from app.campaigns.forms import ActionForm
from app.core.chinatime import china_today
from app.custody_bank import batches, standin_bank, statements
from app.custody_bank.formats import FormatError
from app.custody_bank.models import (FINDING_LABELS, BankBatch, BankFileImport, BankFinding,
                                     BankPayoutLine)
from app.extensions import db

bp = Blueprint("custody_bank", __name__, url_prefix="/staff/finance/bank")
MAX_FILE_BYTES = 5 * 1024 * 1024


class BankFileForm(FlaskForm):
    file = FileField("银行文件")


def standin_bank_on() -> bool:
    return bool(current_app.config.get("EMBEDDED") or current_app.config.get("TESTING"))


@bp.get("/")
@staff_required(StaffRole.finance)
def index():
    recent = db.session.scalars(select(BankBatch).order_by(BankBatch.id.desc()).limit(20)).all()
    imports = db.session.scalars(select(BankFileImport).order_by(BankFileImport.id.desc())
                                 .limit(10)).all()
    findings = db.session.scalars(select(BankFinding).order_by(BankFinding.id.desc())
                                  .limit(50)).all()
    return render_template(
        "custody_bank/index.html", queued=batches.queued_lines(), batches=recent,
        imports=imports, findings=findings, labels=FINDING_LABELS, form=BankFileForm(),
        action_form=ActionForm(), file_format=batches.default_format(),
        standin=standin_bank_on(), today=china_today())


@bp.post("/batches")
@staff_required(StaffRole.finance)
def build():
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        batch = batches.build_batch(current_user)
    except batches.BankFileError as error:
        flash(error.message, "error")
        return redirect(url_for(".index"))
    flash(f"已生成批次 {batch.batch_no}：{batch.line_count} 笔。请下载文件，由两位有权限的同事"
          "在银行企业网银中提交。", "success")
    return redirect(url_for(".batch", batch_id=batch.id))


@bp.get("/batches/<id:batch_id>")
@staff_required(StaffRole.finance)
def batch(batch_id: int):
    item = db.session.get(BankBatch, batch_id) or abort(404)
    lines = db.session.scalars(select(BankPayoutLine).where(BankPayoutLine.batch_id == item.id)
                               .order_by(BankPayoutLine.id)).all()
    return render_template("custody_bank/batch.html", batch=item, lines=lines,
                           action_form=ActionForm(), standin=standin_bank_on())


@bp.get("/batches/<id:batch_id>/file")
@staff_required(StaffRole.finance)
def batch_file(batch_id: int):
    item = db.session.get(BankBatch, batch_id) or abort(404)
    return _download(item.file_bytes, f"{item.batch_no}.txt")


@bp.post("/results")
@staff_required(StaffRole.finance)
def upload_result():
    return _upload(batches.import_result, "回单")


@bp.post("/statements")
@staff_required(StaffRole.finance)
def upload_statement():
    return _upload(statements.import_statement, "对账单")


def _upload(importer, what: str):
    form = BankFileForm()
    if not form.validate_on_submit():
        abort(400)
    data = form.file.data.read(MAX_FILE_BYTES + 1) if form.file.data else b""
    if not data:
        flash(f"请选择银行的{what}文件", "error")
    elif len(data) > MAX_FILE_BYTES:
        flash(f"{what}文件不能超过 5 MB", "error")
    else:
        try:
            report = importer(data, current_user)
        except batches.BankFileError as error:
            flash(error.message, "error")
        else:
            if report.repeated:
                flash(f"这份{what}已导入过，未做任何改动。", "info")
            else:
                flash(f"{what}已导入：{report.settled} 笔相符，{len(report.findings)} 项待核对。",
                      "success" if not report.findings else "error")
    return redirect(url_for(".index"))


# --- the stand-in bank (development and tests) -------------------------------------------------

@bp.post("/batches/<id:batch_id>/standin-result")
@staff_required(StaffRole.finance)
def standin_result(batch_id: int):
    if not standin_bank_on():
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    item = db.session.get(BankBatch, batch_id) or abort(404)
    name, data = item.batch_no, item.file_bytes
    try:
        result = standin_bank.process_batch(batches.default_format(), data)
    except FormatError as error:
        flash(f"模拟银行拒收：{error}", "error")
        return redirect(url_for(".batch", batch_id=batch_id))
    return _download(result, f"{name}-result.txt")


@bp.get("/standin-statement")
@staff_required(StaffRole.finance)
def standin_statement():
    if not standin_bank_on():
        abort(404)
    day = china_today()
    return _download(standin_bank.statement(batches.default_format(), day),
                     f"statement-{day:%Y%m%d}.txt")


def _download(data: bytes, name: str):
    response = send_file(io.BytesIO(data), mimetype="text/plain", as_attachment=True,
                         download_name=name)
    response.headers["Cache-Control"] = "no-store"
    return response
