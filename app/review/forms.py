"""Forms of the organizer's documents page and the report form. Files are checked by content in
app/core/uploads.py; these forms only carry fields and the CSRF token."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import MultipleFileField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length, Optional

from app.review.models import DocumentKind, PayeeKind
from app.review.reports import CATEGORIES, DETAILS_MAX, DETAILS_MIN


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class DocumentUploadForm(FlaskForm):
    # The bills of a 追加目标 are uploaded with it (app/review/target_views.py), not here.
    # validate_choice=False on the choice fields: an unknown value gets AnyOf's Chinese message,
    # not WTForms' English one.
    kind = SelectField("材料类型", choices=[(k.value, k.label) for k in DocumentKind
                                        if k != DocumentKind.raise_bills],
                       validate_choice=False, validators=[
                           DataRequired("请选择材料类型"),
                           AnyOf([k.value for k in DocumentKind if k != DocumentKind.raise_bills],
                                 "请选择材料类型")])
    files = MultipleFileField("选择文件")


class IdentityForm(FlaskForm):
    patient_name = StringField("患者真实姓名", filters=[_strip], validators=[
        DataRequired("请填写患者真实姓名"), Length(2, 32, "姓名需要 2 到 32 个字")])
    patient_id = StringField("患者身份证号码", filters=[_strip], validators=[
        DataRequired("请填写患者身份证号码")])
    organizer_name = StringField("发起人真实姓名", filters=[_strip], validators=[
        Optional(), Length(2, 32, "姓名需要 2 到 32 个字")])
    organizer_id = StringField("发起人身份证号码", filters=[_strip], validators=[Optional()])


class PayeeForm(FlaskForm):
    kind = RadioField("收款人", choices=[(k.value, k.label) for k in PayeeKind],
                      default=PayeeKind.hospital.value, validate_choice=False,
                      validators=[DataRequired("请选择收款人类型"),
                                  AnyOf([k.value for k in PayeeKind], "请选择收款人类型")])
    account_name = StringField("户名", filters=[_strip], validators=[
        DataRequired("请填写户名"), Length(2, 60, "户名需要 2 到 60 个字")])
    bank_name = StringField("开户银行", filters=[_strip], validators=[
        DataRequired("请填写开户银行"), Length(2, 100, "开户银行需要 2 到 100 个字")])
    account_number = StringField("银行账号", filters=[_strip], validators=[
        DataRequired("请填写银行账号")])
    branch_code = StringField("开户行联行号（12 位，选填）", filters=[_strip])


class ReportForm(FlaskForm):
    category = RadioField("举报类型", choices=CATEGORIES, validate_choice=False,
                          validators=[DataRequired("请选择举报类型"),
                                      AnyOf([code for code, _ in CATEGORIES], "请选择举报类型")])
    details = TextAreaField("举报内容", filters=[_strip], validators=[
        DataRequired("请描述您了解到的情况"),
        Length(DETAILS_MIN, DETAILS_MAX, f"举报内容需要 {DETAILS_MIN} 到 {DETAILS_MAX} 个字")])
    evidence = MultipleFileField("证据（选填）")
