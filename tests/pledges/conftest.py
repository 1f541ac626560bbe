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
