"""Forms of the sign-in pages."""
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length


class StaffLoginForm(FlaskForm):
    username = StringField("用户名", validators=[
        DataRequired("请输入用户名"), Length(max=64, message="用户名不能超过 64 个字符")])
    password = PasswordField("密码", validators=[
        DataRequired("请输入密码"), Length(max=256, message="密码不能超过 256 个字符")])


class ConfirmForm(FlaskForm):
    """A bare form: only the CSRF token, for one-button confirmations."""
