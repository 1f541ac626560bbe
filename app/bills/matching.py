"""Holding a day's bill lines against the ledger's. Pure: values in, findings out.

Every line of the bill (a payment, a refund, a transfer) must have exactly one ledger
transaction with the same amount and, where WeChat charges one, the same fee — the bill's fee is
the truth, the fee we booked was our own computation. Every WeChat line the ledger posted that
day must be in the bill. A line posted just after midnight may be in the previous day's bill
(WeChat dates a payment by its success time, we post it when the notice arrives):
`billed_elsewhere` names the keys found there.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from app.bills.ledger_side import LedgerLine
from app.bills.models import FindingKind
from app.bills.parse import FundLine, TradeLine
from app.models_base import format_yuan

K = FindingKind


@dataclass(frozen=True)
class BillLine:
    kind: str
    ref: str
    amount_fen: int
    fee_fen: int | None     # None: WeChat charges no fee on this kind of line
    row: int
    bill: str               # "tradebill" / "fundflowbill"

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.ref)


@dataclass(frozen=True)
class Finding:
    kind: FindingKind
    ref: str
    line_kind: str = ""
    bill_fen: int | None = None
    ledger_fen: int | None = None
    detail: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind.value, self.line_kind, self.ref)


def from_trade(line: TradeLine) -> BillLine:
    return BillLine(line.kind, line.ref, line.amount_fen, line.fee_fen, line.row, "tradebill")


def from_fund(line: FundLine) -> BillLine:
    return BillLine("transfer", line.voucher, line.amount_fen, None, line.row, "fundflowbill")


LABELS = {"payment": "支付", "refund": "退款", "transfer": "转账"}


def _yuan(fen: int) -> str:
    return f"¥{format_yuan(fen)}"


def match(bill: Iterable[BillLine], ledger: dict[tuple[str, str], LedgerLine],
          posted_that_day: set[tuple[str, str]],
          billed_elsewhere: set[tuple[str, str]] = frozenset()) -> list[Finding]:
    findings: list[Finding] = []
    first: dict[tuple[str, str], BillLine] = {}
    for line in bill:
        if line.key in first:
            findings.append(Finding(K.duplicate_in_bill, line.ref, line.kind, line.amount_fen,
                                    detail=f"{line.bill} 第 {first[line.key].row} 行与第 "
                                           f"{line.row} 行是同一笔{LABELS[line.kind]}"))
            continue
        first[line.key] = line
    for key, line in first.items():
        label = LABELS[line.kind]
        posted = ledger.get(key)
        if posted is None or posted.transactions <= 0:
            findings.append(Finding(K.missing_in_ledger, line.ref, line.kind, line.amount_fen,
                                    detail=f"微信账单有这笔{label} {_yuan(line.amount_fen)}"
                                           f"（{line.bill} 第 {line.row} 行），账本没有记账"))
            continue
        if posted.transactions > 1:
            findings.append(Finding(K.duplicate_in_ledger, line.ref, line.kind, line.amount_fen,
                                    posted.amount_fen,
                                    f"账本为这笔{label}记了 {posted.transactions} 笔交易"))
        if posted.amount_fen != line.amount_fen:
            findings.append(Finding(K.amount_differs, line.ref, line.kind, line.amount_fen,
                                    posted.amount_fen,
                                    f"{label}金额：账单 {_yuan(line.amount_fen)}，账本 "
                                    f"{_yuan(posted.amount_fen)}"))
        if line.fee_fen is not None and posted.fee_fen != line.fee_fen:
            findings.append(Finding(K.fee_differs, line.ref, line.kind, line.fee_fen,
                                    posted.fee_fen,
                                    f"{label}手续费：账单 {_yuan(line.fee_fen)}（以此为准），"
                                    f"账本 {_yuan(posted.fee_fen)}"))
    for key in sorted(posted_that_day - first.keys() - set(billed_elsewhere)):
        posted = ledger[key]
        if posted.transactions <= 0:
            continue  # posted and reversed: no money claims WeChat
        findings.append(Finding(K.missing_in_bill, posted.ref, posted.kind, None,
                                posted.amount_fen,
                                f"账本记了这笔{LABELS.get(posted.kind, posted.kind)} "
                                f"{_yuan(posted.amount_fen)}，微信账单没有"))
    return findings
