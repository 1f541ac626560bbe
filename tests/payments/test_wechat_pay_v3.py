"""APIv3 end to end: our WeChatPayV3Provider (wechatpayv3 underneath) against the stand-in, and
the v3 notify view: a notice counted once however often or concurrently it comes, and every
forged, stale, foreign, tampered or wrong notice refused with a 4xx FAIL, logged, and changing
nothing."""
from __future__ import annotations

import base64
import json
import time

import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from sqlalchemy import select

from app.campaigns.models import Campaign
from app.extensions import db
from app.ledger.verify import verify
from app.payments import services
from app.payments.models import NoticeVerdict, Payment, PaymentNotice, PaymentState
from app.payments.provider import (REFUND_CLOSED, REFUND_FAILED, REFUND_SUCCEEDED,
                                   NoticeRejected, get_provider)
from app.wechat_standin.v3.crypto import SigningKey, new_rsa_key
from tests.payments import v3_helpers as v3
from tests.payments.helpers import WECHAT_UA, fee_count, fresh, ledger_count, start


def verdicts(out_trade_no: str) -> list[str]:
    return [v.value for v in db.session.scalars(
        select(PaymentNotice.verdict).where(PaymentNotice.out_trade_no == out_trade_no)
        .order_by(PaymentNotice.id))]


def wait_until_paid(payment_id: int, timeout: float = 10) -> Payment:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        payment = fresh(Payment, payment_id)
        if payment.state == PaymentState.paid:
            return payment
        db.session.rollback()
        time.sleep(0.05)
    raise AssertionError("the v3 notice never recorded the payment")


def test_native_through_v3_to_the_ledger(live_server, standin, live_campaign, donor):
    payment = start(live_campaign, donor, 88_00)
    assert payment.provider == "wechat_v3" and payment.code_url
    order = standin.state.orders[payment.out_trade_no]
    assert order["api"] == "v3" and order["notify_url"] == f"{live_server}/wechat/pay/v3/notify"
    assert order["v3_serial"] == standin.platform.public_key.serial  # public-key mode
    hook = requests.post(f"{standin.base_url}standin/pay/{payment.out_trade_no}/notify",
                         timeout=10)
    assert hook.json()["acknowledged"] == [True]
    payment = fresh(Payment, payment.id)
    assert payment.state == PaymentState.paid and payment.transaction_id == \
        standin.state.orders[payment.out_trade_no]["transaction_id"]
    assert fresh(Campaign, live_campaign.id).raised_fen == 88_00
    assert ledger_count(payment.out_trade_no) == 1 and fee_count(payment.out_trade_no) == 1
    assert verdicts(payment.out_trade_no) == ["processed"] and verify() == []


def test_jsapi_inside_wechat_signs_the_pay_sheet_with_rsa(live_server, standin, donor_client,
                                                          live_campaign, donor):
    payment = start(live_campaign, donor, 20_00, trade_type="JSAPI")
    assert payment.prepay_id.startswith("wx")
    params = get_provider("wechat_v3").client_params(payment.prepay_id)
    assert params["signType"] == "RSA" and params["package"] == f"prepay_id={payment.prepay_id}"
    message = (f"{params['appId']}\n{params['timeStamp']}\n{params['nonceStr']}\n"
               f"{params['package']}\n").encode()
    merchant = serialization.load_pem_public_key(v3.V3["WECHAT_PAY_V3_PUBLIC_KEY_PEM"].encode())
    merchant.verify(base64.b64decode(params["paySign"]), message, padding.PKCS1v15(),
                    hashes.SHA256())
    page = donor_client.get(f"/pay/{payment.out_trade_no}", headers={"User-Agent": WECHAT_UA})
    assert payment.prepay_id in page.get_data(as_text=True)
    cashier = standin.base_url + f"standin/cashier/{payment.prepay_id}"
    assert "确认支付" in requests.get(cashier, timeout=5).text
    assert "支付成功" in requests.post(cashier + "/confirm", timeout=5).text
    payment = wait_until_paid(payment.id)
    assert payment.openid == donor.openid and verify() == []


def test_a_v3_notice_replayed_15_times_counts_once(client, live_campaign, donor, standin):
    payment = start(live_campaign, donor, 30_00)
    signed = v3.notice_for(standin.platform, payment)
    replies = [v3.post(client, signed) for _ in range(15)]
    assert all(r.status_code == 204 and r.data == b"" for r in replies)
    assert fresh(Payment, payment.id).state == PaymentState.paid
    assert ledger_count(payment.out_trade_no) == 1 and fee_count(payment.out_trade_no) == 1
    assert verdicts(payment.out_trade_no) == ["processed"] + ["duplicate"] * 14
    assert fresh(Campaign, live_campaign.id).donation_count == 1 and verify() == []


