import pytest

from app.extensions import limiter


@pytest.fixture(autouse=True)
def _reset_rate_limits(app):
    limiter.reset()
    yield
