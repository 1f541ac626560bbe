"""WeChat Pay's daily bills as published (交易账单 tradebill, 资金账单 fundflowbill). Pure: bytes
in, values out, no database and no Flask.

A bill file is CSV text in UTF-8 (sometimes with a BOM), in four parts: a header row of Chinese
column names, one detail row per order / refund / fund movement with every field prefixed by a
backtick (`) so that spreadsheets keep long numbers, then a summary header (总交易单数,… or
资金流水总笔数,…) and its one row, prefixed the same way. Columns are read by name: WeChat says
their order may change. Amounts are yuan with at most two decimals, read exactly as Decimal and
kept as integer fen. The download is gzip (tar_type=GZIP); `hash_value` is the SHA1 of the
original, decompressed bill, checked before a byte of it is parsed.
"""
from __future__ import annotations

import csv
import gzip
import hashlib
import hmac
import io
import re
import zlib
from dataclasses import dataclass, field
from decimal import Decimal

YUAN = re.compile(r"^-?\d+(\.\d{1,2})?$")
RATE = re.compile(r"^(\d+(\.\d+)?)%$")
TRADE_SUMMARY_FIRST = "总交易单数"
FUND_SUMMARY_FIRST = "资金流水总笔数"
# 业务类型 of the fund-flow lines that are money sent to people (商家转账, formerly 企业付款).
# WeChat's published file format names the columns but not the values of 业务类型; these are
# the product's names, read as prefixes so that "商家转账到零钱" or "企业付款到零钱" count too.
TRANSFER_TYPES = ("商家转账", "企业付款")


class BillFormatError(ValueError):
    """The file is not a bill of the expected kind (the message says where and why)."""


def yuan_to_fen(text: str, where: str = "") -> int:
    """"12.34" → 1234, exactly (Decimal, never float); "-0.07" → -7."""
    value = (text or "").strip()
    if not YUAN.match(value):
        raise BillFormatError(f"{where}: 金额 {text!r} 不是元为单位、至多两位小数的数")
    return int(Decimal(value) * 100)


def rate_to_bp(text: str) -> int | None:
    """"0.60%" → 60 basis points; None when the bill leaves it empty."""
    value = (text or "").strip()
    if not value:
        return None
    match = RATE.match(value)
    if not match:
        raise BillFormatError(f"费率 {text!r} 格式错误")
    return int(Decimal(match[1]) * 100)


def sha1_ok(raw: bytes, hash_type: str, hash_value: str) -> bool:
    if (hash_type or "").upper() != "SHA1":
        return False
    return hmac.compare_digest(hashlib.sha1(raw).hexdigest(), (hash_value or "").lower())


def gunzip(data: bytes) -> bytes:
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as error:
        raise BillFormatError(f"账单文件不是有效的 gzip：{error}") from error


def _cell(value: str) -> str:
    value = value.strip()
    return value[1:] if value.startswith("`") else value