def test_a_v3_notice_10_times_at_once_counts_once(live_server, standin, live_campaign, donor):
    """Ten copies from the stand-in at the same instant (on PostgreSQL: the row lock)."""
    payment = start(live_campaign, donor, 99_00)
    response = requests.post(
        f"{standin.base_url}standin/pay/{payment.out_trade_no}/notify?copies=10", timeout=30)
    assert response.json()["acknowledged"] == [True] * 10
    assert fresh(Payment, payment.id).state == PaymentState.paid
    assert ledger_count(payment.out_trade_no) == 1 and fee_count(payment.out_trade_no) == 1
    assert sorted(verdicts(payment.out_trade_no)) == ["duplicate"] * 9 + ["processed"]
    assert fresh(Campaign, live_campaign.id).raised_fen == 99_00 and verify() == []


def _cases(platform, payment):
    stranger = SigningKey(platform.public_key.serial, new_rsa_key())
    return {
        "forged signature": (v3.notice_for(platform, payment, key=stranger), "bad_signature"),
        "stale timestamp": (v3.notice_for(platform, payment, timestamp=int(time.time()) - 400),
                            "bad_signature"),
        "future timestamp": (v3.notice_for(platform, payment, timestamp=int(time.time()) + 400),
                             "bad_signature"),
        "unknown serial": (v3.notice_for(platform, payment, serial="PUB_KEY_ID_0000000000"),
                           "bad_signature"),
        "non-hex serial": (v3.notice_for(platform, payment, serial="zz-not-hex"),
                           "bad_signature"),
        "tampered ciphertext": (v3.notice_for(platform, payment, tamper=True), "bad_signature"),
        "another APIv3 key": (v3.notice_for(platform, payment,
                                            apiv3_key="another32charactersAPIv3key00000"),
                              "bad_signature"),
        "wrong amount": (v3.notice_for(platform, payment, resource={"amount": {
            "total": payment.amount_fen - 1, "currency": "CNY"}}), "amount_mismatch"),
        "wrong mchid": (v3.notice_for(platform, payment, resource={"mchid": "1900000000"}),
                        "wrong_merchant"),
        "wrong appid": (v3.notice_for(platform, payment, resource={"appid": "wx0000000000"}),
                        "wrong_merchant"),
        "refund resource": (v3.notice(platform, v3.transaction(payment.out_trade_no,
                                                               payment.amount_fen),
                                      kind="refund"), "malformed"),
    }


def test_bad_v3_notices_change_nothing_and_are_logged(client, live_campaign, donor, standin):
    payment = start(live_campaign, donor, 40_00)
    for name, (signed, verdict) in _cases(standin.platform, payment).items():
        reply = v3.post(client, signed)
        assert v3.refused(reply) and reply.status_code == 400, name
        logged = db.session.scalars(select(PaymentNotice).order_by(PaymentNotice.id.desc())
                                    .limit(1)).one()
        assert logged.verdict == NoticeVerdict(verdict), name
        assert fresh(Payment, payment.id).state == PaymentState.pending, name
    body, headers = v3.notice_for(standin.platform, payment)
    for broken in ({**headers, "Wechatpay-Signature-Type": "SM2"},
                   {k: v for k, v in headers.items() if k != "Wechatpay-Signature"}):
        assert v3.refused(v3.post(client, (body, broken)))
    assert v3.refused(v3.post(client, (b"not json", headers)))
    assert v3.refused(v3.post(client, (b"x" * 70_000, headers)))
    assert ledger_count() == 0 and fresh(Campaign, live_campaign.id).raised_fen == 0
    assert v3.acknowledged(v3.post(client, v3.notice_for(standin.platform, payment)))
    assert fresh(Payment, payment.id).state == PaymentState.paid


