from __future__ import annotations

from contextlib import contextmanager

import pytest

from tests.auth.wechat_browser import WECHAT_UA, approve_to_callback, path_of


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
