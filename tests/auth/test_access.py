"""staff_required, flask-login's redirect for anonymous visitors, logout, next sanitizing."""
from __future__ import annotations

import pytest
from flask_login import login_user
from werkzeug.exceptions import Forbidden, Unauthorized

from app.auth.decorators import staff_required
from app.auth.models import StaffRole
from app.auth.redirects import safe_next
from app.extensions import login_manager
from tests.factories import StaffFactory


def _view():
    return "ok"


def test_anonymous_goes_to_staff_login(app, db):
    with app.test_request_context("/staff/campaigns/1?tab=docs"):
        answer = staff_required()(_view)()
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/auth/staff/login?next=/staff/campaigns/1?tab%3Ddocs"


def test_anonymous_json_client_gets_401(app, db):
    with app.test_request_context("/api/v1/staff/thing"), pytest.raises(Unauthorized):
        staff_required()(_view)()


def test_signed_in_user_who_is_not_staff_gets_403(app, patient):
    with app.test_request_context("/staff/"):
        login_user(patient)
        with pytest.raises(Forbidden):
            staff_required()(_view)()


def test_roles_are_enforced_and_admin_passes(app, db):
    finance = StaffFactory(role=StaffRole.finance)
    reviewer = StaffFactory(role=StaffRole.reviewer)
    admin = StaffFactory(role=StaffRole.admin)
    guarded = staff_required(StaffRole.finance)(_view)
    for person, allowed in ((finance, True), (reviewer, False), (admin, True)):
        with app.test_request_context("/staff/payouts"):
            login_user(person)
            if allowed:
                assert guarded() == "ok"
            else:
                with pytest.raises(Forbidden):
                    guarded()
    with app.test_request_context("/staff/"):
        login_user(reviewer)
        assert staff_required()(_view)() == "ok"
        assert staff_required("reviewer")(_view)() == "ok"


def test_login_required_pages_send_people_to_wechat_login(app, db):
    with app.test_request_context("/campaigns/new?x=1"):
        answer = login_manager.unauthorized()
    assert answer.headers["Location"] == "/auth/login?next=/campaigns/new?x%3D1"
    with app.test_request_context("/api/v1/me"), pytest.raises(Unauthorized):
        login_manager.unauthorized()


def test_logout_needs_post_and_signs_out(patient_client):
    assert patient_client.get("/auth/logout").status_code == 405
    answer = patient_client.post("/auth/logout")
    assert answer.status_code == 302 and answer.headers["Location"] == "/"
    with patient_client.session_transaction() as session:
        assert "_user_id" not in session


def test_logout_from_a_real_session(client, staff):
    client.post("/auth/staff/login", data={"username": staff.username,
                                           "password": "correct horse battery"})
    client.post("/auth/logout")
    with client.session_transaction() as session:
        assert "_user_id" not in session


@pytest.mark.parametrize("value, expected", [
    ("/campaigns/5?from=abc", "/campaigns/5?from=abc"),
    ("http://localhost/campaigns/5", "/campaigns/5"),
    ("https://evil.example/x", "/"),
    ("//evil.example/x", "/"),
    ("/\\evil.example", "/"),
    ("\\\\evil.example", "/"),
    ("javascript:alert(1)", "/"),
    ("campaigns/5", "/"),
    ("/ok\r\nSet-Cookie: x=1", "/"),
    ("", "/"),
    (None, "/"),
])
def test_safe_next(app, value, expected):
    with app.test_request_context("/auth/login"):
        assert safe_next(value, "/") == expected


def test_logout_forgets_a_wechat_user_for_good(client, wechat_sign_in):
    wechat_sign_in(client, nickname="要退出的人")
    assert client.get_cookie("remember_token") is not None
    client.post("/auth/logout")
    assert client.get_cookie("remember_token") is None
    # Still signed out on the next visit: a signed-in user would be sent straight to `next`.
    assert client.get("/auth/login?next=/x").status_code == 200
