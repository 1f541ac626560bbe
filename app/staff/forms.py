"""Review decisions; every decision carries a reason field (required to reject)."""
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length, Optional


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class ApproveForm(FlaskForm):
    reason = TextAreaField("审核意见（选填）", filters=[_strip], validators=[
        Optional(), Length(max=500, message="审核意见不能超过 500 字")])


class RejectForm(FlaskForm):
    reason = TextAreaField("驳回原因", filters=[_strip], validators=[
        DataRequired("请填写驳回原因，发起人会看到它"),
        Length(max=500, message="驳回原因不能超过 500 字")])
