"""Forms of the pledge pages: a pledge's terms and a repayment, checked with Chinese messages;
amounts in yuan as typed (turned into fen by payouts' fen_of, without floats)."""
from __future__ import annotations

from datetime import date, timedelta

from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, RadioField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import TextInput

from app.core.chinatime import china_today
from app.pledges.models import Destination, Schedule


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _tomorrow() -> date:
    return china_today() + timedelta(days=1)


class WholeNumberField(IntegerField):
    """An integer typed as text (no browser spinner or bubble): a Chinese message when it is
    not a whole number, instead of WTForms' English one."""

    widget = TextInput()

    def __init__(self, *args, invalid_message: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.invalid_message = invalid_message

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "").strip()
        if not text:
            self.data = None
        elif text.isascii() and text.isdigit() and len(text) < 10:
            self.data = int(text)
        else:
            self.data = None
            raise ValueError(self.invalid_message)


class PledgeForm(FlaskForm):
    total = StringField("诺言金额（元）", filters=[_strip])
    # validate_choice=False: an unknown value gets AnyOf's Chinese message, not WTForms' English.
    schedule = RadioField("还款方式", choices=[(s.value, s.label) for s in Schedule],
                          default=Schedule.monthly.value, validate_choice=False,
                          validators=[InputRequired("请选择还款方式"),
                                      AnyOf([s.value for s in Schedule], "请选择还款方式")])
    instalments = WholeNumberField("分期数", default=12, invalid_message="分期数请填写 1 到 60 的整数",
                                   validators=[Optional(), NumberRange(1, 60, "分期数为 1 到 60 期")])
    first_due = DateField("首期还款日", default=_tomorrow,
                          validators=[DataRequired("请选择还款日期")])
    destination = RadioField("还给谁", choices=[(d.value, d.label) for d in Destination],
                             default=Destination.donors.value, validate_choice=False,
                             validators=[InputRequired("请选择还款去向"),
                                         AnyOf([d.value for d in Destination], "请选择还款去向")])
    words = TextAreaField("想对捐款人说的话", filters=[_strip], validators=[
        Length(0, 300, "最多 300 字")])


class RepayForm(FlaskForm):
    amount = StringField("还款金额（元）", filters=[_strip])
    checkout_key = StringField(validators=[DataRequired("页面已过期，请刷新后重试")])
