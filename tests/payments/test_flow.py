"""The whole donation against the stand-in: donate → unifiedorder → cashier → notice over HTTP
to our live server → paid → ledger → campaign page, donations list and ledger page show it."""
import re
import time

import pytest
import requests
from sqlalchemy import select

from app.campaigns.models import Campaign
from app.extensions import db
from app.ledger.verify import verify
from app.payments.models import Payment, PaymentState
from app.payments.wechat_pay import signature_ok
from tests.payments.helpers import CREDS, DESKTOP_UA, WECHAT_UA, fresh

# WeChat Pay v2 (the legacy provider), explicitly: the default is APIv3.
pytestmark = pytest.mark.usefixtures("pay_api_v2")


def wait_until_paid(payment_id: int, timeout: float = 10) -> Payment:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        payment = fresh(Payment, payment_id)
        if payment.state == PaymentState.paid:
            return payment
        db.session.rollback()
        time.sleep(0.05)
    raise AssertionError("the notice never recorded the payment")


def donate(client, campaign, ua=DESKTOP_UA, **form):
    page = client.get(f"/c/{campaign.id}/donate", headers={"User-Agent": ua})
    key = re.search(r'name="checkout_key" value="([^"]+)"', page.get_data(as_text=True))[1]
    data = {"checkout_key": key, "preset": "50", "blessing": "加油，早日康复！"} | form
    return client.post(f"/c/{campaign.id}/donate", data=data, headers={"User-Agent": ua})


def test_a_donation_from_campaign_page_to_ledger(live_server, standin, client, donor_client,
                                                 live_campaign):
    page = donor_client.get(f"/c/{live_campaign.id}").get_data(as_text=True)
    assert "爱心捐款" in page and 'name="checkout_key"' in page and "还没有人捐款" in page

    response = donate(donor_client, live_campaign, preset="", amount="66.6")
    assert response.status_code == 302
    out_trade_no = response.headers["Location"].rsplit("/", 1)[1]
    payment = db.session.scalars(select(Payment)).one()
    assert (payment.out_trade_no, payment.amount_fen, payment.trade_type) == (
        out_trade_no, 66_60, "NATIVE")
    assert payment.state == PaymentState.pending
    assert standin.state.orders[out_trade_no]["notify_url"] == f"{live_server}/wechat/pay/notify"

    order_page = donor_client.get(f"/pay/{out_trade_no}").get_data(as_text=True)
    assert "<svg" in order_page and "¥<strong>66.60</strong>" in order_page
    cashier = re.search(r'href="([^"]+/standin/cashier/[^"]+)"', order_page)[1]
    cashier = cashier.replace("&amp;", "&")
    assert payment.prepay_id in cashier and "return=" in cashier
    assert donor_client.get(f"/api/v1/payments/{out_trade_no}").json["paid"] is False

    # The tester confirms at the stand-in's cashier; it notifies our live server.
    assert "确认支付" in requests.get(cashier, timeout=5).text
    confirmed = requests.post(cashier.split("?")[0] + "/confirm",
                              data={"return": f"{live_server}/pay/{out_trade_no}"}, timeout=5)
    assert "支付成功" in confirmed.text
    payment = wait_until_paid(payment.id)
    assert payment.transaction_id == standin.state.orders[out_trade_no]["transaction_id"]

    status = donor_client.get(f"/api/v1/payments/{out_trade_no}").json
    assert status["paid"] is True and status["next_url"].endswith("/thanks")
    thanks = donor_client.get(status["next_url"]).get_data(as_text=True)
    assert "感谢您的爱心" in thanks and "66.60" in thanks

    campaign = fresh(Campaign, live_campaign.id)
    assert (campaign.raised_fen, campaign.donation_count) == (66_60, 1)
    page = client.get(f"/c/{campaign.id}").get_data(as_text=True)
    assert "66.60" in page and "爱***" in page and "加油，早日康复！" in page
    ledger_page = client.get(f"/c/{campaign.id}/ledger").get_data(as_text=True)
    assert "+66.60" in ledger_page and out_trade_no[-8:] in ledger_page
    listing = client.get(f"/api/v1/campaigns/{campaign.id}/donations").json
    assert [(d["name"], d["amount_fen"]) for d in listing["donations"]] == [("爱***", 66_60)]
    assert verify() == []


def test_inside_wechat_the_order_page_carries_signed_jsapi_params(live_server, donor_client,
                                                                 live_campaign, donor):
    response = donate(donor_client, live_campaign, ua=WECHAT_UA)
    payment = db.session.scalars(select(Payment)).one()
    assert payment.trade_type == "JSAPI" and payment.openid == donor.openid
    # Inside WeChat the pay sheet opens on the campaign page; the order page is the fallback.
    assert response.headers["Location"].endswith(f"#pay={payment.out_trade_no}")
    page = donor_client.get(f"/pay/{payment.out_trade_no}", headers={"User-Agent": WECHAT_UA})
    html = page.get_data(as_text=True)
    assert "data-jsapi=" in html and "<svg" not in html
    raw = re.search(r'data-jsapi="([^"]+)"', html)[1]
    import html as htmllib
    import json

    params = json.loads(htmllib.unescape(raw))
    assert params["package"] == f"prepay_id={payment.prepay_id}"
    pay_sign = params.pop("paySign")
    assert signature_ok({**params, "sign": pay_sign}, CREDS["WECHAT_API_KEY"])


def test_the_standin_resends_until_acknowledged(live_server, standin, live_campaign, donor,
                                                monkeypatch):
    from app.payments import services
    from tests.payments.helpers import start

    real = services.handle_notification
    calls = []

    def busy_twice(*args, **kwargs):  # our side fails twice (say the database is restarting)
        calls.append(1)
        return (False, "系统繁忙") if len(calls) <= 2 else real(*args, **kwargs)

    monkeypatch.setattr(services, "handle_notification", busy_twice)
    payment = start(live_campaign, donor)
    requests.post(f"{standin.base_url}standin/pay/{payment.out_trade_no}/notify?resend=1",
                  timeout=5)
    wait_until_paid(payment.id)
    time.sleep(0.1)
    mine = [n for n in standin.state.notifications if n["ref"] == payment.out_trade_no]
    assert [n["ok"] for n in mine] == [False, False, True]
    assert len(calls) == 3
    assert verify() == []
