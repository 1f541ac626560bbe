"""Fetching a day's bills from WeChat Pay through the one APIv3 client (app/wechat).

`GET /v3/bill/tradebill` (or `fundflowbill`) answers {hash_type, hash_value, download_url};
the file at the URL (itself a signed v3 request, valid for 30 s) is gzip, and hash_value is the
SHA1 of the decompressed bill. A hash that does not match, or a file that is not a bill, is a
finding for finance, not a crash; WeChat or the network failing is `BillUnavailable` (try again
later). A day without any trade has no bill (NO_STATEMENT_EXIST): an empty bill.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date

import requests

from app.bills.parse import BillFormatError, gunzip, sha1_ok
from app.wechat.pay_v3_client import PayV3NotConfigured, library_failure, pay_v3_client

log = logging.getLogger(__name__)
NO_BILL_CODES = ("NO_STATEMENT_EXIST",)


class BillUnavailable(Exception):
    """The bill could not be fetched now (not yet made, WeChat or the network failing)."""


@dataclass(frozen=True)
class Fetched:
    name: str                   # "tradebill" / "fundflowbill"
    raw: bytes | None           # the decompressed bill; None when there is none or it is bad
    sha1: str = ""
    problem: str = ""           # why a file that came is not to be trusted
    bad_hash: bool = False


def _call(method, *args, **kwargs) -> tuple[int, object]:
    try:
        return method(*args, **kwargs)
    except requests.RequestException as error:
        raise BillUnavailable(f"连接微信支付失败：{type(error).__name__}") from error
    except Exception as error:  # noqa: BLE001 — the library's own, re-raised otherwise
        if not library_failure(error):  # e.g. a response whose signature does not verify
            raise
        raise BillUnavailable(f"微信支付应答未通过验签：{error}") from error


def _error_code(text) -> str:
    try:
        return str(json.loads(text).get("code", ""))
    except (TypeError, ValueError, AttributeError):
        return ""


def fetch(name: str, day: date) -> Fetched:
    try:
        client = pay_v3_client()
    except PayV3NotConfigured as error:
        raise BillUnavailable(str(error)) from error
    if name == "tradebill":
        status, text = _call(client.trade_bill, bill_date=day.isoformat(), bill_type="ALL",
                             tar_type="GZIP")
    else:
        status, text = _call(client.fundflow_bill, bill_date=day.isoformat(),
                             account_type="BASIC", tar_type="GZIP")
    if status != 200:
        if _error_code(text) in NO_BILL_CODES:
            return Fetched(name, b"")
        raise BillUnavailable(f"{name} {day}: 微信支付答复 {status} {str(text)[:200]}")
    try:
        meta = json.loads(text)
        hash_type, hash_value, url = meta["hash_type"], meta["hash_value"], meta["download_url"]
    except (TypeError, ValueError, KeyError) as error:
        raise BillUnavailable(f"{name} {day}: 申请账单的答复格式不对") from error
    status, content = _call(client.download_bill, url)
    if status != 200 or not isinstance(content, bytes):
        raise BillUnavailable(f"{name} {day}: 下载账单答复 {status}")
    try:
        raw = gunzip(content)
    except BillFormatError as error:
        return Fetched(name, None, problem=str(error))
    if not sha1_ok(raw, hash_type, hash_value):
        log.warning("%s %s: hash %s %s does not match the file", name, day, hash_type,
                    hash_value)
        return Fetched(name, None, problem=f"账单的 {hash_type} 校验值 {hash_value} 与文件不符",
                       bad_hash=True)
    return Fetched(name, raw, sha1=hash_value.lower())
