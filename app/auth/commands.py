"""`flask --app wsgi staff ...`: create staff accounts, reset passwords, unlock."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from app.auth import services
from app.auth.models import StaffRole

staff_cli = AppGroup("staff", help="员工账号：创建、重设密码、解锁。")

_password_option = click.option(
    "--password", prompt="密码", hide_input=True, confirmation_prompt="再输入一次",
    help=f"至少 {services.MIN_PASSWORD_LENGTH} 位；省略时提示输入。")


@staff_cli.command("create")
@click.option("--username", required=True, help="登录用户名")
@click.option("--role", required=True, type=click.Choice([r.value for r in StaffRole]))
@click.option("--name", "display_name", required=True, help="显示的姓名")
@_password_option
def create(username: str, role: str, display_name: str, password: str) -> None:
    """创建员工账号。"""
    try:
        staff = services.create_staff(username, display_name, role, password)
    except services.StaffAccountError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"已创建员工账号 {staff.username}（{staff.role.label}）")


@staff_cli.command("set-password")
@click.option("--username", required=True)
@_password_option
def set_password(username: str, password: str) -> None:
    """重设员工密码（同时解除锁定）。"""
    try:
        staff = services.set_staff_password(username, password)
    except services.StaffAccountError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"已重设 {staff.username} 的密码")


@staff_cli.command("unlock")
@click.option("--username", required=True)
def unlock(username: str) -> None:
    """解除因密码错误次数过多造成的锁定。"""
    try:
        staff = services.unlock_staff(username)
    except services.StaffAccountError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"已解锁 {staff.username}")
