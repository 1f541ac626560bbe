"""`flask staff create | set-password | unlock`."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.auth.commands import staff_cli
from app.auth.models import StaffAccount, StaffRole
from app.models_base import utcnow


def _run(app, *args: str, input: str | None = None):
    return app.test_cli_runner().invoke(staff_cli, list(args), input=input)


def _account(db, username: str) -> StaffAccount | None:
    db.session.expire_all()
    return db.session.scalar(select(StaffAccount).where(StaffAccount.username == username))


def test_create_with_prompted_password_then_sign_in(app, db, client):
    result = _run(app, "create", "--username", "Li.Wei", "--role", "finance", "--name", "李伟",
                  input="a long enough secret\na long enough secret\n")
    assert result.exit_code == 0, result.output
    account = _account(db, "li.wei")
    assert account.role is StaffRole.finance and account.display_name == "李伟"
    assert account.check_password("a long enough secret")
    answer = client.post("/auth/staff/login",
                         data={"username": "li.wei", "password": "a long enough secret"})
    assert answer.status_code == 302


def test_create_refuses_duplicates_short_passwords_and_bad_roles(app, db, staff):
    duplicate = _run(app, "create", "--username", staff.username, "--role", "admin",
                     "--name", "重复", "--password", "a long enough secret")
    assert duplicate.exit_code != 0 and "已存在" in duplicate.output
    short = _run(app, "create", "--username", "new", "--role", "admin", "--name", "新",
                 "--password", "short")
    assert short.exit_code != 0 and "至少" in short.output
    role = _run(app, "create", "--username", "new", "--role", "boss", "--name", "新",
                "--password", "a long enough secret")
    assert role.exit_code != 0
    assert _account(db, "new") is None


def test_set_password_and_unlock(app, db, staff):
    staff.locked_until = utcnow() + timedelta(minutes=10)
    staff.failed_logins = 3
    db.session.commit()
    assert _run(app, "unlock", "--username", staff.username).exit_code == 0
    account = _account(db, staff.username)
    assert account.locked_until is None and account.failed_logins == 0
    result = _run(app, "set-password", "--username", staff.username,
                  "--password", "another long secret")
    assert result.exit_code == 0, result.output
    assert _account(db, staff.username).check_password("another long secret")
    missing = _run(app, "unlock", "--username", "ghost")
    assert missing.exit_code != 0 and "没有用户名为 ghost" in missing.output