def test_refunds_through_v3_end_to_end(app, live_server, standin, live_campaign, donor):
    from app.payments.refunds import register_refund_handler, refund_notify_url

    seen = []
    register_refund_handler(app, "XZTEST", lambda n: seen.append(n) or NoticeVerdict.processed)
    payment = start(live_campaign, donor, 50_00)
    requests.post(f"{standin.base_url}standin/pay/{payment.out_trade_no}/notify", timeout=10)
    provider = get_provider(payment.provider)
    url = refund_notify_url(payment.provider)
    assert url == f"{live_server}/wechat/pay/v3/refund_notify"
    result = provider.refund(payment.out_trade_no, "XZTEST0001", 50_00, 20_00, "测试退款", url)
    assert result.refund_fee == 20_00 and result.refund_id
    again = provider.refund(payment.out_trade_no, "XZTEST0001", 50_00, 20_00, "测试退款", url)
    assert again.refund_id == result.refund_id  # the same out_refund_no refunds once
    deadline = time.monotonic() + 10
    while not seen and time.monotonic() < deadline:
        time.sleep(0.05)
    assert seen and seen[0].status == REFUND_SUCCEEDED and seen[0].refund_fee == 20_00
    assert seen[0].out_trade_no == payment.out_trade_no
    for status, neutral in (("ABNORMAL", REFUND_FAILED), ("CLOSED", REFUND_CLOSED)):
        hook = requests.post(f"{standin.base_url}standin/v3/refund/XZTEST0001/notify"
                             f"?status={status}", timeout=10)
        assert hook.json()["acknowledged"] == [True]
        assert seen[-1].status == neutral
    assert provider.query(payment.out_trade_no).state == "refunded"


def test_refund_notices_are_verified_too(app, standin, client):
    with app.test_request_context():
        provider = get_provider("wechat_v3")
        resource = v3.refund_resource("XZ1", "XZRF1", 1_00, 2_00)
        body, headers = v3.notice(standin.platform, resource, kind="refund",
                                  event_type="REFUND.SUCCESS")
        assert provider.parse_refund_notice(body, headers).status == REFUND_SUCCEEDED
        stale = v3.notice(standin.platform, resource, kind="refund", timestamp=1)
        foreign = v3.notice(standin.platform, {**resource, "mchid": "1"}, kind="refund")
        for signed, verdict in ((stale, "bad_signature"), (foreign, "wrong_merchant")):
            with pytest.raises(NoticeRejected) as refused:
                provider.parse_refund_notice(*signed)
            assert refused.value.verdict == verdict
    reply = v3.post(client, stale, v3.REFUND_NOTIFY)
    assert v3.refused(reply)


def test_a_lost_notice_is_settled_by_querying_and_an_expired_order_closed(
        app, standin, live_campaign, donor):
    paid = start(live_campaign, donor, 12_00)
    requests.post(f"{standin.base_url}standin/pay/{paid.out_trade_no}/pay", timeout=5)
    assert services.settle_by_query(paid.id) == "paid"
    assert fresh(Payment, paid.id).transaction_id == \
        standin.state.orders[paid.out_trade_no]["transaction_id"]
    unpaid = start(live_campaign, donor, 13_00)
    db.session.execute(Payment.__table__.update().where(Payment.id == unpaid.id)
                       .values(expires_at=Payment.created_at))
    db.session.commit()
    assert services.settle_by_query(unpaid.id) == "closed"
    assert standin.state.orders[unpaid.out_trade_no]["trade_state"] == "CLOSED"


def test_v2_orders_still_go_through_v2(app, live_campaign, donor, standin, pay_api_v2):
    payment = start(live_campaign, donor, 10_00)
    assert payment.provider == "wechat" and "api" not in standin.state.orders[
        payment.out_trade_no]


def test_the_v3_reply_is_204_or_a_json_fail(app):
    with app.app_context():
        provider = get_provider("wechat_v3")
        ok, fail = provider.notification_reply(True), provider.notification_reply(False, "签名失败")
    assert (ok.status, ok.body) == (204, b"")
    assert fail.status == 400 and fail.content_type == "application/json"
    assert json.loads(fail.body) == {"code": "FAIL", "message": "签名失败"}


def test_an_apiv3_only_merchant_is_real_and_refuses_v2_notices(make_app, db):
    from tests.payments.helpers import notice_xml

    other = make_app(WECHAT_APPID="wx1234567890abcdef", WECHAT_SECRET="secret",
                     WECHAT_MCH_ID="1230000109", WECHAT_PAY_APIV3_KEY="k" * 32,
                     WECHAT_PAY_V3_CERT_SERIAL="ABCDEF", WECHAT_API_KEY=None)
    assert other.config["WECHAT_APPID"] == "wx1234567890abcdef"  # not the stand-in's
    assert other.config["WECHAT_API_KEY"] is None
    with other.app_context():
        reply = other.test_client().post("/wechat/pay/notify", data=notice_xml("XZ1", 1_00),
                                         content_type="text/xml")
    assert reply.status_code == 200 and b"<return_code><![CDATA[FAIL]]>" in reply.data
    assert db.session.scalars(select(PaymentNotice.verdict)).all() == [
        NoticeVerdict.bad_signature]
