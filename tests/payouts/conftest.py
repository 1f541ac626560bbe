"""Fixtures for money going out: a verified, funded campaign; finance staff; and, after every
test, `ledger verify` must find nothing wrong."""
from __future__ import annotations

import pytest

from app.auth.models import StaffRole
from app.extensions import limiter
from app.ledger.verify import verify
from app.payouts import standin_custodian
from tests.factories import StaffFactory, UserFactory
from tests.payouts.helpers import donate, verified_campaign


@pytest.fixture(autouse=True)
def _clean(app):
    limiter.reset()
    standin_custodian.clear_faults()
    yield
    standin_custodian.clear_faults()


@pytest.fixture(autouse=True)
def ledger_clean(request):
    """`ledger verify` is clean after every scenario of this package (checked before the
    database is emptied: db is set up inside this fixture, so it is torn down after it)."""
    if "db" not in request.fixturenames:
        yield
        return
    database = request.getfixturevalue("db")
    yield
    database.session.rollback()
    assert verify() == []


@pytest.fixture()
def finance(db):
    return StaffFactory(role=StaffRole.finance, display_name="财务小李")


@pytest.fixture()
def finance_client(app, finance):
    return app.test_client(user=finance)


@pytest.fixture()
def campaign(db, patient, staff, finance):
    """Live, documents approved, real names and payee (the hospital) verified; no money yet."""
    return verified_campaign(patient, staff, finance)


@pytest.fixture()
def donors(db):
    return [UserFactory(nickname=name) for name in ("张三丰", "李四", "王五")]


@pytest.fixture()
def funded(client, campaign, donors):
    """¥300 + ¥500 + ¥1,200 from three donors: ¥2,000 raised, ¥1,988 in custody once WeChat
    Pay's fees (¥12) are booked (FUNDED_NET_FEN)."""
    for donor, amount in zip(donors, (300_00, 500_00, 1_200_00)):
        donate(client, campaign, donor, amount)
    return campaign
