"""Staff sign in with a password: one message for every failure, lockout, rate limit."""
from __future__ import annotations

from datetime import timedelta

import pytest
from flask import url_for

from app.auth.models import StaffAccount
from app.models_base import utcnow

PASSWORD = "correct horse battery"  # the factory's default


def _login(client, username: str, password: str, next_url: str | None = None):
    query = {"next": next_url} if next_url else {}
    return client.post("/auth/staff/login", query_string=query,
                       data={"username": username, "password": password})


def _signed_in_as(client) -> str | None:
    with client.session_transaction() as session:
        return session.get("_user_id")


def test_staff_signs_in(client, app, staff):
    answer = _login(client, staff.username, PASSWORD)
    with app.test_request_context():
        assert answer.headers["Location"] == url_for("staff.index")
    assert _signed_in_as(client) == f"staff:{staff.id}"


def test_next_is_kept_on_site_only(client, app, staff):
    assert _login(client, staff.username, PASSWORD, "/staff/campaigns/3").headers[
        "Location"] == "/staff/campaigns/3"
    other = app.test_client()
    answer = _login(other, staff.username, PASSWORD, "//evil.example/x")
    with app.test_request_context():
        assert answer.headers["Location"] == url_for("staff.index")


def test_username_is_case_insensitive(client, staff):
    assert _login(client, "  " + staff.username.upper(), PASSWORD).status_code == 302


def test_unknown_user_and_wrong_password_look_the_same(client, staff):
    unknown = _login(client, "nobody", PASSWORD)
    wrong = _login(client, staff.username, "guess")
    for answer in (unknown, wrong):
        assert answer.status_code == 200
        assert "用户名或密码错误" in answer.get_data(as_text=True)
    assert _signed_in_as(client) is None


def test_inactive_account_cannot_sign_in(client, db, staff):
    staff.active = False
    db.session.commit()
    answer = _login(client, staff.username, PASSWORD)
    assert "用户名或密码错误" in answer.get_data(as_text=True)
    assert _signed_in_as(client) is None


def test_empty_form_explains(client, db):
    body = _login(client, "", "").get_data(as_text=True)
    assert "请输入用户名" in body and "请输入密码" in body


def test_repeated_failures_lock_the_account(client, app, db, staff):
    limit = app.config["STAFF_MAX_FAILED_LOGINS"]
    for _ in range(limit - 1):
        assert "用户名或密码错误" in _login(client, staff.username, "guess").get_data(as_text=True)
    locking = _login(client, staff.username, "guess").get_data(as_text=True)
    assert "账号已锁定" in locking and f"{app.config['STAFF_LOCK_MINUTES']} 分钟" in locking
    # Even the right password is refused while locked.
    refused = _login(client, staff.username, PASSWORD)
    assert "账号已锁定" in refused.get_data(as_text=True) and _signed_in_as(client) is None

    db.session.expire_all()
    account = db.session.get(StaffAccount, staff.id)
    assert account.locked_until is not None
    account.locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert _login(client, staff.username, PASSWORD).status_code == 302
    db.session.expire_all()
    assert db.session.get(StaffAccount, staff.id).locked_until is None


def test_success_resets_the_failure_count(client, db, staff):
    _login(client, staff.username, "guess")
    _login(client, staff.username, "guess")
    db.session.expire_all()
    assert db.session.get(StaffAccount, staff.id).failed_logins == 2
    _login(client, staff.username, PASSWORD)
    db.session.expire_all()
    assert db.session.get(StaffAccount, staff.id).failed_logins == 0


@pytest.fixture()
def tight_rate_limit(app):
    app.config["STAFF_LOGIN_RATE_LIMIT"] = "3 per minute"
    yield
    app.config.pop("STAFF_LOGIN_RATE_LIMIT")


def test_posts_are_rate_limited_per_ip(client, db, tight_rate_limit):
    for _ in range(3):
        assert _login(client, "nobody", "guess").status_code == 200
    limited = _login(client, "nobody", "guess")
    assert limited.status_code == 429 and "操作太频繁" in limited.get_data(as_text=True)
    assert client.get("/auth/staff/login").status_code == 200


def test_staff_page_renders(client, db):
    body = client.get("/auth/staff/login").get_data(as_text=True)
    assert "员工登录" in body and 'name="password"' in body