def _table(raw: bytes, summary_first: str) -> tuple[list[dict], dict]:
    """(the detail rows by column name, each with its line number as "_row"; the summary row
    by name)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise BillFormatError(f"账单不是 UTF-8 文本：{error}") from error
    rows = [row for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)]
    if not rows:
        raise BillFormatError("账单为空")
    header = [name.strip() for name in rows[0]]
    at = next((i for i, row in enumerate(rows) if row and row[0].strip() == summary_first), None)
    if at is None or at + 1 >= len(rows):
        raise BillFormatError(f"账单缺少汇总部分（{summary_first}）")
    if len(rows) != at + 2:
        raise BillFormatError("汇总数据之后还有多余的行")
    details = []
    for number, row in enumerate(rows[1:at], start=2):
        if len(row) != len(header):
            raise BillFormatError(f"第 {number} 行有 {len(row)} 列，表头有 {len(header)} 列")
        details.append({"_row": number, **{name: _cell(v) for name, v in zip(header, row)}})
    summary_header = [name.strip() for name in rows[at]]
    summary_row = rows[at + 1]
    if len(summary_row) != len(summary_header):
        raise BillFormatError("汇总数据与汇总表头的列数不同")
    return details, {n: _cell(v) for n, v in zip(summary_header, summary_row)}


def _need(row: dict, name: str) -> str:
    if name not in row:
        raise BillFormatError(f"账单缺少列“{name}”")
    return row[name]


def _first(row: dict, *names: str) -> str:
    """The first of the named columns the bill has (WeChat added 订单金额 and 申请退款金额
    beside 应结订单金额 and 退款金额 for merchants on 免充值券 settlement)."""
    for name in names:
        if name in row:
            return row[name]
    raise BillFormatError(f"账单缺少列“{names[0]}”")


# --- the trade bill -------------------------------------------------------------------------

@dataclass(frozen=True)
class TradeLine:
    """One payment (交易状态 SUCCESS) or refund (REFUND) of the trade bill, in fen. `fee_fen`
    is the 手续费 as WeChat charged it: positive on a payment, and on a refund the part of the
    fee WeChat gave back (the bill shows it negative; kept here as a positive amount)."""

    kind: str               # "payment" / "refund"
    ref: str                # out_trade_no, or out_refund_no for a refund
    out_trade_no: str
    transaction_id: str
    amount_fen: int
    fee_fen: int
    fee_rate_bp: int | None
    time: str
    status: str
    row: int


@dataclass
class TradeBill:
    lines: list[TradeLine]
    summary: dict[str, int]
    problems: list[str] = field(default_factory=list)  # the summary disagrees with the lines


def parse_trade_bill(raw: bytes) -> TradeBill:
    details, summary_row = _table(raw, TRADE_SUMMARY_FIRST)
    lines: list[TradeLine] = []
    fee_total = refund_total = 0
    for row in details:
        where = f"第 {row['_row']} 行"
        state = _need(row, "交易状态")
        fee = yuan_to_fen(_need(row, "手续费"), where)
        fee_total += fee
        common = dict(out_trade_no=_need(row, "商户订单号"),
                      transaction_id=_need(row, "微信订单号"), time=_need(row, "交易时间"),
                      fee_rate_bp=rate_to_bp(row.get("费率", "")), row=row["_row"])
        if state == "REFUND":
            refunded = yuan_to_fen(_need(row, "退款金额"), where)
            refund_total += refunded
            lines.append(TradeLine(
                kind="refund", ref=_need(row, "商户退款单号"),
                amount_fen=yuan_to_fen(_first(row, "申请退款金额", "退款金额"), where),
                fee_fen=abs(fee), status=_need(row, "退款状态"), **common))
        elif state in ("SUCCESS", "REVOKED"):
            lines.append(TradeLine(
                kind="payment", ref=common["out_trade_no"],
                amount_fen=yuan_to_fen(_first(row, "订单金额", "应结订单金额"), where),
                fee_fen=fee, status=state, **common))
        else:
            raise BillFormatError(f"{where}：未知的交易状态 {state!r}")
    summary = {"count": _count(summary_row, TRADE_SUMMARY_FIRST),
               "fee_total_fen": yuan_to_fen(_need(summary_row, "手续费总金额"), "汇总"),
               "refund_total_fen": yuan_to_fen(_need(summary_row, "退款总金额"), "汇总")}
    problems = []
    if summary["count"] != len(lines):
        problems.append(f"汇总的总交易单数 {summary['count']} ≠ 明细 {len(lines)} 行")
    if summary["fee_total_fen"] != fee_total:
        problems.append(f"汇总的手续费总金额 {summary['fee_total_fen']} 分 ≠ 明细合计 {fee_total} 分")
    if summary["refund_total_fen"] != refund_total:
        problems.append(f"汇总的退款总金额 {summary['refund_total_fen']} 分 ≠ 明细合计 "
                        f"{refund_total} 分")
    return TradeBill(lines, summary, problems)


def _count(row: dict, name: str) -> int:
    value = _need(row, name)
    if not value.isdigit():
        raise BillFormatError(f"汇总的“{name}” {value!r} 不是整数")
    return int(value)


# --- the fund-flow bill ---------------------------------------------------------------------

@dataclass(frozen=True)
class FundLine:
    booked_at: str          # 记账时间
    transaction_id: str     # 微信支付业务单号
    flow_id: str            # 资金流水单号
    name: str               # 业务名称
    type: str               # 业务类型
    income: bool            # 收支类型 收入 (else 支出)
    amount_fen: int         # 收支金额, positive
    balance_fen: int        # 账户结余
    voucher: str            # 业务凭证号 (the merchant's own number, e.g. out_bill_no)
    row: int

    @property
    def is_transfer(self) -> bool:
        """Money WeChat paid out to a person (a 支出 line of 商家转账)."""
        return not self.income and self.type.startswith(TRANSFER_TYPES)


@dataclass
class FundFlowBill:
    lines: list[FundLine]
    summary: dict[str, int]
    problems: list[str] = field(default_factory=list)


def parse_fundflow_bill(raw: bytes) -> FundFlowBill:
    details, summary_row = _table(raw, FUND_SUMMARY_FIRST)
    lines = []
    for row in details:
        where = f"第 {row['_row']} 行"
        direction = _need(row, "收支类型")
        if direction not in ("收入", "支出"):
            raise BillFormatError(f"{where}：未知的收支类型 {direction!r}")
        lines.append(FundLine(
            booked_at=_need(row, "记账时间"), transaction_id=_need(row, "微信支付业务单号"),
            flow_id=_need(row, "资金流水单号"), name=_need(row, "业务名称"),
            type=_need(row, "业务类型"), income=direction == "收入",
            amount_fen=abs(yuan_to_fen(_need(row, "收支金额(元)"), where)),
            balance_fen=yuan_to_fen(_need(row, "账户结余(元)"), where),
            voucher=row.get("业务凭证号", ""), row=row["_row"]))
    summary = {"count": _count(summary_row, FUND_SUMMARY_FIRST),
               "income_count": _count(summary_row, "收入笔数"),
               "income_fen": yuan_to_fen(_need(summary_row, "收入金额"), "汇总"),
               "expense_count": _count(summary_row, "支出笔数"),
               "expense_fen": yuan_to_fen(_need(summary_row, "支出金额"), "汇总")}
    incomes = [line for line in lines if line.income]
    expenses = [line for line in lines if not line.income]
    actual = {"count": len(lines), "income_count": len(incomes),
              "income_fen": sum(line.amount_fen for line in incomes),
              "expense_count": len(expenses),
              "expense_fen": sum(line.amount_fen for line in expenses)}
    problems = [f"资金账单汇总 {name} 为 {summary[name]}，明细合计 {actual[name]}"
                for name in summary if summary[name] != actual[name]]
    return FundFlowBill(lines, summary, problems)
