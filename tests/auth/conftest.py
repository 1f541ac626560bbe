from __future__ import annotations

from contextlib import contextmanager

import pytest
from flask import g, request_tearing_down

from app.extensions import limiter
from tests.auth.wechat_browser import WECHAT_UA, approve_to_callback, path_of


@pytest.fixture(autouse=True)
def _fresh_rate_limits(app):
    with app.app_context():
        limiter.reset()
    yield


@pytest.fixture(autouse=True)
def _forget_user_between_requests(app):
    """The db fixture holds an app context for the whole test, which Flask reuses for every
    test-client request, so flask-login's cached g._login_user would leak from one client to
    the next. Forget it after each request, as a real server's fresh context would."""

    def forget(sender, **extra) -> None:
        g.pop("_login_user", None)

    request_tearing_down.connect(forget, app)
    yield
    request_tearing_down.disconnect(forget, app)


@contextmanager
def standin_clock_ahead(state, seconds: float):
    original = state.clock
    state.clock = lambda: original() + seconds
    try:
        yield
    finally:
        state.clock = original


@pytest.fixture()
def wechat_sign_in():
    """Sign a test client in through the stand-in, as WeChat's browser would."""

    def sign_in(client, *, next_url: str = "/", **choice):
        started = client.get("/auth/login", query_string={"next": next_url},
                             headers={"User-Agent": WECHAT_UA})
        assert started.status_code == 302
        callback = approve_to_callback(started.headers["Location"], **choice)
        return client.get(path_of(callback), headers={"User-Agent": WECHAT_UA})

    return sign_in
