"""A repayment paid as WeChat Pay would: ordered, paid at the stand-in, its signed notice
delivered to us."""
from __future__ import annotations

import secrets

import requests
from flask import current_app

from app.pledges import services as pledges
from tests.payments.helpers import acknowledged, notice_for, post_notice


def repay(client, pledge, organizer, amount=None):
    payment = pledges.start_repayment(pledge.id, organizer, amount, secrets.token_hex(12),
                                      "NATIVE", "127.0.0.1")
    paid = requests.post(f"{current_app.config['WECHAT_API_BASE']}standin/pay/"
                         f"{payment.out_trade_no}/pay", timeout=5).json()
    assert acknowledged(post_notice(client, notice_for(
        payment, transaction_id=paid["transaction_id"])))
    return payment
