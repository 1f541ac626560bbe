"""wechatpayv3 is pointed at the stand-in in one place (app/wechat/pay_v3_client.py) through
attributes the library keeps private. If an upgrade moves them, these fail loudly — rather than
a build silently talking to api.mch.weixin.qq.com."""
from __future__ import annotations

import importlib.metadata
import inspect

import pytest
import requests
import wechatpayv3.core
from wechatpayv3 import WeChatPay, WeChatPayType

from app.config import standin_credentials, standin_v3_credentials
from app.payments.provider import get_provider
from app.wechat import pay_v3_client
from tests.payments.helpers import fresh, start

CREDS, V3 = standin_credentials(), standin_v3_credentials()


def test_the_library_still_keeps_its_gateway_where_we_set_it(standin):
    assert importlib.metadata.version("wechatpayv3") == "2.0.4", \
        "wechatpayv3 moved: re-read its Core and app/wechat/pay_v3_client.py"
    assert "self._gate_way = 'https://api.mch.weixin.qq.com'" in inspect.getsource(
        wechatpayv3.core.Core.__init__)
    assert "self._gate_way + path" in inspect.getsource(wechatpayv3.core.Core.request)
    client = WeChatPay(WeChatPayType.NATIVE, CREDS["WECHAT_MCH_ID"],
                       V3["WECHAT_PAY_V3_PRIVATE_KEY_PEM"], V3["WECHAT_PAY_V3_CERT_SERIAL"],
                       CREDS["WECHAT_APPID"], V3["WECHAT_PAY_APIV3_KEY"],
                       public_key=standin.platform.public_key_pem,
                       public_key_id=standin.platform.public_key.serial)
    assert pay_v3_client.gateway_of(client) == pay_v3_client.WECHAT_GATEWAY
    pay_v3_client.point_at(client, standin.base_url.rstrip("/"))
    code, _ = client.query(out_trade_no="NOSUCHORDER1", mchid=CREDS["WECHAT_MCH_ID"])
    assert code == 404  # answered, and its signature checked, by the stand-in
    for name in ("_public_key_id", "_certificates", "_init_certificates", "_cert_dir",
                 "_public_key"):
        assert hasattr(client._core, name), name


def test_pointing_fails_loudly_if_the_attribute_is_gone():
    class Moved:
        _core = object()

    with pytest.raises(RuntimeError, match="_gate_way"):
        pay_v3_client.point_at(Moved(), "http://127.0.0.1:1")


def test_the_app_talks_to_the_stand_in_never_to_wechat(app, standin):
    with app.app_context():
        client = pay_v3_client.pay_v3_client()
        assert pay_v3_client.gateway_of(client) == standin.base_url.rstrip("/")
        assert pay_v3_client.pay_v3_client() is client  # one per app and configuration


def test_certificate_mode_downloads_the_stand_ins_certificate(make_app, standin, live_server,
                                                              live_campaign, donor):
    other = make_app(WECHAT_PAY_PUBLIC_KEY_PEM=None, WECHAT_PAY_PUBLIC_KEY_ID=None)
    with other.app_context():
        client = pay_v3_client.pay_v3_client()
        public_key_id, serials = pay_v3_client.known_serials(client)
        assert public_key_id is None
        assert serials == {int(standin.platform.certificate.serial, 16)}
        assert pay_v3_client.serial_known(client, standin.platform.certificate.serial)
        assert not pay_v3_client.serial_known(client, standin.platform.public_key.serial)
        payment = start(live_campaign, donor, 15_00)
        assert standin.state.orders[payment.out_trade_no]["v3_serial"] == ""
        assert get_provider("wechat_v3").query(payment.out_trade_no).state == "pending"
    # the stand-in signs this order's notice with its certificate; the live app (public-key
    # mode) does not hold that certificate and refuses it without asking WeChat for it
    hook = requests.post(f"{standin.base_url}standin/pay/{payment.out_trade_no}/notify",
                         timeout=10)
    assert hook.json()["acknowledged"] == [False]
    assert fresh(type(payment), payment.id).state.value == "pending"
