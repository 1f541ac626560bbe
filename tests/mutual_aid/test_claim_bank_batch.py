"""A mutual-aid claim paid through the custodian bank's batch file: released by finance, queued
at the bank, in the batch file, settled by the bank's result line — paid once, or rejected with
its money still payable to the claimant. `ledger verify` is clean at every step."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.auth.models import StaffRole
from app.core.chinatime import china_today
from app.custody_bank import batches, standin_bank, statements
from app.ledger.services import balance
from app.ledger.verify import verify
from app.mutual_aid import claim_payees, claim_payouts
from app.mutual_aid.accounts import PAYOUT_CLEARING
from app.mutual_aid.models import ClaimStatus
from app.mutual_aid.payout_models import ClaimPayout, PayoutState
from tests.factories import StaffFactory
from tests.mutual_aid.test_claim_payouts import _state, award, name_bank


@pytest.fixture(autouse=True)
def bank(app, monkeypatch):
    monkeypatch.setitem(app.config, "PAYOUT_PROVIDER", "bank_batch")


@pytest.fixture()
def finance(db):
    return StaffFactory(role=StaffRole.finance)


@pytest.fixture()
def released_claim(app, plan, staff, finance, run_jobs, client):
    claim = award(app, plan, staff, run_jobs, client)
    name_bank(app, claim)
    claim_payees.verify_payee(claim.id, finance, True, "户名与会员实名一致")
    claim_payouts.release(claim.id, finance)
    run_jobs()
    return claim


def _result(batch, **options) -> bytes:
    return standin_bank.process_batch(batches.default_format(), batch.file_bytes, **options)


def test_a_claim_paid_through_the_batch(app, released_claim, finance, run_jobs, db):
    payout = db.session.scalars(select(ClaimPayout)).one()
    amount = payout.amount_fen
    assert amount > 0 and payout.status == PayoutState.released and _state(released_claim.id)[0] != \
        ClaimStatus.paid
    assert verify() == []
    batch = batches.build_batch(finance)
    assert payout.transfer_id in batch.file_bytes.decode("utf-8")
    report = batches.import_result(_result(batch), finance)
    run_jobs()
    assert report.settled == 1 and _state(released_claim.id) == (ClaimStatus.paid, 0)
    assert balance(PAYOUT_CLEARING) == amount and verify() == []
    assert batches.import_result(_result(batch), finance).repeated
    run_jobs()
    assert balance(PAYOUT_CLEARING) == amount and verify() == []
    day = statements.import_statement(
        standin_bank.statement(batches.default_format(), china_today()), finance)
    assert day.settled == 1 and day.findings == []


def test_a_rejected_line_leaves_the_money_payable(app, released_claim, finance, run_jobs, db):
    payout = db.session.scalars(select(ClaimPayout)).one()
    amount = payout.amount_fen
    batch = batches.build_batch(finance)
    batches.import_result(_result(batch, reject={payout.transfer_id}), finance)
    run_jobs()
    db.session.expire_all()
    assert db.session.get(ClaimPayout, payout.id).status == PayoutState.failed
    status, payable = _state(released_claim.id)
    assert status == ClaimStatus.awarded and payable == amount
    assert balance(PAYOUT_CLEARING) == 0 and verify() == []


def test_two_finance_people_releasing_at_once_pay_once(app, plan, staff, finance, run_jobs,
                                                       client, db):
    import threading

    from app.auth.models import StaffAccount
    from app.mutual_aid.services import MutualAidError

    claim = award(app, plan, staff, run_jobs, client)
    name_bank(app, claim)
    claim_payees.verify_payee(claim.id, finance, True, "户名与会员实名一致")
    people = [finance.id, StaffFactory(role=StaffRole.finance).id]
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def release(staff_id: int) -> None:
        with app.app_context():
            try:
                barrier.wait()
                claim_payouts.release(claim.id, db.session.get(StaffAccount, staff_id))
                outcomes.append("released")
            except MutualAidError as refused:
                outcomes.append(refused.code)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=release, args=(person,)) for person in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    run_jobs()
    db.session.expire_all()
    assert outcomes.count("released") == 1, outcomes
    payouts = db.session.scalars(select(ClaimPayout)).all()
    assert len(payouts) == 1 and payouts[0].status == PayoutState.released
    batch = batches.build_batch(finance)
    assert batch.line_count == 1
    batches.import_result(_result(batch), finance)
    run_jobs()
    assert _state(claim.id) == (ClaimStatus.paid, 0) and verify() == []
