import pytest

from app.extensions import limiter


@pytest.fixture(autouse=True)
def _reset_rate_limits(app):
    limiter.reset()
    yield


@pytest.fixture()
def pay_api_v2(app):
    """New orders through WeChat Pay v2 (the legacy provider), for the v2-specific tests; the
    default, and every other test, is APIv3."""
    previous = app.config["WECHAT_PAY_API"]
    app.config["WECHAT_PAY_API"] = "v2"
    yield
    app.config["WECHAT_PAY_API"] = previous
