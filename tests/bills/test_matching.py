"""Holding bill lines against ledger lines, on values (no database): what each difference is."""
from __future__ import annotations

from app.bills.ledger_side import LedgerLine
from app.bills.matching import BillLine, match
from app.bills.models import FindingKind as K


def line(kind, ref, amount, fee=0, row=2):
    return BillLine(kind, ref, amount, fee, row, "tradebill")


def posted(kind, ref, amount, fee=0, transactions=1):
    return LedgerLine(kind, ref, amount, fee, transactions)


def kinds(findings):
    return sorted((f.kind, f.line_kind, f.ref) for f in findings)


def test_equal_lines_match():
    bill = [line("payment", "P1", 100_00, 60), line("refund", "R1", 50_00, 30)]
    ledger = {("payment", "P1"): posted("payment", "P1", 100_00, 60),
              ("refund", "R1"): posted("refund", "R1", 50_00, 30)}
    assert match(bill, ledger, set(ledger)) == []


def test_every_kind_of_difference():
    bill = [line("payment", "P1", 100_00, 60), line("payment", "P1", 100_00, 60, row=3),
            line("payment", "P2", 100_00, 60), line("refund", "R1", 50_00, 30),
            line("refund", "P3", 1_00, 0)]
    ledger = {("payment", "P1"): posted("payment", "P1", 100_00, 60, transactions=2),
              ("payment", "P2"): posted("payment", "P2", 99_00, 60),
              ("refund", "R1"): posted("refund", "R1", 50_00, 29),
              ("payment", "P3"): posted("payment", "P3", 1_00),
              ("payment", "P4"): posted("payment", "P4", 5_00, transactions=0)}
    found = match(bill, ledger, set(ledger))
    assert kinds(found) == sorted([
        (K.duplicate_in_bill, "payment", "P1"), (K.duplicate_in_ledger, "payment", "P1"),
        (K.amount_differs, "payment", "P2"), (K.fee_differs, "refund", "R1"),
        # a refund is not the payment of the same number: each side misses its own
        (K.missing_in_ledger, "refund", "P3"), (K.missing_in_bill, "payment", "P3")])
    fee = next(f for f in found if f.kind == K.fee_differs)
    assert (fee.bill_fen, fee.ledger_fen) == (30, 29) and "以此为准" in fee.detail


def test_transfers_compare_amounts_only_and_other_days_lines_are_not_missing():
    transfer = BillLine("transfer", "T1", 88_00, None, 4, "fundflowbill")
    ledger = {("transfer", "T1"): posted("transfer", "T1", 88_00, fee=0),
              ("payment", "EARLY"): posted("payment", "EARLY", 1_00),
              ("payment", "OLD"): posted("payment", "OLD", 1_00)}
    # OLD was posted another day (not in posted_that_day); EARLY is in yesterday's bill.
    assert match([transfer], ledger, {("transfer", "T1"), ("payment", "EARLY")},
                 billed_elsewhere={("payment", "EARLY")}) == []
