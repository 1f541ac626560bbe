"""The stand-in speaks WeChat Pay v2: signatures, errors, order states, refunds — exercised
through our WeChatPayProvider (wechatpy underneath), as production code talks to WeChat."""
from datetime import timedelta

import pytest
import requests
from wechatpy.pay.utils import calculate_signature, dict_to_xml

from app.models_base import utcnow
from app.payments.provider import OrderRequest, ProviderError
from app.payments.services import new_out_trade_no
from app.payments.wechat_pay import WeChatPayProvider, parse_xml, signature_ok
from app.wechat_standin.pay import mark_paid
from tests.payments.helpers import CREDS

# WeChat Pay v2 (the legacy provider), explicitly: the default is APIv3.
pytestmark = pytest.mark.usefixtures("pay_api_v2")


def order(trade_type="NATIVE", amount=50_00, openid=None, out_trade_no=None):
    return OrderRequest(out_trade_no=out_trade_no or new_out_trade_no(), amount_fen=amount,
                        description="测试", trade_type=trade_type, client_ip="127.0.0.1",
                        notify_url="http://127.0.0.1:9/wechat/pay/notify",
                        expires_at=utcnow() + timedelta(minutes=30), openid=openid)


@pytest.fixture()
def provider(app, standin):
    with app.app_context():
        yield WeChatPayProvider()


def signed(data, key=CREDS["WECHAT_API_KEY"]):
    return dict_to_xml(data, calculate_signature(data, key)).encode()


def test_unifiedorder_answers_signed_and_is_idempotent_per_order(provider, standin):
    request = order()
    first = provider.create_payment(request)
    again = provider.create_payment(request)
    assert first == again and first.code_url.endswith(f"/standin/cashier/{first.prepay_id}")
    with pytest.raises(ProviderError) as refused:
        provider.create_payment(order(amount=51_00, out_trade_no=request.out_trade_no))
    assert refused.value.code == "INVALID_REQUEST"
    assert provider.query(request.out_trade_no).state == "pending"


def test_jsapi_needs_an_openid(provider):
    with pytest.raises(ProviderError) as refused:
        provider.create_payment(order(trade_type="JSAPI"))
    assert refused.value.code == "PARAM_ERROR"
    assert provider.create_payment(order(trade_type="JSAPI", openid="o_test")).code_url is None


@pytest.mark.parametrize("tamper, message", [
    (dict(key="x" * 32), "签名错误"), (dict(appid="wx_other"), "appid不存在"),
    (dict(mch_id="1"), "商户号mch_id与appid不匹配")])
def test_the_standin_refuses_bad_signatures_and_foreign_merchants(standin, tamper, message):
    data = {"appid": tamper.get("appid", CREDS["WECHAT_APPID"]),
            "mch_id": tamper.get("mch_id", CREDS["WECHAT_MCH_ID"]), "nonce_str": "abc",
            "out_trade_no": "XZ1"}
    body = signed(data, tamper.get("key", CREDS["WECHAT_API_KEY"]))
    reply = parse_xml(requests.post(f"{standin.base_url}pay/orderquery", data=body).content)
    assert reply == {"return_code": "FAIL", "return_msg": message}
    garbage = requests.post(f"{standin.base_url}pay/orderquery", data=b"<xml>")
    assert parse_xml(garbage.content)["return_code"] == "FAIL"


def test_answers_are_signed(standin):
    body = signed({"appid": CREDS["WECHAT_APPID"], "mch_id": CREDS["WECHAT_MCH_ID"],
                   "nonce_str": "abc", "out_trade_no": "XZ_missing"})
    reply = parse_xml(requests.post(f"{standin.base_url}pay/orderquery", data=body).content)
    assert reply["err_code"] == "ORDERNOTEXIST"
    assert signature_ok(reply, CREDS["WECHAT_API_KEY"])


def test_paid_orders_cannot_be_closed_and_closed_ones_cannot_be_paid(provider, standin):
    paid, unpaid = order(), order()
    provider.create_payment(paid)
    provider.create_payment(unpaid)
    mark_paid(standin.state, paid.out_trade_no)
    with pytest.raises(ProviderError) as refused:
        provider.close(paid.out_trade_no)
    assert refused.value.code == "order_paid"
    provider.close(unpaid.out_trade_no)
    provider.close(unpaid.out_trade_no)  # closing twice is fine
    assert provider.query(unpaid.out_trade_no).state == "closed"
    assert mark_paid(standin.state, unpaid.out_trade_no) is None
    status = provider.query(paid.out_trade_no)
    assert (status.state, status.total_fee) == ("paid", 50_00)
    assert status.transaction_id == standin.state.orders[paid.out_trade_no]["transaction_id"]
    assert provider.query("XZ_never_created").state == "not_found"


def test_refunds_at_most_the_amount_paid_once_per_refund_number(provider, standin):
    request = order(amount=100_00)
    provider.create_payment(request)
    mark_paid(standin.state, request.out_trade_no)
    first = provider.refund(request.out_trade_no, "R" + request.out_trade_no, 100_00, 60_00,
                            reason="筹款终止，按比例退回")
    again = provider.refund(request.out_trade_no, "R" + request.out_trade_no, 100_00, 60_00)
    assert first == again and first.refund_fee == 60_00
    with pytest.raises(ProviderError) as refused:
        provider.refund(request.out_trade_no, "R2" + request.out_trade_no, 100_00, 50_00)
    assert refused.value.code == "NOTENOUGH"
    assert provider.query(request.out_trade_no).state == "refunded"


def test_the_cashier_pays_and_notifies(provider, standin):
    request = order()
    created = provider.create_payment(request)
    page = requests.get(f"{standin.base_url}standin/cashier/{created.prepay_id}")
    assert "确认支付" in page.text and "¥50.00" in page.text
    cancel = requests.post(f"{standin.base_url}standin/cashier/{created.prepay_id}/cancel")
    assert "已取消支付" in cancel.text and provider.query(request.out_trade_no).state == "pending"
    paid = requests.post(f"{standin.base_url}standin/cashier/{request.out_trade_no}/confirm")
    assert "支付成功" in paid.text and provider.query(request.out_trade_no).state == "paid"
    assert requests.get(f"{standin.base_url}standin/cashier/nope").status_code == 404
