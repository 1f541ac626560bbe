"""商家转账 held against the fund-flow bill end to end: a transfer made through the APIv3 client,
confirmed (or left to close) at the stand-in, settled by its notice to our live server; the next
morning the fund-flow bill's 商家转账 lines are held against the ledger's `wechat_transfer_paid`."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select

from app.bills.download import fetch
from app.bills.models import FindingKind
from app.bills.parse import parse_fundflow_bill
from app.bills.tasks import reconcile_bills
from app.extensions import db
from app.ledger.services import campaign_custody
from app.payouts import transfers
from app.payouts.transfer_models import PersonTransfer, TransferStatus
from tests.bills.conftest import at, forget_day, pay
from tests.bills.test_reconcile import bill_day, findings
from tests.clock import days_ahead

K = FindingKind
T = TransferStatus
PURPOSE = "bills_test"
pytestmark = pytest.mark.usefixtures("live_server")


@pytest.fixture()
def send_to(app, standin, live_campaign, donor):
    """Sends `amount_fen` from the campaign's custody to the donor's WeChat and, unless told
    otherwise, has the donor confirm it; returns the transfer once its notice settled it."""
    transfers.register_transfer_purpose(app, transfers.TransferPurpose(
        PURPOSE, "账单测试", lambda transfer, succeeded: None))

    def send(ref: str, amount_fen: int, confirm: bool = True) -> PersonTransfer:
        transfer = transfers.start_transfer(PURPOSE, ref, donor.id, amount_fen,
                                            campaign_custody(live_campaign.id), "账单测试")
        db.session.commit()
        assert transfers.send(transfer.id) == "waiting_user"
        action = "confirm" if confirm else "expire"
        hook = f"{standin.base_url}standin/v3/transfer/{transfer.out_bill_no}/{action}"
        assert requests.post(hook, timeout=10).status_code == 200
        return _settled(transfer.out_bill_no, T.succeeded if confirm else T.returned)

    return send


def _settled(out_bill_no: str, status: TransferStatus, timeout: float = 10) -> PersonTransfer:
    deadline = time.monotonic() + timeout
    while True:
        db.session.expire_all()
        transfer = db.session.scalars(select(PersonTransfer).where(
            PersonTransfer.out_bill_no == out_bill_no)).one()
        if transfer.status == status or time.monotonic() > deadline:
            assert transfer.status == status
            return transfer
        time.sleep(0.05)


@pytest.fixture()
def day(standin):
    day = days_ahead(8)
    forget_day(standin, day)
    return day


def test_a_confirmed_transfer_is_its_fund_flow_line_and_the_day_balances(
        standin, live_campaign, donor, send_to, day):
    with at(day, 12):
        pay(standin, live_campaign, donor, 300_00)
        transfer = send_to("1", 75_00)
    with at(day + timedelta(days=1), 11):
        flow = parse_fundflow_bill(fetch("fundflowbill", day).raw)
        assert reconcile_bills() == "balanced"
    (line,) = [line for line in flow.lines if line.is_transfer]
    assert (line.name, line.type, line.income, line.amount_fen) == ("商家转账", "商家转账", False,
                                                                    75_00)
    assert (line.voucher, line.transaction_id) == (transfer.out_bill_no,
                                                   transfer.transfer_bill_no)
    assert line.booked_at.startswith(day.isoformat()) and flow.problems == []
    result = bill_day(day)
    assert (result.fund_lines, result.ledger_lines) == (3, 2)  # income, fee, transfer
    assert findings(day) == set()


def test_a_dropped_an_unknown_and_an_altered_transfer_line_make_three_findings(
        standin, live_campaign, donor, send_to, day, tamper):
    with at(day, 12):
        pay(standin, live_campaign, donor, 300_00)
        dropped, altered = send_to("1", 75_00), send_to("2", 40_00)
    tamper(day, drop=[dropped.out_bill_no], amount={altered.out_bill_no: 41_00},
           add=[{"out_bill_no": "XZTBNOTOURS0001", "amount_fen": 66_00}])
    with at(day + timedelta(days=1), 11):
        flow = parse_fundflow_bill(fetch("fundflowbill", day).raw)
        assert reconcile_bills() == "differences"
    assert flow.problems == []  # the summary is WeChat's own sum of what the bill says
    assert findings(day) == {
        (K.missing_in_bill, "transfer", dropped.out_bill_no, None, 75_00),
        (K.missing_in_ledger, "transfer", "XZTBNOTOURS0001", 66_00, None),
        (K.amount_differs, "transfer", altered.out_bill_no, 41_00, 40_00)}


def test_a_transfer_closed_unconfirmed_claims_nothing(standin, live_campaign, donor, send_to,
                                                     day):
    with at(day, 12):
        pay(standin, live_campaign, donor, 300_00)
        returned = send_to("1", 75_00, confirm=False)
    assert returned.fail_reason
    with at(day + timedelta(days=1), 11):
        flow = parse_fundflow_bill(fetch("fundflowbill", day).raw)
        assert reconcile_bills() == "balanced"
    assert not [line for line in flow.lines if line.is_transfer]
    assert (bill_day(day).fund_lines, bill_day(day).ledger_lines) == (2, 1)
    assert findings(day) == set()
