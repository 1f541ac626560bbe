"""The finance page of the reconciliation: finance only, Chinese, a day's findings."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.bills.models import BillDayStatus
from app.bills.tasks import reconcile_bills
from tests.bills.conftest import at, forget_day, pay
from tests.clock import days_ahead

pytestmark = pytest.mark.usefixtures("live_server")


def test_anonymous_visitors_go_to_sign_in_and_other_staff_are_refused(app, db, staff_client):
    anonymous = app.test_client().get("/staff/finance/bills/")
    assert anonymous.status_code == 302 and "/staff/login" in anonymous.headers["Location"]
    assert staff_client.get("/staff/finance/bills/").status_code == 403  # a reviewer
    assert staff_client.post("/staff/finance/bills/check",
                             data={"bill_date": days_ahead(-1).isoformat()}).status_code == 403


def test_finance_sees_the_days_and_a_days_findings(standin, finance_client, live_campaign,
                                                   donor, tamper, run_jobs):
    day = days_ahead(4)
    forget_day(standin, day)
    with at(day, 9):
        payment = pay(standin, live_campaign, donor, 66_60)
    tamper(day, fee={payment.out_trade_no: 41})
    with at(day + timedelta(days=1), 10, 5):
        assert reconcile_bills() == BillDayStatus.differences.value
        listing = finance_client.get("/staff/finance/bills/")
        html = listing.get_data(as_text=True)
        assert listing.status_code == 200
        assert day.isoformat() in html and "有差异" in html and "待查差异 1 条" in html
        page = finance_client.get(f"/staff/finance/bills/{day.isoformat()}")
        text = page.get_data(as_text=True)
        assert page.status_code == 200
        assert "手续费不符" in text and payment.out_trade_no in text
        assert "¥0.41" in text and "¥0.40" in text  # the bill's fee, and the one we booked

        again = finance_client.post("/staff/finance/bills/check",
                                    data={"bill_date": day.isoformat()})
        assert again.status_code == 302 and again.headers["Location"].endswith(day.isoformat())
        run_jobs()  # the check is a job (inline without Redis)
        assert "已核对 2 次" in finance_client.get(again.headers["Location"]).get_data(
            as_text=True)


@pytest.mark.parametrize("value, message", [("昨天", "格式"), ("", "格式"),
                                            ("today", "格式")])
def test_a_bad_date_is_answered_in_chinese(finance_client, value, message):
    response = finance_client.post("/staff/finance/bills/check", data={"bill_date": value},
                                   follow_redirects=True)
    assert response.status_code == 200 and message in response.get_data(as_text=True)


def test_only_past_days_within_three_months(finance_client):
    for day, message in ((days_ahead(0), "今天以前"), (days_ahead(-120), "三个月")):
        response = finance_client.post("/staff/finance/bills/check",
                                       data={"bill_date": day.isoformat()},
                                       follow_redirects=True)
        assert message in response.get_data(as_text=True)


def test_an_unknown_day_is_404(finance_client):
    assert finance_client.get("/staff/finance/bills/2000-13-40").status_code == 404
    assert finance_client.get(f"/staff/finance/bills/{days_ahead(-3)}").status_code == 404
