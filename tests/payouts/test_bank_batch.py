"""The custodian bank paid by batch file, end to end against the stand-in bank: released
withdrawals queue at the bank, finance builds the batch file, the bank's result file settles
each payout exactly once, and whatever in a result file does not agree is a finding that
settles nothing. `ledger verify` is clean after every test (tests/payouts/conftest.py)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.custody_bank import batches
from app.custody_bank.models import BankBatch, BankFinding, BankPayoutLine, BatchStatus, LineState
from app.extensions import db
from app.ledger.services import balance, campaign_custody
from app.payouts.accounts import SOURCE_WITHDRAWAL
from tests.payouts.bank_helpers import bank_result, finance_person, released, rewrite, status_of
from tests.payouts.helpers import FUNDED_NET_FEN, ledger_count


@pytest.fixture(autouse=True)
def bank(app, monkeypatch):
    monkeypatch.setitem(app.config, "PAYOUT_PROVIDER", "bank_batch")


def _findings() -> list[str]:
    return sorted(db.session.scalars(select(BankFinding.kind)))


def test_a_batch_with_one_rejection_settles_each_payout_once(funded, patient, staff, finance,
                                                            run_jobs):
    refs = released(funded, patient, staff, finance, 300_00, 400_00, 500_00)
    run_jobs()
    assert [status_of(ref) for ref in refs] == ["released"] * 3
    batch = batches.build_batch(finance)
    assert batch.line_count == 3 and batch.total_fen == 1_200_00
    text = batch.file_bytes.decode("utf-8")
    assert batch.batch_no in text and "1200.00" in text and all(ref in text for ref in refs)

    result = bank_result(batch, reject={refs[1]})
    report = batches.import_result(result, finance_person())
    run_jobs()
    assert report.settled == 3 and report.findings == []
    assert [status_of(ref) for ref in refs] == ["paid", "failed", "paid"]
    assert balance(campaign_custody(funded.id)) == FUNDED_NET_FEN - 800_00  # the ¥400 stayed
    assert ledger_count(SOURCE_WITHDRAWAL) == 2
    assert db.session.get(BankBatch, batch.id).status == BatchStatus.settled

    again = batches.import_result(result, finance_person("财务小赵"))
    run_jobs()
    assert again.repeated and ledger_count(SOURCE_WITHDRAWAL) == 2
    assert balance(campaign_custody(funded.id)) == FUNDED_NET_FEN - 800_00


def test_a_partial_result_leaves_the_rest_with_the_bank(funded, patient, staff, finance,
                                                        run_jobs):
    refs = released(funded, patient, staff, finance, 100_00, 200_00)
    batch = batches.build_batch(finance)
    first = batches.import_result(bank_result(batch, only={refs[0]}), finance)
    run_jobs()
    assert first.settled == 1 and [status_of(ref) for ref in refs] == ["paid", "released"]
    assert db.session.get(BankBatch, batch.id).status == BatchStatus.partly_settled
    rest = batches.import_result(bank_result(batch), finance)  # the whole batch, one line again
    run_jobs()
    assert rest.settled == 1 and rest.findings == []
    assert [status_of(ref) for ref in refs] == ["paid", "paid"]
    assert ledger_count(SOURCE_WITHDRAWAL) == 2


@pytest.mark.parametrize("change, finding", [
    (lambda rows: rows[0].update(amount="1.00"), "amount_changed"),
    (lambda rows: rows[0].update(name="张三"), "name_changed"),
    (lambda rows: rows[0].update(ref="XZWD999999999999"), "unknown_ref"),
    (lambda rows: rows.append(dict(rows[0])), "duplicate_line"),
    (lambda rows: rows[0].update(status="待定"), "unknown_status"),
])
def test_a_line_that_does_not_agree_is_a_finding_not_a_settlement(
        funded, patient, staff, finance, run_jobs, change, finding):
    (ref,) = released(funded, patient, staff, finance, 300_00)
    batch = batches.build_batch(finance)
    report = batches.import_result(rewrite(bank_result(batch), change), finance)
    run_jobs()
    assert report.settled == 0 and set(_findings()) == {finding}
    assert status_of(ref) == "released" and ledger_count(SOURCE_WITHDRAWAL) == 0
    line = db.session.scalar(select(BankPayoutLine).where(BankPayoutLine.ref == ref))
    assert line.state == LineState.in_batch


def test_totals_that_do_not_add_up_settle_nothing(funded, patient, staff, finance, run_jobs):
    refs = released(funded, patient, staff, finance, 300_00, 200_00)
    batch = batches.build_batch(finance)
    forged = rewrite(bank_result(batch), lambda rows: rows.pop(), keep_totals=False)
    report = batches.import_result(forged, finance)
    assert report.settled == 0 and _findings() == ["totals"]
    assert [status_of(ref) for ref in refs] == ["released", "released"]


def test_a_later_file_cannot_turn_a_rejection_into_a_payment(funded, patient, staff, finance,
                                                             run_jobs):
    (ref,) = released(funded, patient, staff, finance, 300_00)
    batch = batches.build_batch(finance)
    batches.import_result(bank_result(batch, reject={ref}), finance)
    run_jobs()
    success = next(word for word, ours in batches.default_format().result.codes.items()
                   if ours == "succeeded")
    turned = rewrite(bank_result(batch), lambda rows: rows[0].update(status=success))
    report = batches.import_result(turned, finance)
    run_jobs()
    assert report.settled == 0 and _findings() == ["conflict"]
    assert status_of(ref) == "failed" and ledger_count(SOURCE_WITHDRAWAL) == 0


def test_a_line_of_another_batch_settles_nothing(funded, patient, staff, finance, run_jobs):
    (first_ref,) = released(funded, patient, staff, finance, 100_00)
    first = batches.build_batch(finance)
    released(funded, patient, staff, finance, 200_00)
    second = batches.build_batch(finance)
    wrong = rewrite(bank_result(second), lambda rows: rows[0].update(ref=first_ref,
                                                                        amount="100.00",
                                                                        name=rows[0]["name"]))
    batches.import_result(wrong, finance)
    assert "other_batch" in _findings() and status_of(first_ref) == "released"
    assert first.id != second.id


def test_nothing_queued_builds_no_batch(db, finance):
    with pytest.raises(batches.BankFileError, match="没有等待银行付款"):
        batches.build_batch(finance)
    assert db.session.scalar(select(func.count()).select_from(BankBatch)) == 0


def test_a_file_that_is_not_a_result_file_changes_nothing(funded, patient, staff, finance):
    released(funded, patient, staff, finance, 100_00)
    batch = batches.build_batch(finance)
    for data in (b"", b"\xff\xfe garbage", batch.file_bytes, "批次号,XZB0\r\n".encode()):
        with pytest.raises(batches.BankFileError):
            batches.import_result(data, finance)
    assert db.session.scalar(select(func.count()).select_from(BankFinding)) == 0


def test_the_gbk_template_writes_and_reads_its_own_layout(app, monkeypatch, funded, patient,
                                                          staff, finance, run_jobs):
    monkeypatch.setitem(app.config, "BANK_BATCH_FORMAT", "gbk_pipe")
    refs = released(funded, patient, staff, finance, 300_00, 400_00)
    batch = batches.build_batch(finance)
    data = batch.file_bytes
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    text = data.decode("gbk")
    lines = text.split("\r\n")
    assert lines[0] == f"H|{batch.batch_no}|{lines[0].split('|')[2]}|2|70000"
    assert "北京儿童医院" in text and lines[-2].startswith("T|2|70000|")
    report = batches.import_result(bank_result(batch, reject={refs[0]}), finance)
    run_jobs()
    assert report.settled == 2 and [status_of(ref) for ref in refs] == ["failed", "paid"]


def test_a_payee_name_cannot_forge_a_line(funded, patient, staff, finance):
    from app.custody_bank.formats import get_format

    file_format = get_format("xiangzhu_csv")
    data = file_format.write(file_format.batch, {"batch_no": "XZB1", "date": "d", "count": 1,
                                                 "total": "1.00"},
                             [{"ref": "XZWD1", "name": "医院\r\nXZWD2,攻击者,1,2,3,99.00,x",
                               "amount": "1.00"}])
    parsed = file_format.read(file_format.batch, data)
    assert [row["ref"] for _, row in parsed.rows] == ["XZWD1"]
