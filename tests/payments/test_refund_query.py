"""Refund query (查询单笔退款) on both APIs: a refund whose notice never came is settled from
WeChat's answer by the handler a notice would have reached, once."""
from __future__ import annotations

import pytest
import requests

from app.payments.models import NoticeVerdict, PaymentNotice
from app.payments.provider import REFUND_CLOSED, REFUND_PROCESSING, REFUND_SUCCEEDED, get_provider
from app.payments.refunds import (QUERY_PROCESSING, QUERY_UNKNOWN, register_refund_handler,
                                  settle_refund_by_query)
from app.extensions import db
from tests.payments.helpers import start


@pytest.fixture(params=["v3", "v2"])
def api(request, app):
    if request.param == "v2":
        request.getfixturevalue("pay_api_v2")
    return request.param


def paid_and_refunded(standin, campaign, donor, out_refund_no: str, refund_fen: int = 20_00):
    """A paid order refunded without a notify URL: only a query can tell how it ended."""
    payment = start(campaign, donor, 50_00)
    requests.post(f"{standin.base_url}standin/pay/{payment.out_trade_no}/pay", timeout=10)
    provider = get_provider(payment.provider)
    provider.refund(payment.out_trade_no, out_refund_no, 50_00, refund_fen, "测试退款", None)
    return payment, provider


def test_the_query_reads_a_refund_as_its_notice_would(app, api, standin, live_campaign, donor):
    number = f"XZQUERY{api}01"  # the stand-in lives for the whole run: a number per API
    payment, provider = paid_and_refunded(standin, live_campaign, donor, number)
    answer = provider.query_refund(number)
    assert (answer.status, answer.refund_fee, answer.total_fee, answer.out_trade_no) == \
        (REFUND_SUCCEEDED, 20_00, 50_00, payment.out_trade_no)
    assert answer.refund_id == standin.state.refunds[number]["refund_id"]
    assert provider.query_refund("XZNEVERSENT01") is None
    for wechat, neutral in (("PROCESSING", REFUND_PROCESSING), ("CLOSED", REFUND_CLOSED)):
        standin.state.refunds[number]["status"] = wechat
        assert provider.query_refund(number).status == neutral


def test_a_lost_notice_is_settled_by_query_through_the_handler(app, api, standin,
                                                                live_campaign, donor):
    seen = []

    def handler(notice):
        seen.append(notice)
        return NoticeVerdict.processed if len(seen) == 1 else NoticeVerdict.duplicate

    register_refund_handler(app, "XZLOST", handler)
    number = f"XZLOST{api}0001"
    payment, provider = paid_and_refunded(standin, live_campaign, donor, number)
    standin.state.refunds[number]["status"] = "PROCESSING"
    assert settle_refund_by_query(number, payment.provider) == QUERY_PROCESSING
    assert seen == []  # still under way: nothing to settle
    standin.state.refunds[number]["status"] = "SUCCESS"
    assert settle_refund_by_query(number, payment.provider) == "processed"
    assert settle_refund_by_query(number, payment.provider) == "duplicate"
    assert [n.status for n in seen] == [REFUND_SUCCEEDED] * 2 and seen[0].refund_fee == 20_00
    logged = db.session.scalars(db.select(PaymentNotice).where(
        PaymentNotice.source == "refund", PaymentNotice.out_trade_no == payment.out_trade_no)
        .order_by(PaymentNotice.id)).all()
    assert [n.verdict for n in logged] == [NoticeVerdict.processed, NoticeVerdict.duplicate]
    assert all("(by query)" in n.detail for n in logged)
    assert settle_refund_by_query("XZLOSTNONE01", payment.provider) == QUERY_UNKNOWN
