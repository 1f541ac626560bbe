"""The stand-in speaks WeChat Pay APIv3 as WeChat publishes it, checked here with `cryptography`
alone — no wechatpayv3 and none of the stand-in's own crypto — so a client bug and a stand-in
bug cannot cancel out: the signature strings, SHA256withRSA, AEAD_AES_256_GCM, status codes
and error bodies."""
from __future__ import annotations

import base64
import json
import secrets
import threading
import time

import pytest
import requests
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from werkzeug.serving import make_server

from app.config import standin_credentials, standin_v3_credentials

CREDS = standin_credentials()
V3 = standin_v3_credentials()
MERCHANT_KEY = serialization.load_pem_private_key(V3["WECHAT_PAY_V3_PRIVATE_KEY_PEM"].encode(),
                                                  None)


def signed_request(standin, method: str, url: str, body: dict | None = None,
                   timestamp: int | None = None, serial: str | None = None,
                   key=MERCHANT_KEY, headers: dict | None = None) -> requests.Response:
    """A request signed by hand: METHOD\\nURL\\ntimestamp\\nnonce\\nbody\\n, SHA256withRSA."""
    text = json.dumps(body, ensure_ascii=False) if body is not None else ""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    nonce = secrets.token_hex(16).upper()
    message = f"{method}\n{url}\n{stamp}\n{nonce}\n{text}\n".encode()
    signature = base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()
    auth = (f'WECHATPAY2-SHA256-RSA2048 mchid="{CREDS["WECHAT_MCH_ID"]}",nonce_str="{nonce}",'
            f'signature="{signature}",timestamp="{stamp}",'
            f'serial_no="{serial or V3["WECHAT_PAY_V3_CERT_SERIAL"]}"')
    return requests.request(method, standin.base_url.rstrip("/") + url, data=text.encode(),
                            timeout=5, headers={"Authorization": auth, "Accept": "application/json",
                                                "Content-Type": "application/json",
                                                **(headers or {})})


