"""Forms of the money-out pages: each field checked with a Chinese message; amounts in yuan as
typed, turned into fen without floats; files checked by content (app/core/uploads)."""
from __future__ import annotations

from datetime import date, timedelta

from flask_wtf import FlaskForm
from wtforms import (DateField, IntegerField, MultipleFileField, RadioField, StringField,
                     TextAreaField)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.core.chinatime import china_today
from app.models_base import yuan_to_fen
from app.payouts.pledge_models import Destination, Schedule
from app.core.uploads import CheckedFile, UploadError, check_uploads


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


def _tomorrow() -> date:
    return china_today() + timedelta(days=1)


class PledgeForm(FlaskForm):
    total = StringField("诺言金额（元）", filters=[_strip])
    schedule = RadioField("还款方式", choices=[(s.value, s.label) for s in Schedule],
                          default=Schedule.monthly.value,
                          validators=[InputRequired("请选择还款方式")])
    instalments = IntegerField("分期数", default=12, validators=[
        Optional(), NumberRange(1, 60, "分期数为 1 到 60 期")])
    first_due = DateField("首期还款日", default=_tomorrow,
                          validators=[DataRequired("请选择还款日期")])
    destination = RadioField("还给谁", choices=[(d.value, d.label) for d in Destination],
                             default=Destination.donors.value,
                             validators=[InputRequired("请选择还款去向")])
    words = TextAreaField("想对捐款人说的话", filters=[_strip], validators=[
        Length(0, 300, "最多 300 字")])


class RepayForm(FlaskForm):
    amount = StringField("还款金额（元）", filters=[_strip])
    checkout_key = StringField(validators=[DataRequired()])
