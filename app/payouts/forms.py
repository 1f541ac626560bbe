"""Forms of the money-out pages: each field checked with a Chinese message; amounts in yuan as
typed, turned into fen without floats; files checked by content (app/core/uploads)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import MultipleFileField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from app.core.uploads import CheckedFile, UploadError, check_uploads
from app.models_base import yuan_to_fen


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def fen_of(field, required: bool = True) -> int | None:
    """The field's yuan amount in fen; None (or a field error) when it is not one."""
    text = (field.data or "").strip()
    if not text:
        if required:
            field.errors.append("请填写金额")
        return None
    try:
        return yuan_to_fen(text)
    except ValueError:
        field.errors.append("请填写正确的金额，例如 5000 或 5000.50")
        return None


def uploaded(field) -> list:
    return [s for s in (field.data or []) if s is not None and getattr(s, "filename", "")]


def checked_files(field) -> list[CheckedFile] | None:
    """The field's files checked by content; [] when none; None (and a field error) if bad."""
    files = uploaded(field)
    if not files:
        return []
    try:
        return check_uploads(files)
    except UploadError as error:
        field.errors.append(str(error))
        return None


class WithdrawalForm(FlaskForm):
    amount = StringField("提现金额（元）", filters=[_strip])
    purpose = TextAreaField("用途", filters=[_strip], validators=[
        DataRequired("请填写用途"), Length(2, 200, "用途需要 2 到 200 个字")])
    invoice_total = StringField("票据金额合计（元）", filters=[_strip])
    invoices = MultipleFileField("票据 / 缴费通知 / 费用清单")


class ReasonForm(FlaskForm):
    reason = TextAreaField("原因", filters=[_strip], validators=[Length(0, 500, "最多 500 字")])


class ReceiptForm(FlaskForm):
    receipts = MultipleFileField("收据照片")


class StatementForm(FlaskForm):
    body = TextAreaField("剩余善款说明", filters=[_strip], validators=[
        DataRequired("请填写说明"), Length(10, 500, "说明需要 10 到 500 个字")])
