"""The stand-in's WeixinJSBridge: getBrandWCPayRequest's parameters are checked as WeChat checks
them (appId, the prepay id, paySign — v3 SHA256withRSA, v2 MD5 — and the paying WeChat user),
and a confirmed pay sheet pays the order once, through the real notice path."""
from __future__ import annotations

import json

import pytest
import requests

from app.payments.models import PaymentState
from app.payments.pay_sheet import jsapi_params
from app.wechat_standin.oauth import PHONE_USER_COOKIE
from tests.payments.helpers import fresh, start
from tests.payments.test_flow import wait_until_paid

PAY = "get_brand_wcpay_request"


def bridge(standin, path: str, params: dict, payer: str | None = None) -> dict:
    cookies = {PHONE_USER_COOKIE: payer} if payer else None
    return requests.post(standin.base_url + f"standin/bridge/{path}", data=json.dumps(params),
                         headers={"Content-Type": "text/plain",
                                  "Origin": "http://127.0.0.1:1"},
                         cookies=cookies, timeout=5).json()


@pytest.fixture()
def jsapi_order(live_server, standin, live_campaign, donor):
    payment = start(live_campaign, donor, amount_fen=20_00, trade_type="JSAPI")
    return payment, jsapi_params(payment)


def test_the_pay_sheet_shows_the_amount_and_the_merchant(standin, jsapi_order, donor):
    payment, params = jsapi_order
    sheet = bridge(standin, "order", params, payer=donor.openid)
    assert sheet["err_msg"] == f"{PAY}:ready"
    assert (sheet["total_fee"], sheet["merchant"]) == (20_00, "相助大病筹款")


def test_wechat_refuses_a_forged_sign_another_app_or_another_payer(standin, jsapi_order, donor):
    payment, params = jsapi_order
    forged = params | {"paySign": params["paySign"][:-4] + "AAA="}
    assert bridge(standin, "pay", forged)["err_msg"] == f"{PAY}:fail, 支付验证签名失败"
    assert bridge(standin, "pay", params | {"appId": "wx_other"})["err_msg"].endswith("appId")
    assert "不一致" in bridge(standin, "pay", params, payer="o_someone_else")["err_msg"]
    assert standin.state.orders[payment.out_trade_no]["trade_state"] == "NOTPAY"


def test_a_confirmed_sheet_pays_once_through_the_notice(standin, jsapi_order, donor):
    payment, params = jsapi_order
    assert bridge(standin, "pay", params, payer=donor.openid)["err_msg"] == f"{PAY}:ok"
    assert wait_until_paid(payment.id).state == PaymentState.paid
    assert bridge(standin, "pay", params, payer=donor.openid)["err_msg"] == f"{PAY}:fail, 该订单已支付"
    assert fresh(type(payment), payment.id).amount_fen == 20_00


def test_v2_md5_params_are_checked_too(pay_api_v2, standin, live_server, live_campaign, donor):
    payment = start(live_campaign, donor, amount_fen=10_00, trade_type="JSAPI")
    params = jsapi_params(payment)
    assert params["signType"] == "MD5"
    forged = params | {"nonceStr": "x" + params["nonceStr"][1:]}
    assert bridge(standin, "order", forged)["err_msg"].endswith("支付验证签名失败")
    assert bridge(standin, "pay", params, payer=donor.openid)["err_msg"] == f"{PAY}:ok"
    assert wait_until_paid(payment.id).state == PaymentState.paid


def test_the_script_is_served_and_plays_only_inside_wechat(standin, app, client):
    script = requests.get(standin.base_url + "standin/bridge.js", timeout=5)
    assert script.status_code == 200 and "getBrandWCPayRequest" in script.text
    assert "MicroMessenger" in script.text  # idle in any other browser
    base = app.config["WECHAT_API_BASE"]
    page = client.get("/campaigns").get_data(as_text=True)
    assert f'<script src="{base}standin/bridge.js"></script>' in page
    app.config["WECHAT_STANDIN"] = False  # real WeChat: its own bridge, never ours
    try:
        assert "standin/bridge.js" not in client.get("/campaigns").get_data(as_text=True)
    finally:
        app.config["WECHAT_STANDIN"] = True
