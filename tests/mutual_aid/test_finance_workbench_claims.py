"""The finance workbench (staff index) lists the claim payouts waiting for finance."""
from app.mutual_aid import claim_payouts
from tests.mutual_aid.test_claim_payouts import (  # noqa: F401 (fixtures)
    _no_faults, awarded, finance, name_bank)


def test_a_claim_payout_waiting_for_finance_is_listed(app, awarded, finance):  # noqa: F811
    client = app.test_client(user=finance)
    html = client.get("/staff/").get_data(as_text=True)
    assert f"互助病例 #{awarded.id}" not in html      # the claimant has not named a bank yet
    name_bank(app, awarded, account_name="华西医院", kind="hospital")
    html = client.get("/staff/").get_data(as_text=True)
    assert claim_payouts.waiting_for(awarded) == "verify"
    assert "等待财务的互助金打款 1" in html and f"互助病例 #{awarded.id}" in html
    assert "等待财务核实收款账户" in html
