"""Signing and parsing with wechatpy, against WeChat's published example and our own checks."""
import pytest
from wechatpy.pay import WeChatPay
from wechatpy.pay.utils import calculate_signature, calculate_signature_hmac

from app.payments.provider import NoticeRejected
from app.payments.wechat_pay import WeChatPayProvider, parse_xml, signature_ok
from app.wechat.clients import pay_client
from app.wechat_standin.pay import refund_notice_xml
from tests.payments.helpers import CREDS, notice_xml

# WeChat Pay v2 (the legacy provider), explicitly: the default is APIv3.
pytestmark = pytest.mark.usefixtures("pay_api_v2")

EXAMPLE = {"appid": "wxd930ea5d5a258f4f", "mch_id": "10000100", "device_info": "1000",
           "body": "test", "nonce_str": "ibuaiVcKdpRxkhJA"}
EXAMPLE_KEY = "192006250b4c09247ec02edce69f6a2d"
EXAMPLE_SIGN = "9A0A8659F005D6984697E2CA0A9CF3B7"


def test_wechatpy_signs_the_published_example():
    assert calculate_signature(EXAMPLE, EXAMPLE_KEY) == EXAMPLE_SIGN


def test_signature_check_accepts_the_example_and_nothing_else():
    assert signature_ok({**EXAMPLE, "sign": EXAMPLE_SIGN}, EXAMPLE_KEY)
    assert signature_ok({**EXAMPLE, "sign": EXAMPLE_SIGN.lower()}, EXAMPLE_KEY)
    assert not signature_ok({**EXAMPLE, "sign": EXAMPLE_SIGN}, EXAMPLE_KEY[:-1] + "e")
    assert not signature_ok({**EXAMPLE, "body": "test2", "sign": EXAMPLE_SIGN}, EXAMPLE_KEY)
    assert not signature_ok(EXAMPLE, EXAMPLE_KEY)                     # unsigned
    assert not signature_ok({**EXAMPLE, "sign": "签名"}, EXAMPLE_KEY)  # not even ASCII
    assert not signature_ok({**EXAMPLE, "sign_type": "RSA", "sign": EXAMPLE_SIGN}, EXAMPLE_KEY)


def test_hmac_sha256_signatures_are_checked_too():
    data = {**EXAMPLE, "sign_type": "HMAC-SHA256"}
    assert signature_ok({**data, "sign": calculate_signature_hmac(data, EXAMPLE_KEY)},
                        EXAMPLE_KEY)
    assert not signature_ok({**data, "sign": calculate_signature(data, EXAMPLE_KEY)},
                            EXAMPLE_KEY)


def test_a_valid_notice_parses_like_wechatpy_parses_it(app):
    body = notice_xml("XZ1", 5000, transaction_id="4200000000000000000000000001")
    with app.app_context():
        parsed = WeChatPayProvider().parse_notification(body)
        reference = pay_client().parse_payment_result(body)
    assert (parsed.out_trade_no, parsed.total_fee, parsed.transaction_id, parsed.success) == (
        "XZ1", 5000, "4200000000000000000000000001", True)
    assert reference["total_fee"] == parsed.total_fee
    assert reference["sign"] == parsed.raw["sign"]


@pytest.mark.parametrize("body, verdict", [
    (notice_xml("XZ1", 5000, api_key="x" * 32), "bad_signature"),
    (notice_xml("XZ1", 5000, sign="0" * 32), "bad_signature"),
    (notice_xml("XZ1", 5000, appid="wx_somebody_else"), "wrong_merchant"),
    (notice_xml("XZ1", 5000, mch_id="1234567890"), "wrong_merchant"),
    (notice_xml("XZ1", "50.00"), "malformed"),
    (notice_xml("XZ1", 5000, return_code="FAIL"), "malformed"),
    (b"", "malformed"),
    (b"<xml><out_trade_no>XZ1</out_trade_no>", "malformed"),
    (b"not xml at all", "malformed"),
    (b"<xml><a><b>nested</b></a></xml>", "malformed"),
    (b"<xml><a>1</a><a>2</a></xml>", "malformed"),
    (b"<other>x</other>", "malformed"),
    (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
     b"<xml><return_code>&b;</return_code></xml>", "malformed"),
    (b"<xml>" + b"<p>x</p>" * 5000 + b"</xml>", "malformed"),
])
def test_notices_we_must_not_act_on_are_rejected(app, body, verdict):
    with app.app_context(), pytest.raises(NoticeRejected) as rejected:
        WeChatPayProvider().parse_notification(body)
    assert rejected.value.verdict == verdict


def test_a_failed_payment_notice_parses_as_not_successful(app):
    body = notice_xml("XZ1", 5000, result_code="FAIL", transaction_id=None, err_code="X")
    with app.app_context():
        assert WeChatPayProvider().parse_notification(body).success is False


def test_replies_are_wechats_xml(app):
    with app.app_context():
        reply = WeChatPayProvider().notification_reply(True)
        fail = WeChatPayProvider().notification_reply(False, "签名失败").body
    ok, content_type = reply.body, reply.content_type
    assert reply.status == 200
    assert ok == (b"<xml><return_code><![CDATA[SUCCESS]]></return_code>"
                  b"<return_msg><![CDATA[OK]]></return_msg></xml>")
    assert parse_xml(fail) == {"return_code": "FAIL", "return_msg": "签名失败"}
    assert content_type == "application/xml"


def test_jsapi_params_carry_a_valid_pay_sign(app):
    with app.app_context():
        params = WeChatPayProvider().client_params("wx201411101639507cbf6ffd8b0779950874")
    assert params["package"] == "prepay_id=wx201411101639507cbf6ffd8b0779950874"
    assert params["appId"] == CREDS["WECHAT_APPID"] and params["signType"] == "MD5"
    pay_sign = params.pop("paySign")
    assert signature_ok({**params, "sign": pay_sign}, CREDS["WECHAT_API_KEY"])


def test_refund_notice_req_info_decrypts_with_wechatpy(app):
    refund = {"out_refund_no": "R1", "out_trade_no": "XZ1", "refund_fee": 100,
              "refund_id": "50000000001", "total_fee": 5000, "transaction_id": "4200001",
              "success_time": "2026-11-28 12:00:00"}
    body = refund_notice_xml(refund, CREDS["WECHAT_APPID"], CREDS["WECHAT_MCH_ID"],
                             CREDS["WECHAT_API_KEY"])
    assert "XZ1" not in body  # encrypted, not merely encoded
    with app.app_context():
        data = WeChatPayProvider().parse_refund_notification(body.encode())
    assert (data["out_refund_no"], data["refund_fee"], data["refund_status"]) == ("R1", 100,
                                                                                 "SUCCESS")
    wrong = WeChatPay("wx_other", CREDS["WECHAT_API_KEY"], CREDS["WECHAT_MCH_ID"])
    with pytest.raises(Exception):
        wrong.parse_refund_notify_result(body)
