"""The staff index for finance (财务工作台) lists the withdrawals waiting for finance with counts,
and its messages say what is true: nothing waiting reads as nothing waiting, never only
"no payees"."""
from app.payouts import withdrawal_decisions, withdrawals
from tests.payouts.helpers import invoice


def page(client) -> str:
    response = client.get("/staff/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_an_empty_workbench_says_nothing_waits(db, finance_client):
    html = page(finance_client)
    assert "财务工作台" in html and "暂时没有等待财务处理的提现、互助金打款或收款人" in html


def test_withdrawals_waiting_for_finance_are_listed_with_counts(db, funded, patient, staff,
                                                                finance, finance_client):
    asked = withdrawals.request_withdrawal(funded.id, patient, 900_00, "住院费",
                                           invoices=[invoice()])
    html = page(finance_client)
    assert "暂时没有等待财务处理" in html and f"提现 #{asked.id}" not in html  # reviewer's turn
    withdrawal_decisions.approve_withdrawal(asked.id, staff)
    html = page(finance_client)
    assert "1 项待处理" in html and "等待财务的提现 1" in html
    assert f"提现 #{asked.id} · 筹款 #{funded.id}" in html and "¥900" in html
    assert "等待财务放款" in html or "等待财务复核（大额）" in html
    assert "没有等待财务复核或放款的提现" not in html
    withdrawal_decisions.release_withdrawal(asked.id, finance)
    assert "暂时没有等待财务处理" in page(finance_client)
