"""The stand-in's bills held against WeChat's published APIv3 rules, not against our client:
requests signed by hand with `cryptography` (app/wechat_standin/v3/crypto.py has no
wechatpayv3), responses signed with the platform key, a gzip file whose SHA1 (before gzip) the
apply response names, WeChat's error codes."""
from __future__ import annotations

import gzip
import hashlib
import time
from datetime import timedelta

import requests
from cryptography.hazmat.primitives import serialization

from app.bills.parse import parse_trade_bill
from app.config import standin_credentials, standin_v3_credentials
from app.wechat_standin.v3 import crypto
from tests.bills.conftest import at, forget_day, pay
from tests.clock import days_ahead
from tests.payments.helpers import fee_of

V3 = standin_v3_credentials()
MCH_ID = standin_credentials()["WECHAT_MCH_ID"]
KEY = serialization.load_pem_private_key(V3["WECHAT_PAY_V3_PRIVATE_KEY_PEM"].encode(), None)


def signed_get(standin, url: str, serial: str | None = None) -> requests.Response:
    """GET `url` (path?query, as signed) with a merchant Authorization made here."""
    headers = {"Accept": "application/json", "Authorization": crypto.authorization(
        MCH_ID, V3["WECHAT_PAY_V3_CERT_SERIAL"], KEY, "GET", url, "", str(int(time.time())),
        crypto.nonce())}
    if serial:
        headers["Wechatpay-Serial"] = serial
    return requests.get(standin.base_url.rstrip("/") + url, headers=headers, timeout=5)


def verified(standin, response: requests.Response) -> bool:
    key = standin.platform.by_serial(response.headers["Wechatpay-Serial"])
    message = crypto.response_message(response.headers["Wechatpay-Timestamp"],
                                      response.headers["Wechatpay-Nonce"], response.text)
    return key is not None and crypto.verify(key.public_key, message,
                                             response.headers["Wechatpay-Signature"])


def test_a_days_trade_bill_applied_for_and_downloaded(standin, live_server, live_campaign,
                                                      donor):
    day = days_ahead(6)
    forget_day(standin, day)
    with at(day, 14):
        payment = pay(standin, live_campaign, donor, 12_34)
    with at(day + timedelta(days=1), 10):
        applied = signed_get(standin, f"/v3/bill/tradebill?bill_date={day}&bill_type=ALL"
                                      f"&tar_type=GZIP",
                             serial=standin.platform.public_key.serial)
        assert applied.status_code == 200 and verified(standin, applied)
        assert applied.headers["Wechatpay-Serial"] == standin.platform.public_key.serial
        meta = applied.json()
        assert meta["hash_type"] == "SHA1"
        path = meta["download_url"][len(standin.base_url.rstrip("/")):]
        assert path.startswith("/v3/billdownload/file?token=")

        assert requests.get(meta["download_url"], timeout=5).status_code == 401  # unsigned
        file = signed_get(standin, path)
        assert file.status_code == 200
        raw = gzip.decompress(file.content)
        assert hashlib.sha1(raw).hexdigest() == meta["hash_value"]
    (line,) = parse_trade_bill(raw).lines
    assert (line.ref, line.amount_fen, line.fee_fen) == (payment.out_trade_no, 12_34,
                                                         fee_of(12_34))


def test_wechats_refusals(standin, db):
    day = days_ahead(7)
    forget_day(standin, day)
    with at(day + timedelta(days=1), 10):
        none = signed_get(standin, f"/v3/bill/tradebill?bill_date={day}&tar_type=GZIP")
        assert none.status_code == 400 and none.json()["code"] == "NO_STATEMENT_EXIST"
        assert verified(standin, none)
        today = signed_get(standin, f"/v3/bill/fundflowbill?bill_date={day + timedelta(days=1)}")
        assert today.status_code == 400 and today.json()["code"] == "STATEMENT_CREATING"
        bad = signed_get(standin, "/v3/bill/tradebill?bill_date=20241110")
        assert bad.status_code == 400 and bad.json()["code"] == "PARAM_ERROR"
        old = signed_get(standin, f"/v3/bill/tradebill?bill_date={day - timedelta(days=120)}")
        assert old.status_code == 400 and old.json()["code"] == "PARAM_ERROR"
        forged = requests.get(f"{standin.base_url}v3/bill/tradebill?bill_date={day}",
                              headers={"Authorization": "WECHATPAY2-SHA256-RSA2048 mchid=\"1\""},
                              timeout=5)
        assert forged.status_code == 401 and forged.json()["code"] == "SIGN_ERROR"
        gone = signed_get(standin, "/v3/billdownload/file?token=nope")
        assert gone.status_code == 400 and gone.json()["code"] == "INVALID_REQUEST"
