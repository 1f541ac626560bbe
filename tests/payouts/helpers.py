"""Campaigns taken through the real services, donations paid by signed notices, refund notices
as the stand-in makes them."""
from __future__ import annotations

import secrets

import requests
from flask import current_app
from sqlalchemy import func, select

from app.config import standin_credentials
from app.extensions import db
from app.ledger.models import LedgerTransaction
from app.review import decisions, services
from app.core.uploads import check_bytes
from app.wechat_standin.pay import refund_notice_xml
from tests.payments.helpers import acknowledged, notice_for, post_notice, start
from tests.review.files import jpeg_bytes, pdf_bytes
from tests.review.helpers import approve_all, submitted_ready

CREDS = standin_credentials()
# The `funded` campaign: ¥300 + ¥500 + ¥1,200 given; WeChat Pay's 0.6% fee on each (¥1.80, ¥3
# and ¥7.20) leaves custody with ¥1,988.
FUNDED_RAISED_FEN = 2_000_00
FUNDED_FEES_FEN = 12_00
FUNDED_NET_FEN = FUNDED_RAISED_FEN - FUNDED_FEES_FEN


def verified_campaign(organizer, reviewer, finance, payee_kind: str = "hospital", **fields):
    """Submitted with documents and real names, approved, payee saved and verified by finance."""
    from app.campaigns.services import approve_campaign

    campaign = submitted_ready(organizer, **fields)
    approve_all(campaign, reviewer)
    approve_campaign(campaign, by_staff=reviewer, reason="材料齐全")
    services.save_payee(campaign, organizer, kind=payee_kind, account_name="北京儿童医院",
                        bank_name="中国工商银行北京分行", account_number="6222020200112233445")
    decisions.verify_payee(campaign.id, finance, ok=True)
    return campaign


def donate(client, campaign, user, amount_fen: int):
    """A donation ordered at the stand-in (unifiedorder), paid there, and its signed notice
    delivered to us — so the stand-in can refund it later."""
    payment = start(campaign, user, amount_fen)
    paid = requests.post(f"{current_app.config['WECHAT_API_BASE']}standin/pay/"
                         f"{payment.out_trade_no}/pay", timeout=5).json()
    notice = notice_for(payment, transaction_id=paid["transaction_id"])
    assert acknowledged(post_notice(client, notice))
    return payment


def invoice(kind: str = "jpeg"):
    return check_bytes(pdf_bytes(1) if kind == "pdf" else jpeg_bytes((400, 300)))


def receipt():
    return check_bytes(jpeg_bytes((320, 480)))


def refund_notice(refund, status: str = "SUCCESS", total_fee: int | None = None,
                  refund_fee: int | None = None, api_key: str | None = None,
                  out_trade_no: str | None = None) -> bytes:
    """A refund notice with encrypted req_info, made by the stand-in's own code."""
    xml = refund_notice_xml({
        "out_refund_no": refund.out_refund_no,
        "out_trade_no": out_trade_no or refund.out_trade_no,
        "refund_fee": refund.amount_fen if refund_fee is None else refund_fee,
        "refund_id": f"50000{secrets.randbelow(10 ** 23):023d}",
        "transaction_id": "4200000000000000000000000000",
        "total_fee": refund.donated_fen if total_fee is None else total_fee,
        "success_time": "2026-11-28 12:00:00"},
        CREDS["WECHAT_APPID"], CREDS["WECHAT_MCH_ID"], api_key or CREDS["WECHAT_API_KEY"])
    if status != "SUCCESS":
        xml = refund_notice_with_status(refund, status, api_key)
    return xml.encode()


def refund_notice_with_status(refund, status: str, api_key: str | None = None) -> str:
    """The stand-in only sends SUCCESS; WeChat also sends CHANGE and REFUNDCLOSE."""
    import base64
    import hashlib

    import xmltodict
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    from wechatpy.pay.utils import dict_to_xml

    inner = xmltodict.unparse({"root": {
        "out_refund_no": refund.out_refund_no, "out_trade_no": refund.out_trade_no,
        "refund_fee": refund.amount_fen, "total_fee": refund.donated_fen,
        "refund_id": "5000", "refund_status": status}}, full_document=False)
    key = hashlib.md5((api_key or CREDS["WECHAT_API_KEY"]).encode()).hexdigest().encode()
    padder = padding.PKCS7(128).padder()
    plain = padder.update(inner.encode()) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    req_info = base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()
    return dict_to_xml({"return_code": "SUCCESS", "appid": CREDS["WECHAT_APPID"],
                        "mch_id": CREDS["WECHAT_MCH_ID"], "nonce_str": "n", "req_info": req_info})


def post_refund_notice(client, body: bytes):
    return client.post("/wechat/pay/refund_notify", data=body, content_type="text/xml")


def ledger_count(source_type: str) -> int:
    return db.session.scalar(select(func.count()).select_from(LedgerTransaction)
                             .where(LedgerTransaction.source_type == source_type))


def pay_out(withdrawal_id: int, reviewer, finance, reason: str = ""):
    """Four eyes: a reviewer approves against the documents, finance releases the money."""
    from app.payouts import withdrawal_decisions

    withdrawal_decisions.approve_withdrawal(withdrawal_id, reviewer, reason)
    return withdrawal_decisions.release_withdrawal(withdrawal_id, finance)
