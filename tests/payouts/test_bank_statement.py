"""The custody account's daily statement against what the bank's result files said it paid: a
debit with no payout, a payout with no debit and a debit of another amount are findings."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.config import ProductionConfig
from app.core.chinatime import china_today
from app.custody_bank import batches, standin_bank, statements
from app.custody_bank.models import BankFinding
from app.extensions import db
from app.ledger.verify import verify
from tests.payouts.bank_helpers import bank_result, released, rewrite


@pytest.fixture(autouse=True)
def bank(app, monkeypatch):
    monkeypatch.setitem(app.config, "PAYOUT_PROVIDER", "bank_batch")


@pytest.fixture()
def paid_today(funded, patient, staff, finance, run_jobs):
    """Three withdrawals through one batch; the bank paid two and rejected one."""
    refs = released(funded, patient, staff, finance, 300_00, 400_00, 500_00)
    batch = batches.build_batch(finance)
    batches.import_result(bank_result(batch, reject={refs[1]}), finance)
    run_jobs()
    return refs


def _statement() -> bytes:
    return standin_bank.statement(batches.default_format(), china_today())


def test_the_banks_statement_matches(paid_today, finance):
    report = statements.import_statement(_statement(), finance)
    assert report.settled == 2 and report.findings == []
    assert statements.import_statement(_statement(), finance).repeated


def test_a_missing_an_extra_and_a_wrong_debit_are_three_findings(paid_today, finance):
    def tamper(rows):
        rows.pop(0)                                            # a payout with no debit
        rows[0]["amount"] = "499.00"                           # another amount
        rows.append(dict(rows[0], serial="BK1", amount="88.00", memo="代付 手续费"))  # no payout

    report = statements.import_statement(rewrite(_statement(), tamper, "statement"), finance)
    kinds = sorted(db.session.scalars(select(BankFinding.kind)))
    assert kinds == ["extra", "missing", "statement_amount"] and report.settled == 0
    assert {f.ref for f in report.findings if f.kind != "extra"} == {paid_today[0], paid_today[2]}


def test_a_rejected_payout_on_the_statement_is_a_finding(paid_today, finance):
    rejected = paid_today[1]
    statement = rewrite(_statement(), lambda rows: rows.append(
        dict(rows[0], serial="BK2", amount="400.00", memo=f"代付 {rejected}")), "statement")
    statements.import_statement(statement, finance)
    assert [(f.kind, f.ref) for f in db.session.scalars(select(BankFinding))] == [
        ("extra", rejected)]


def test_verify_catches_a_payout_the_bank_rejected_but_we_paid(paid_today):
    from app.custody_bank.models import BankPayoutLine, LineState

    line = db.session.scalar(select(BankPayoutLine).where(BankPayoutLine.ref == paid_today[0]))
    line.state = LineState.failed
    db.session.commit()
    assert any("bank says failed" in problem for problem in verify())
    line.state = LineState.succeeded
    db.session.commit()


def test_production_refuses_the_standin_custodian(monkeypatch):
    from app import create_app

    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", "set")
    monkeypatch.setattr(ProductionConfig, "DATA_ENCRYPTION_KEY",
                        "kQ7Nq1i3f5p0bOrG4t7lR8cX2y9eW6uA1sD3fG5hJ7k=")
    monkeypatch.setattr(ProductionConfig, "BLIND_INDEX_KEY", "b" * 40)
    monkeypatch.setattr(ProductionConfig, "PAYOUT_PROVIDER", "standin")
    with pytest.raises(RuntimeError, match="PAYOUT_PROVIDER=standin"):
        create_app(ProductionConfig)
