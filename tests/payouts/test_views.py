"""The pages: the organizer's withdrawal form, finance's console, receipts made public, the
leftover statement, notices; who may see what."""
from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from app.campaigns.services import end_campaign
from app.extensions import db
from app.payouts import documents, withdrawals
from app.payouts.models import DocKind, PayoutDocument, Withdrawal, WithdrawalStatus
from tests.factories import StaffFactory, UserFactory
from tests.payouts.helpers import invoice, pay_out
from tests.review.files import jpeg_bytes


def _paid_withdrawal(campaign, organizer, finance, run_jobs, amount=800_00):
    withdrawal = withdrawals.request_withdrawal(campaign.id, organizer, amount, "支付住院押金",
                                                invoices=[invoice()])
    pay_out(withdrawal.id, StaffFactory(), finance)
    run_jobs()
    return withdrawal


def test_the_organizer_asks_on_the_withdrawal_page(app, funded, patient, finance):
    client = app.test_client(user=patient)
    page = client.get(f"/c/{funded.id}/withdraw").get_data(as_text=True)
    # ¥2,000 raised less WeChat Pay's fees (¥12) can be withdrawn
    assert "可提现" in page and "¥1,988" in page and "医院对公账户 · 北京儿童医院" in page
    refused = client.post(f"/c/{funded.id}/withdraw", data={
        "amount": "1988.01", "purpose": "支付住院押金",
        "invoices": [(io.BytesIO(jpeg_bytes((300, 200))), "bill.jpg")]},
        content_type="multipart/form-data")
    assert refused.status_code == 422
    assert "提现金额超过可提现余额（当前可提现 ¥1,988）" in refused.get_data(as_text=True)
    assert db.session.scalar(select(Withdrawal.id)) is None
    done = client.post(f"/c/{funded.id}/withdraw", data={
        "amount": "1,500.5", "purpose": "支付住院押金",
        "invoices": [(io.BytesIO(jpeg_bytes((300, 200))), "bill.jpg")]},
        content_type="multipart/form-data", follow_redirects=True)
    assert "提现申请已提交" in done.get_data(as_text=True)
    assert db.session.scalar(select(Withdrawal.amount_fen)) == 1_500_50
    assert app.test_client(user=finance).get(f"/c/{funded.id}/withdraw").status_code == 403
    other = app.test_client(user=UserFactory(nickname="路人"))
    assert other.get(f"/c/{funded.id}/withdraw").status_code == 404


def test_the_console_takes_each_step_from_a_different_person(app, funded, patient, finance,
                                                             staff, donors, run_jobs):
    withdrawal = withdrawals.request_withdrawal(funded.id, patient, 500_00, "化疗费",
                                                invoices=[invoice("pdf")])
    reviewer, console = app.test_client(user=staff), app.test_client(user=finance)
    queue = reviewer.get("/staff/payouts/").get_data(as_text=True)
    assert "¥500 · " in queue and "化疗费" in queue
    detail = reviewer.get(f"/staff/payouts/withdrawals/{withdrawal.id}").get_data(as_text=True)
    assert "审核通过（核对票据与金额）" in detail and "PDF · 1 页" in detail
    waiting = console.get(f"/staff/payouts/withdrawals/{withdrawal.id}").get_data(as_text=True)
    assert "等待审核员处理" in waiting and "审核通过（核对票据与金额）" not in waiting
    assert app.test_client(user=donors[0]).get("/staff/payouts/").status_code == 403
    assert app.test_client().get("/staff/payouts/").status_code == 302
    refused = console.post(f"/staff/payouts/withdrawals/{withdrawal.id}/approve",
                           data={"reason": ""}, follow_redirects=True)
    assert "只有审核员可以审核提现" in refused.get_data(as_text=True)
    reviewer.post(f"/staff/payouts/withdrawals/{withdrawal.id}/approve",
                  data={"reason": "票据齐全"})
    assert "待放款 1" in console.get("/staff/payouts/").get_data(as_text=True)
    refused = reviewer.post(f"/staff/payouts/withdrawals/{withdrawal.id}/release",
                            data={"reason": ""}, follow_redirects=True)
    assert "只有财务人员可以放款" in refused.get_data(as_text=True)
    console.post(f"/staff/payouts/withdrawals/{withdrawal.id}/release", data={"reason": ""})
    run_jobs()
    again = console.post(f"/staff/payouts/withdrawals/{withdrawal.id}/release",
                         data={"reason": ""}, follow_redirects=True)
    assert "已放款，不会重复打款" in again.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Withdrawal, withdrawal.id).status == WithdrawalStatus.paid
    page = console.get(f"/staff/payouts/withdrawals/{withdrawal.id}").get_data(as_text=True)
    assert "审核通过" in page and "财务放款" in page and "票据齐全" in page


def test_receipts_become_public_once_finance_approves(app, client, funded, patient, finance,
                                                      run_jobs):
    withdrawal = _paid_withdrawal(funded, patient, finance, run_jobs)
    owner = app.test_client(user=patient)
    owner.post(f"/c/{funded.id}/withdrawals/{withdrawal.id}/receipts",
               data={"receipts": [(io.BytesIO(jpeg_bytes((320, 480))), "receipt.jpg")]},
               content_type="multipart/form-data")
    doc = db.session.scalar(select(PayoutDocument).where(PayoutDocument.kind == DocKind.receipt))
    invoice_doc = db.session.scalar(select(PayoutDocument).where(
        PayoutDocument.kind == DocKind.invoice))
    assert client.get(f"/payout-files/{doc.id}").status_code == 404       # not yet approved
    assert client.get(f"/payout-files/{invoice_doc.id}").status_code == 404  # never public
    assert owner.get(f"/payout-files/{invoice_doc.id}").status_code == 200
    page = client.get(f"/c/{funded.id}").get_data(as_text=True)
    assert "¥800" in page and "收据待上传或审核中" in page and "医院对公账户 · 北京儿童医院" in page
    app.test_client(user=finance).post(f"/staff/payouts/documents/{doc.id}/approve",
                                       data={"reason": ""})
    image = client.get(f"/payout-files/{doc.id}")
    assert image.status_code == 200 and image.mimetype == "image/jpeg"
    page = client.get(f"/c/{funded.id}").get_data(as_text=True)
    assert f"/payout-files/{doc.id}" in page and "用途：支付住院押金" in page


def test_final_totals_and_the_leftover_statement(app, client, funded, patient, staff):
    with pytest.raises(documents.PayoutError, match="筹款结束后"):
        documents.save_statement(funded.id, patient, "剩余善款将继续用于康复治疗。")
    end_campaign(funded, "筹款期限已到", by_staff=staff)
    owner = app.test_client(user=patient)
    owner.post(f"/c/{funded.id}/statement",
               data={"body": "剩余善款将继续用于孩子出院后的康复治疗，票据会陆续公示。"})
    page = client.get(f"/c/{funded.id}").get_data(as_text=True)
    assert re.search(r"最终筹得\s*<strong>¥2,000</strong>，共 3 次帮助", page)
    assert "剩余善款将继续用于孩子出院后的康复治疗" in page and "筹款已结束" in page


def test_notices_are_listed_and_marked_read(app, funded, patient, finance, run_jobs):
    _paid_withdrawal(funded, patient, finance, run_jobs)
    page = app.test_client(user=patient).get("/me/notices").get_data(as_text=True)
    assert "提现已到账" in page
    from app.notices.reading import unread_count

    assert unread_count(patient.id) == 0
