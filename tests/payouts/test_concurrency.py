"""Two requests at once, each in its own thread, app context and database session (on
PostgreSQL in CI: real row locks; on SQLite the database write lock)."""
from __future__ import annotations

import threading

from sqlalchemy import select

from app.auth.models import StaffAccount, StaffRole, User
from app.extensions import db
from app.ledger.services import balance, campaign_custody
from app.payouts import standin_custodian, withdrawal_decisions, withdrawals
from app.payouts.errors import PayoutError
from app.payouts.models import Withdrawal, WithdrawalStatus
from tests.factories import StaffFactory
from tests.payouts.helpers import FUNDED_NET_FEN, invoice, ledger_count


def _race(app, *calls) -> list[object]:
    """Run each call in its own thread at the same moment; results or raised PayoutErrors."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index: int, call) -> None:
        with app.app_context():
            try:
                barrier.wait()
                results[index] = call()
            except PayoutError as error:
                results[index] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_two_withdrawals_at_once_never_overdraw(app, funded, patient):
    files = [invoice()]
    campaign_id, patient_id = funded.id, patient.id  # objects stay in this thread's session

    def ask():
        organizer = db.session.get(User, patient_id)
        return withdrawals.request_withdrawal(campaign_id, organizer, 1_200_00, "住院费",
                                              invoices=files).id

    results = _race(app, ask, ask, ask)
    made = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if isinstance(r, PayoutError)]
    assert len(made) == 1 and len(refused) == 2
    assert all(r.code == "over_balance" for r in refused)
    db.session.expire_all()
    assert len(db.session.scalars(select(Withdrawal)).all()) == 1


def test_two_finance_sessions_releasing_at_once_pay_once(app, funded, patient, staff, finance,
                                                         run_jobs):
    withdrawal_id = withdrawals.request_withdrawal(funded.id, patient, 900_00, "住院费",
                                                   invoices=[invoice()]).id
    withdrawal_decisions.approve_withdrawal(withdrawal_id, staff)
    finance_ids = (finance.id, StaffFactory(role=StaffRole.finance).id)

    def release(finance_id):
        return lambda: withdrawal_decisions.release_withdrawal(
            withdrawal_id, db.session.get(StaffAccount, finance_id)).status

    results = _race(app, *(release(i) for i in finance_ids))
    assert sorted(type(r).__name__ for r in results) == ["PayoutError", "WithdrawalStatus"]
    run_jobs()
    db.session.expire_all()
    assert db.session.get(Withdrawal, withdrawal_id).status == WithdrawalStatus.paid
    assert standin_custodian.transfers_made() == 1 and ledger_count("withdrawal") == 1
    assert balance(campaign_custody(funded.id)) == FUNDED_NET_FEN - 900_00


def test_two_releases_that_empty_custody_exactly(app, funded, patient, staff, finance,
                                                 run_jobs):
    """Both fit, together to the fen; the custodian is silent at first and reconciliation
    settles both: custody ends at zero, never below."""
    first = withdrawals.request_withdrawal(funded.id, patient, 1_000_00, "住院费",
                                           invoices=[invoice()]).id
    # the rest: ¥2,000 raised less WeChat's fees
    second = withdrawals.request_withdrawal(funded.id, patient, FUNDED_NET_FEN - 1_000_00, "化疗费",
                                            invoices=[invoice()]).id
    finance_id = finance.id
    for withdrawal_id in (first, second):
        withdrawal_decisions.approve_withdrawal(withdrawal_id, staff)
    standin_custodian.inject("unavailable", "unavailable")  # both stay in flight

    def release(withdrawal_id):
        return lambda: withdrawal_decisions.release_withdrawal(
            withdrawal_id, db.session.get(StaffAccount, finance_id)).status

    results = _race(app, release(first), release(second))
    assert all(not isinstance(r, PayoutError) for r in results)  # ¥1,988 covers both
    run_jobs()
    assert ledger_count("withdrawal") == 0  # the custodian never answered
    standin_custodian.clear_faults()
    from datetime import timedelta

    assert withdrawals.reconcile(older_than=timedelta(0)) == {"paid": 2}
    assert balance(campaign_custody(funded.id)) == 0
