"""Staff console forms. Every decision carries a note (required where the service says so);
reasons for rejecting a document come from REJECT_REASONS as checkboxes."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf, DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.auth.models import StaffRole
from app.review.models import REJECT_REASONS

ROLE_CHOICES = [(r.value, r.label) for r in StaffRole]


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _note(label: str = "说明（选填）", required: str | None = None):
    validators = [DataRequired(required)] if required else [Optional()]
    return TextAreaField(label, filters=[_strip], validators=validators + [
        Length(max=500, message="不能超过 500 字")])


class ApproveForm(FlaskForm):
    reason = _note("审核意见（选填）")


class RejectForm(FlaskForm):
    reason = _note("驳回说明（选填，被驳回材料的原因会自动附上）")


class DocumentDecisionForm(FlaskForm):
    decision = HiddenField(validators=[DataRequired("请选择处理结果")])
    reasons = SelectMultipleField("驳回原因", choices=REJECT_REASONS, validate_choice=False,
                                  widget=ListWidget(prefix_label=False),
                                  option_widget=CheckboxInput())
    note = _note("补充说明")


class CheckForm(FlaskForm):
    """Verify or refuse (real names, payee): decision is "ok" or "reject"."""
    decision = HiddenField(validators=[DataRequired("请选择处理结果")])
    note = _note()


class ReasonForm(FlaskForm):
    reason = _note("原因", required="请填写原因")


class ReportActionForm(FlaskForm):
    text = _note("内容", required="请填写内容")
    outcome = _note("告知举报人（选填）")


class StaffCreateForm(FlaskForm):
    username = StringField("用户名", filters=[_strip], validators=[
        DataRequired("请填写用户名"), Length(2, 64, "用户名需要 2 到 64 个字符")])
    display_name = StringField("姓名", filters=[_strip], validators=[
        DataRequired("请填写姓名"), Length(1, 64, "姓名不能超过 64 个字")])
    role = SelectField("角色", choices=ROLE_CHOICES, validate_choice=False, validators=[
        DataRequired("请选择角色"), AnyOf([value for value, _ in ROLE_CHOICES], "请选择角色")])
    password = PasswordField("初始密码", validators=[DataRequired("请设置初始密码")])


class StaffRoleForm(FlaskForm):
    role = SelectField("角色", choices=ROLE_CHOICES, validate_choice=False, validators=[
        DataRequired("请选择角色"), AnyOf([value for value, _ in ROLE_CHOICES], "请选择角色")])
    reason = _note("原因（选填）")


class StaffPasswordForm(FlaskForm):
    password = PasswordField("新密码", validators=[DataRequired("请填写新密码")])


class EmptyForm(FlaskForm):
    reason = _note("原因（选填）")
