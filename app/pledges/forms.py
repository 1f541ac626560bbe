"""Forms of the pledge pages: a pledge's terms and a repayment, checked with Chinese messages;
amounts in yuan as typed (turned into fen by payouts' fen_of, without floats)."""
from __future__ import annotations

from datetime import date, timedelta

from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.core.chinatime import china_today
from app.pledges.models import Destination, Schedule


def _strip(value):
    return value.strip() if isinstance(value, str) else value


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
