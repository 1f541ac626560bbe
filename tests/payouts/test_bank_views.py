"""Finance's bank console clicked through: queued payouts, the batch file, the stand-in bank's
result file uploaded back, findings shown; only finance gets in; a bad upload says why."""
from __future__ import annotations

import io
import threading

import pytest
from sqlalchemy import func, select

from app.custody_bank import batches
from app.custody_bank.models import BankBatch, BankPayoutLine
from app.extensions import db
from tests.payouts.bank_helpers import released, rewrite, status_of


@pytest.fixture(autouse=True)
def bank(app, monkeypatch):
    monkeypatch.setitem(app.config, "PAYOUT_PROVIDER", "bank_batch")


def _upload(client, path: str, data: bytes, name: str = "result.txt"):
    return client.post(path, data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data", follow_redirects=True)


def test_the_loop_in_the_console(funded, patient, staff, finance, finance_client, run_jobs):
    refs = released(funded, patient, staff, finance, 300_00, 200_00)
    page = finance_client.get("/staff/finance/bank/").get_data(as_text=True)
    assert 'data-queued="2"' in page and "生成批次文件" in page
    built = finance_client.post("/staff/finance/bank/batches", follow_redirects=True)
    text = built.get_data(as_text=True)
    batch = db.session.scalar(select(BankBatch))
    assert batch.batch_no in text and "北京" in text and "6222020200112233445" not in text
    download = finance_client.get(f"/staff/finance/bank/batches/{batch.id}/file")
    assert download.data == batch.file_bytes and "attachment" in download.headers[
        "Content-Disposition"]
    result = finance_client.post(f"/staff/finance/bank/batches/{batch.id}/standin-result").data
    shown = _upload(finance_client, "/staff/finance/bank/results", result).get_data(as_text=True)
    run_jobs()
    assert "回单已导入：2 笔相符，0 项待核对" in shown
    assert [status_of(ref) for ref in refs] == ["paid", "paid"]
    again = _upload(finance_client, "/staff/finance/bank/results", result).get_data(as_text=True)
    assert "已导入过，未做任何改动" in again


def test_a_changed_amount_shows_as_a_finding(funded, patient, staff, finance, finance_client):
    released(funded, patient, staff, finance, 300_00)
    batch = batches.build_batch(finance)
    result = finance_client.post(f"/staff/finance/bank/batches/{batch.id}/standin-result").data
    changed = rewrite(result, lambda rows: rows[0].update(amount="3000.00"))
    page = _upload(finance_client, "/staff/finance/bank/results", changed).get_data(as_text=True)
    assert 'data-finding="amount_changed"' in page and "1 项待核对" in page


@pytest.mark.parametrize("data, message", [(b"", "请选择银行的回单文件"),
                                           (b"not a bank file", "回单文件无法读取")])
def test_a_bad_upload_says_why(db, finance_client, data, message):
    page = _upload(finance_client, "/staff/finance/bank/results", data)
    assert page.status_code == 200 and message in page.get_data(as_text=True)


def test_only_finance_gets_in(db, staff_client, patient_client):
    assert staff_client.get("/staff/finance/bank/").status_code == 403
    assert patient_client.get("/staff/finance/bank/").status_code == 403


def test_two_finance_people_building_at_once_put_each_payout_in_one_batch(
        app, funded, patient, staff, finance):
    from tests.payouts.bank_helpers import finance_person

    released(funded, patient, staff, finance, 100_00, 200_00, 300_00)
    people = [finance.id, finance_person().id]
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def build(staff_id: int) -> None:
        with app.app_context():
            from app.auth.models import StaffAccount
            try:
                barrier.wait()
                batches.build_batch(db.session.get(StaffAccount, staff_id))
                outcomes.append("built")
            except batches.BankFileError as refused:
                outcomes.append(refused.code)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=build, args=(person,)) for person in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    db.session.expire_all()
    lines = db.session.scalars(select(BankPayoutLine)).all()
    assert len(lines) == 3 and all(line.batch_id is not None for line in lines)
    total = db.session.scalar(select(func.sum(BankBatch.line_count)))
    assert total == 3 and "built" in outcomes