def response_verifies(response: requests.Response, public_key) -> bool:
    message = (f"{response.headers['Wechatpay-Timestamp']}\n{response.headers['Wechatpay-Nonce']}"
               f"\n{response.text}\n").encode()
    try:
        public_key.verify(base64.b64decode(response.headers["Wechatpay-Signature"]), message,
                          padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def pub_key(standin):
    return serialization.load_pem_public_key(standin.platform.public_key_pem.encode())


def native_order(standin, out_trade_no: str, total: int = 1_00, **headers) -> requests.Response:
    return signed_request(standin, "POST", "/v3/pay/transactions/native", {
        "appid": CREDS["WECHAT_APPID"], "mchid": CREDS["WECHAT_MCH_ID"], "description": "测试",
        "out_trade_no": out_trade_no, "notify_url": "http://127.0.0.1:9/notify",
        "amount": {"total": total, "currency": "CNY"}}, headers=headers)


def test_certificates_are_sealed_with_aes_gcm_and_sign_the_response(standin):
    response = signed_request(standin, "GET", "/v3/certificates")
    assert response.status_code == 200 and response.headers["Request-ID"]
    item = response.json()["data"][0]
    sealed = item["encrypt_certificate"]
    assert sealed["algorithm"] == "AEAD_AES_256_GCM" and sealed["associated_data"] == "certificate"
    pem = AESGCM(V3["WECHAT_PAY_APIV3_KEY"].encode()).decrypt(
        sealed["nonce"].encode(), base64.b64decode(sealed["ciphertext"]),
        sealed["associated_data"].encode())
    certificate = x509.load_pem_x509_certificate(pem)
    assert f"{certificate.serial_number:X}" == item["serial_no"]
    assert response.headers["Wechatpay-Serial"] == item["serial_no"]
    assert response.headers["Wechatpay-Signature-Type"] == "WECHATPAY2-SHA256-RSA2048"
    assert response_verifies(response, certificate.public_key())


def test_public_key_mode_responses_are_signed_with_the_public_key(standin):
    serial = standin.platform.public_key.serial
    assert serial.startswith("PUB_KEY_ID_")
    response = native_order(standin, f"T{secrets.token_hex(8)}", **{"Wechatpay-Serial": serial})
    assert response.status_code == 200 and response.json()["code_url"]
    assert response.headers["Wechatpay-Serial"] == serial
    assert response_verifies(response, pub_key(standin))


def test_a_bad_authorization_is_401_sign_error(standin):
    url = f"/v3/pay/transactions/out-trade-no/NOPE123?mchid={CREDS['WECHAT_MCH_ID']}"
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for response in (signed_request(standin, "GET", url, key=stranger),
                     signed_request(standin, "GET", url, serial="0123ABCD"),
                     signed_request(standin, "GET", url, timestamp=int(time.time()) - 3600),
                     requests.get(standin.base_url.rstrip("/") + url, timeout=5)):
        assert response.status_code == 401
        assert response.json()["code"] == "SIGN_ERROR" and response.json()["message"]
    assert signed_request(standin, "GET", url).status_code == 404  # signed right: answered


def test_wechats_error_codes_and_status(standin):
    no = f"T{secrets.token_hex(8)}"
    mchid = CREDS["WECHAT_MCH_ID"]
    missing = signed_request(standin, "GET",
                             f"/v3/pay/transactions/out-trade-no/{no}?mchid={mchid}")
    assert (missing.status_code, missing.json()["code"]) == (404, "ORDER_NOT_EXIST")
    assert response_verifies(missing, x509.load_pem_x509_certificate(
        standin.platform.certificate_pem.encode()).public_key())
    bad = signed_request(standin, "POST", "/v3/pay/transactions/native",
                         {"appid": CREDS["WECHAT_APPID"], "mchid": mchid})
    assert (bad.status_code, bad.json()["code"]) == (400, "PARAM_ERROR")
    assert native_order(standin, no, 1_00).status_code == 200
    assert native_order(standin, no, 1_00).status_code == 200  # the same order again
    reused = native_order(standin, no, 2_00)
    assert (reused.status_code, reused.json()["code"]) == (403, "OUT_TRADE_NO_USED")
    requests.post(f"{standin.base_url}standin/pay/{no}/pay", timeout=5)
    paid = signed_request(standin, "POST", f"/v3/pay/transactions/out-trade-no/{no}/close",
                          {"mchid": mchid})
    assert (paid.status_code, paid.json()["code"]) == (400, "ORDERPAID")
    query = signed_request(standin, "GET", f"/v3/pay/transactions/out-trade-no/{no}?mchid={mchid}")
    assert query.json()["trade_state"] == "SUCCESS" and query.json()["amount"]["total"] == 1_00
    refund = {"out_trade_no": no, "out_refund_no": f"R{no}", "amount": {
        "refund": 2_00, "total": 1_00, "currency": "CNY"}}
    too_much = signed_request(standin, "POST", "/v3/refund/domestic/refunds", refund)
    assert too_much.status_code == 400 and too_much.json()["code"] in ("PARAM_ERROR",
                                                                        "INVALID_REQUEST")
    refund["amount"]["refund"] = 40
    done = signed_request(standin, "POST", "/v3/refund/domestic/refunds", refund)
    assert done.status_code == 200 and done.json()["status"] in ("PROCESSING", "SUCCESS")
    again = signed_request(standin, "GET", f"/v3/refund/domestic/refunds/R{no}")
    assert again.json()["status"] == "SUCCESS" and again.json()["amount"]["refund"] == 40
    gone = signed_request(standin, "GET", "/v3/refund/domestic/refunds/NOSUCHREFUND")
    assert (gone.status_code, gone.json()["code"]) == (404, "RESOURCE_NOT_EXISTS")
    fresh = f"T{secrets.token_hex(8)}"
    native_order(standin, fresh)
    closed = signed_request(standin, "POST", f"/v3/pay/transactions/out-trade-no/{fresh}/close",
                            {"mchid": mchid})
    assert closed.status_code == 204 and closed.text == ""
    assert response_verifies(closed, x509.load_pem_x509_certificate(
        standin.platform.certificate_pem.encode()).public_key())


@pytest.fixture()
def receiver():
    """A merchant's notify URL that only records what it receives and answers 204."""
    received: list[tuple[dict, str]] = []

    def wsgi(environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        headers = {k[5:].replace("_", "-").title(): v for k, v in environ.items()
                   if k.startswith("HTTP_")}
        received.append((headers, environ["wsgi.input"].read(length).decode()))
        start_response("204 No Content", [])
        return [b""]

    server = make_server("127.0.0.1", 0, wsgi, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/notify", received
    server.shutdown()


def test_the_payment_notice_is_signed_and_its_resource_decrypts(standin, receiver):
    url, received = receiver
    no = f"T{secrets.token_hex(8)}"
    signed_request(standin, "POST", "/v3/pay/transactions/native", {
        "appid": CREDS["WECHAT_APPID"], "mchid": CREDS["WECHAT_MCH_ID"], "description": "测试",
        "out_trade_no": no, "notify_url": url, "amount": {"total": 3_00, "currency": "CNY"}},
        headers={"Wechatpay-Serial": standin.platform.public_key.serial})
    hook = requests.post(f"{standin.base_url}standin/pay/{no}/notify?copies=2", timeout=10)
    assert hook.json()["acknowledged"] == [True, True] and len(received) == 2
    headers, body = received[0]
    message = f"{headers['Wechatpay-Timestamp']}\n{headers['Wechatpay-Nonce']}\n{body}\n".encode()
    pub_key(standin).verify(base64.b64decode(headers["Wechatpay-Signature"]), message,
                            padding.PKCS1v15(), hashes.SHA256())
    assert abs(int(headers["Wechatpay-Timestamp"]) - time.time()) < 60
    assert headers["Wechatpay-Serial"] == standin.platform.public_key.serial
    assert headers["Wechatpay-Signature-Type"] == "WECHATPAY2-SHA256-RSA2048"
    event = json.loads(body)
    assert event["event_type"] == "TRANSACTION.SUCCESS" and event["resource_type"] == \
        "encrypt-resource" and event["id"]
    resource = event["resource"]
    assert resource["algorithm"] == "AEAD_AES_256_GCM" and resource["associated_data"] == \
        "transaction" and resource["original_type"] == "transaction"
    plain = json.loads(AESGCM(V3["WECHAT_PAY_APIV3_KEY"].encode()).decrypt(
        resource["nonce"].encode(), base64.b64decode(resource["ciphertext"]),
        b"transaction"))
    assert plain["out_trade_no"] == no and plain["amount"]["total"] == 3_00
    assert plain["trade_state"] == "SUCCESS" and plain["mchid"] == CREDS["WECHAT_MCH_ID"]
    assert plain["appid"] == CREDS["WECHAT_APPID"] and plain["transaction_id"]
    assert json.loads(received[1][1])["id"] == event["id"]  # a copy: the same notice


def test_refund_notices_carry_wechats_statuses(standin, receiver):
    url, received = receiver
    no = f"T{secrets.token_hex(8)}"
    native_order(standin, no, 5_00)
    requests.post(f"{standin.base_url}standin/pay/{no}/pay", timeout=5)
    done = signed_request(standin, "POST", "/v3/refund/domestic/refunds", {
        "out_trade_no": no, "out_refund_no": f"R{no}", "notify_url": url,
        "amount": {"refund": 1_00, "total": 5_00, "currency": "CNY"}})
    assert done.status_code == 200
    hook = requests.post(f"{standin.base_url}standin/v3/refund/R{no}/notify?status=CLOSED",
                         timeout=10)
    assert hook.json()["acknowledged"] == [True]
    deadline = time.monotonic() + 5
    while len(received) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    events = {json.loads(body)["event_type"]: json.loads(body) for _, body in received}
    assert set(events) == {"REFUND.SUCCESS", "REFUND.CLOSED"}
    resource = events["REFUND.CLOSED"]["resource"]
    assert resource["associated_data"] == "refund"
    plain = json.loads(AESGCM(V3["WECHAT_PAY_APIV3_KEY"].encode()).decrypt(
        resource["nonce"].encode(), base64.b64decode(resource["ciphertext"]), b"refund"))
    assert plain["refund_status"] == "CLOSED" and plain["out_refund_no"] == f"R{no}"
    assert plain["amount"] == {"total": 5_00, "refund": 1_00, "payer_total": 5_00,
                               "payer_refund": 1_00}
