"""The pledge pages: the pledge form (refused before the end and above what was raised), the
public page, the repay button and a donor passing their part on."""
from __future__ import annotations

from app.campaigns.services import end_campaign
from app.pledges import services as pledges
from tests.clock import days_ahead


def test_the_pledge_form_page_and_repay_button(app, client, funded, patient, staff, donors):
    owner = app.test_client(user=patient)
    assert "筹款结束后才能许下诺言" in owner.get(f"/c/{funded.id}/pledge").get_data(as_text=True)
    first_due = days_ahead(40)
    end_campaign(funded, "筹款期限已到", by_staff=staff)
    too_much = owner.post(f"/c/{funded.id}/pledge", data={
        "total": "3000", "schedule": "monthly", "instalments": "6",
        "first_due": first_due.isoformat(), "destination": "donors", "words": ""})
    assert too_much.status_code == 422
    assert "诺言金额不能超过已筹金额 ¥2,000" in too_much.get_data(as_text=True)
    made = owner.post(f"/c/{funded.id}/pledge", data={
        "total": "1200", "schedule": "monthly", "instalments": "6",
        "first_due": first_due.isoformat(), "destination": "donors", "words": "我会努力"},
        follow_redirects=True)
    text = made.get_data(as_text=True)
    assert "承诺回馈 <strong>¥1,200</strong>" in text and "第 6 期" in text
    pledge = pledges.pledge_of(funded.id)
    checkout = owner.post(f"/pledges/{pledge.id}/repay",
                          data={"amount": "", "checkout_key": "k" * 20})
    assert checkout.status_code == 302 and "/pay/XZ" in checkout.headers["Location"]
    donor = app.test_client(user=donors[0])
    page = donor.get(f"/pledges/{pledge.id}").get_data(as_text=True)
    assert "您曾为这笔筹款捐款 ¥300" in page
    donor.post(f"/pledges/{pledge.id}/pass-on", data={"pass_on": "1"})
    assert pledges.passes_on(pledge.id, donors[0].id)
    assert pledge.instalments[0].due_on == first_due
