"""Parsing WeChat Pay's bill files exactly, by column name, into integer fen."""
from __future__ import annotations

import pytest

from app.bills.parse import (BillFormatError, gunzip, parse_fundflow_bill, parse_trade_bill,
                             rate_to_bp, sha1_ok, yuan_to_fen)
from tests.bills.samples import FUNDFLOW, TRADE_ALL, TRADE_OLD_ORDER, as_download, encoded


def test_the_trade_bill_as_wechat_publishes_it():
    bill = parse_trade_bill(encoded(TRADE_ALL))
    assert bill.problems == []
    first, second, refund = bill.lines
    assert (first.kind, first.ref, first.amount_fen, first.fee_fen, first.fee_rate_bp) == \
        ("payment", "XZ20241110163345A1", 300_00, 1_80, 60)
    assert first.transaction_id == "4200001690740201411100005734289"  # no backtick, no float
    assert (second.amount_fen, second.fee_fen) == (29, 0)
    # A refund is keyed by our out_refund_no; the fee WeChat gave back is shown negative.
    assert (refund.kind, refund.ref, refund.out_trade_no, refund.amount_fen, refund.fee_fen,
            refund.status) == ("refund", "XZRF0000000001", "XZ20241110163345A1", 100_00, 60,
                               "SUCCESS")
    assert bill.summary == {"count": 3, "fee_total_fen": 1_20, "refund_total_fen": 100_00}


def test_columns_are_read_by_name_not_position_and_a_bom_is_optional():
    bill = parse_trade_bill(encoded(TRADE_OLD_ORDER, bom=False))
    (line,) = bill.lines
    assert (line.ref, line.amount_fen, line.fee_fen) == ("XZ1", 1_234_567_89, 7_407_41)
    assert bill.problems == []


@pytest.mark.parametrize("text, fen", [("0.29", 29), ("0.1", 10), ("0.07", 7), ("-0.60", -60),
                                       ("1234567.89", 123456789), ("0", 0), ("0.0", 0),
                                       ("99999999999.99", 9999999999999)])
def test_yuan_become_fen_exactly(text, fen):
    assert yuan_to_fen(text) == fen and type(yuan_to_fen(text)) is int


@pytest.mark.parametrize("text", ["1.234", "1,000.00", "abc", "", "1e3", "¥1.00", " . "])
def test_what_is_not_an_amount_is_refused(text):
    with pytest.raises(BillFormatError):
        yuan_to_fen(text)


def test_rates_in_basis_points():
    assert (rate_to_bp("0.60%"), rate_to_bp("0.38%"), rate_to_bp("")) == (60, 38, None)


def test_the_fund_flow_bill_and_its_transfers():
    bill = parse_fundflow_bill(encoded(FUNDFLOW))
    assert bill.problems == []
    income, fee, transfer = bill.lines
    assert (income.income, income.amount_fen, income.balance_fen, income.voucher) == \
        (True, 300_00, 300_00, "XZ20241110163345A1")
    assert (fee.income, fee.amount_fen, fee.type) == (False, 1_80, "扣除交易手续费")
    assert transfer.is_transfer and (transfer.voucher, transfer.amount_fen) == \
        ("XZTB0000000001", 88_00)
    assert not income.is_transfer


def test_a_transfer_line_is_money_paid_out_under_either_name():
    paid_out = FUNDFLOW.replace("`商家转账,`支出", "`企业付款到零钱,`支出")
    (transfer,) = [line for line in parse_fundflow_bill(encoded(paid_out)).lines
                   if line.is_transfer]
    assert transfer.voucher == "XZTB0000000001"
    # Money coming back under a transfer's name is not a transfer WeChat paid.
    back = FUNDFLOW.replace("`商家转账,`支出", "`商家转账,`收入").replace(
        "`3,`1,`300.00,`2,`89.80", "`3,`2,`388.00,`1,`1.80")
    assert not [line for line in parse_fundflow_bill(encoded(back)).lines if line.is_transfer]


def test_a_summary_that_disagrees_with_the_lines_is_a_problem_not_a_crash():
    bill = parse_trade_bill(encoded(TRADE_ALL.replace("`3,`300.29,`100.00,`0.00,`1.20",
                                                      "`4,`300.29,`100.00,`0.00,`1.21")))
    assert len(bill.lines) == 3 and len(bill.problems) == 2
    flow = parse_fundflow_bill(encoded(FUNDFLOW.replace("`2,`89.80", "`2,`89.81")))
    assert [p for p in flow.problems if "expense_fen" in p]


@pytest.mark.parametrize("raw", [
    b"",
    "交易时间,商户订单号\r\n`2024-11-10,`X\r\n".encode(),                    # no summary
    TRADE_ALL.replace("`JSAPI,`SUCCESS", "`JSAPI,`WHATEVER", 1).encode(),  # unknown state
    TRADE_ALL.replace(",手续费,", ",服务费,").encode(),                    # a needed column gone
    TRADE_ALL.replace("`300.00,`0.00,`0,", "`300.00,`0.00,", 1).encode(),  # a row too short
    "交易时间".encode("gbk") + b"\xff\xfe",                                   # not UTF-8
])
def test_a_file_that_is_not_a_bill_is_refused_with_a_reason(raw):
    with pytest.raises(BillFormatError) as refused:
        parse_trade_bill(raw)
    assert str(refused.value)


def test_the_hash_is_sha1_of_the_bill_before_gzip():
    raw = encoded(TRADE_ALL)
    compressed, digest = as_download(raw)
    assert gunzip(compressed) == raw
    assert sha1_ok(raw, "SHA1", digest) and sha1_ok(raw, "sha1", digest.upper())
    assert not sha1_ok(raw + b" ", "SHA1", digest)
    assert not sha1_ok(compressed, "SHA1", digest)
    assert not sha1_ok(raw, "MD5", digest)
    with pytest.raises(BillFormatError):
        gunzip(b"not gzip at all")
