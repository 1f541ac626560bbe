"""Reconciling against the stand-in's bills end to end: orders paid at the stand-in, notices
to our live server, the ledger; the next morning the bills are downloaded through the APIv3
client (signed requests, SHA1-checked gzip files) and held against the ledger."""
from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from sqlalchemy import func, select

from app.bills.models import BillDay, BillDayStatus, BillFinding, FindingKind
from app.bills.tasks import reconcile_bills
from app.extensions import db
from app.ledger.services import CHANNEL_FEES, Leg, post
from app.payouts.accounts import REFUND_CLEARING
from tests.bills.conftest import at, forget_day, pay, untamper
from tests.clock import days_ahead
from tests.payments.helpers import fee_of, start

K = FindingKind
pytestmark = pytest.mark.usefixtures("live_server")


def findings(day) -> set[tuple]:
    db.session.expire_all()
    rows = db.session.scalars(select(BillFinding).join(BillFinding.day)
                              .where(BillDay.bill_date == day,
                                     BillFinding.cleared_at.is_(None))).all()
    return {(row.kind, row.line_kind, row.ref, row.bill_fen, row.ledger_fen) for row in rows}


def bill_day(day) -> BillDay:
    db.session.expire_all()
    return db.session.scalars(select(BillDay).where(BillDay.bill_date == day)).one()


@pytest.fixture()
def paid_day(standin, live_campaign, donor):
    """Three donations paid on a day of this test's own, at noon China time."""
    day = days_ahead(2)
    forget_day(standin, day)
    with at(day, 12):
        payments = [pay(standin, live_campaign, donor, amount)
                    for amount in (300_00, 50_00, 12_34)]
    return day, payments


def test_bills_that_agree_with_the_ledger_balance(paid_day):
    day, payments = paid_day
    with at(day + timedelta(days=1), 11):
        assert reconcile_bills() == "balanced"
        assert reconcile_bills() == "done"  # the hourly job does a day once
    result = bill_day(day)
    assert (result.trade_lines, result.ledger_lines, result.runs) == (3, 3, 1)
    assert result.fund_lines == 6  # each payment's income and its fee
    assert len(result.trade_sha1) == 40 and findings(day) == set()


def test_a_missing_an_extra_and_a_wrong_fee_line_make_three_findings(app, standin, paid_day,
                                                                   tamper):
    day, (dropped, kept, refeed) = paid_day
    fee = fee_of(12_34)
    tamper(day, drop=[dropped.out_trade_no], fee={refeed.out_trade_no: fee + 1},
           add=[{"out_trade_no": "XZNOTOURS0001", "amount_fen": 88_00, "fee_fen": 53}])
    expected = {(K.missing_in_bill, "payment", dropped.out_trade_no, None, 300_00),
                (K.missing_in_ledger, "payment", "XZNOTOURS0001", 88_00, None),
                (K.fee_differs, "payment", refeed.out_trade_no, fee + 1, fee)}
    with at(day + timedelta(days=1), 11):
        assert reconcile_bills() == "differences"
        assert findings(day) == expected
        first = {row.id: row.found_at for row in bill_day(day).findings}

        # Run again: the same three findings, updated in place, not doubled.
        assert reconcile_bills(day.isoformat()) == "differences"
        assert findings(day) == expected
        assert {row.id: row.found_at for row in bill_day(day).findings} == first
        assert bill_day(day).runs == 2

        cli = app.test_cli_runner()
        failed = cli.invoke(args=["ledger", "verify", "--against-bills", "--date",
                                  day.isoformat()])
        assert failed.exit_code == 1
        assert dropped.out_trade_no in failed.output and "XZNOTOURS0001" in failed.output
        assert "手续费不符" in failed.output

        # WeChat's bill corrected: the findings are cleared, never deleted.
        untamper(standin, day)
        assert reconcile_bills(day.isoformat()) == "balanced"
        assert findings(day) == set()
        assert db.session.scalar(select(func.count()).select_from(BillFinding)) == 3
        passed = cli.invoke(args=["ledger", "verify", "--against-bills", "--date",
                                  day.isoformat()])
        assert passed.exit_code == 0, passed.output


def test_a_bill_whose_hash_does_not_match_is_a_finding_not_a_crash(paid_day, tamper):
    day, payments = paid_day
    tamper(day, hash="wrong", drop=[payments[0].out_trade_no])
    with at(day + timedelta(days=1), 11):
        assert reconcile_bills() == "differences"
    # Nothing in a file that failed its check is believed, so no payment is "missing" from it.
    assert findings(day) == {(K.bad_hash, "", "tradebill", None, None)}


def test_too_early_or_a_day_without_bills(db, standin):
    day = days_ahead(5)
    forget_day(standin, day)
    with at(day + timedelta(days=1), 8):
        assert reconcile_bills() == "not_ready"
    with at(day + timedelta(days=1), 10, 30):
        assert reconcile_bills() == "balanced"  # NO_STATEMENT_EXIST: nothing went through
    assert (bill_day(day).trade_lines, bill_day(day).ledger_lines) == (0, 0)
    later = day + timedelta(days=2)
    with at(later, 15):  # today's bill is not made yet: not a finding, just not available
        assert reconcile_bills(later.isoformat()) == "unavailable"
    assert "STATEMENT_CREATING" in bill_day(later).note
    assert db.session.scalar(select(func.count()).select_from(BillFinding)) == 0


def test_a_payment_posted_after_midnight_belongs_to_the_bill_of_its_payment(standin,
                                                                       live_campaign, donor):
    day = days_ahead(3)
    forget_day(standin, day)
    forget_day(standin, day + timedelta(days=1))
    with at(day, 23, 59, 50):
        payment = start(live_campaign, donor, 20_00)
        requests.post(f"{standin.base_url}standin/pay/{payment.out_trade_no}/pay", timeout=5)
    with at(day + timedelta(days=1), 0, 5):  # the notice arrives after midnight
        answer = requests.post(f"{standin.base_url}standin/pay/{payment.out_trade_no}/notify",
                               timeout=10).json()
        assert answer["acknowledged"] == [True]
    with at(day + timedelta(days=2), 11):
        assert reconcile_bills((day + timedelta(days=1)).isoformat()) == "balanced"
        assert reconcile_bills(day.isoformat()) == "balanced"


def test_refunds_are_held_against_the_ledger_by_out_refund_no(standin, paid_day):
    """A refund line of the bill needs its refund transaction (custody → refund clearing) and
    the fee WeChat returned with it (channel fees → custody), as payouts posts them."""
    from app.wechat.pay_v3_client import pay_v3_client

    day, (payment, *_) = paid_day
    with at(day, 15):
        client = pay_v3_client()
        status, _ = client.refund(out_refund_no="XZRF0000000077", amount={
            "refund": 100_00, "total": 300_00, "currency": "CNY"},
            out_trade_no=payment.out_trade_no)
        assert status == 200
        custody = f"campaign:{payment.payable_id}:custody"
        post("refund", "XZRF0000000077", [Leg(custody, -100_00), Leg(REFUND_CLEARING, 100_00)])
        # We book a fee return of 0.59 where WeChat returned 0.60 (1.80 × 100 / 300).
        post("channel_fee_return", "XZRF0000000077", [Leg(CHANNEL_FEES, -59), Leg(custody, 59)])
        db.session.commit()
    with at(day + timedelta(days=1), 11):
        assert reconcile_bills() == "differences"
    assert findings(day) == {(K.fee_differs, "refund", "XZRF0000000077", 60, 59)}
    assert bill_day(day).trade_lines == 4
