"""Fixtures of pledges: those of money going out (a verified, funded campaign, finance staff,
the stand-in custodian's faults cleared, `ledger verify` clean after every test), shared with
tests/payouts since a pledge needs a campaign that raised money and payouts to pass it on."""
from tests.payouts.conftest import (  # noqa: F401
    _clean,
    campaign,
    donors,
    finance,
    finance_client,
    funded,
    ledger_clean,
)


import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _shares_by_custodian(app):
    """These scenarios pass shares on through the custodian's bank transfer; the 商家转账 path
    (the donor confirms in 我的 · 领取) is tests/payouts/test_wechat_transfer.py's."""
    app.config["WECHAT_TRANSFERS"] = False
    yield
    app.config["WECHAT_TRANSFERS"] = True
