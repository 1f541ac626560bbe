"""我的捐款: each of the donor's donations with its status (a partial refund's progress too),
its 捐款凭证 (page and PDF) for the donor alone, and a statement of a date range as CSV and PDF
that holds exactly the donations paid in it."""
from __future__ import annotations

import csv
import io
import re
import time
from datetime import timedelta

from sqlalchemy import select

from app.auth.models import StaffRole
from app.campaigns.moderation import terminate_campaign
from app.core.chinatime import china_today
from app.donations.mine import NOT_A_CHARITABLE_GIFT
from app.donations.models import Donation
from app.extensions import db
from app.models_base import utcnow
from app.payouts import withdrawals
from app.payouts.models import DonationRefund, RefundStatus
from tests.factories import StaffFactory, UserFactory
from tests.payments.helpers import acknowledged, notice_for, post_notice, start
from tests.payouts.helpers import donate, invoice, pay_out, verified_campaign


def _paid(client, campaign, user, amount_fen, **options) -> Donation:
    payment = start(campaign, user, amount_fen, **options)
    assert acknowledged(post_notice(client, notice_for(payment)))
    return db.session.get(Donation, payment.payable_id)


def _paid_days_ago(donation: Donation, days: int) -> None:
    donation.paid_at = utcnow() - timedelta(days=days)
    db.session.commit()


def _pdf_pages(body: bytes) -> int:
    assert body.startswith(b"%PDF-")
    return len(re.findall(rb"/Type\s*/Page[^s]", body))


def _statement(client, first, last, kind):
    return client.get("/me/donations/statement",
                      query_string={"from": first.isoformat(), "to": last.isoformat(),
                                    "format": kind})


def test_the_list_shows_each_donation_and_a_partial_refund_in_progress(
        app, client, live_server, standin, patient, staff, admin, run_jobs):
    finance = StaffFactory(role=StaffRole.finance)
    campaign = verified_campaign(patient, staff, finance)
    donor, other = UserFactory(nickname="张三丰"), UserFactory(nickname="李四")
    donate(client, campaign, donor, 300_00)
    donate(client, campaign, other, 700_00)
    paid = withdrawals.request_withdrawal(campaign.id, patient, 500_00, "住院押金",
                                          invoices=[invoice()])
    pay_out(paid.id, staff, finance)
    run_jobs()
    terminate_campaign(campaign, admin, "患者已康复，发起人申请终止")
    run_jobs()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        db.session.expire_all()
        refunds = db.session.scalars(select(DonationRefund).where(
            DonationRefund.campaign_id == campaign.id)).all()
        if refunds and all(r.status == RefundStatus.succeeded for r in refunds):
            break
        time.sleep(0.05)
    mine = db.session.scalar(select(DonationRefund).where(DonationRefund.user_id == donor.id))
    assert mine.status == RefundStatus.succeeded and 0 < mine.amount_fen < 300_00

    html = app.test_client(user=donor).get("/me/donations").get_data(as_text=True)
    assert "张三丰" in html and "张**" not in html          # their own name, unmasked
    assert campaign.title in html and f'href="/c/{campaign.id}"' in html
    assert "¥300" in html and "支付渠道费 ¥1.80" in html
    assert f"部分退款 ¥{mine.amount_fen / 100:,.2f} · 已退回" in html
    assert "李四" not in html and "¥700" not in html        # nobody else's donations
    assert NOT_A_CHARITABLE_GIFT in html


def test_a_paid_donation_shows_its_blessing_and_certificate(app, client, live_campaign):
    donor = UserFactory(nickname="阿杰")
    donation = _paid(client, live_campaign, donor, 88_00, blessing="早日康复")
    donor_client = app.test_client(user=donor)
    html = donor_client.get("/me/donations").get_data(as_text=True)
    assert "已支付" in html and "早日康复" in html and "¥88" in html

    page = donor_client.get(f"/me/donations/{donation.id}/certificate")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "捐款凭证" in text and "阿杰" in text
    assert live_campaign.title in text and "¥88" in text and NOT_A_CHARITABLE_GIFT in text
    pdf = donor_client.get(f"/me/donations/{donation.id}/certificate.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert _pdf_pages(pdf.data) == 1


def test_another_users_certificate_is_404(app, client, live_campaign):
    donor = UserFactory(nickname="阿杰")
    donation = _paid(client, live_campaign, donor, 20_00)
    stranger = app.test_client(user=UserFactory(nickname="路人"))
    assert stranger.get(f"/me/donations/{donation.id}/certificate").status_code == 404
    assert stranger.get(f"/me/donations/{donation.id}/certificate.pdf").status_code == 404
    assert stranger.get(f"/me/donations/{donation.id + 1000}/certificate").status_code == 404
    assert client.get("/me/donations").status_code in (302, 401)   # signed out


def test_the_statement_of_a_range_holds_exactly_its_donations(app, client, live_campaign):
    donor = UserFactory(nickname="阿杰")
    inside = [_paid(client, live_campaign, donor, amount) for amount in (10_00, 25_50, 100_00)]
    old = _paid(client, live_campaign, donor, 66_00)
    _paid_days_ago(old, 40)
    _paid_days_ago(inside[0], 9)
    _paid(client, live_campaign, UserFactory(), 77_00)             # someone else's
    today = china_today()
    donor_client = app.test_client(user=donor)

    response = _statement(donor_client, today - timedelta(days=10), today, "csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith("\ufeff".encode("utf-8"))
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    body = [row for row in rows[2:] if row and row[0] not in ("合计", NOT_A_CHARITABLE_GIFT)]
    assert sorted(row[2] for row in body) == ["10", "100", "25.50"]
    assert all(row[1] == live_campaign.title and row[4] == "已支付" for row in body)
    total = next(row for row in rows if row[0] == "合计")
    assert total[1] == "3 笔" and total[2] == "135.50"
    assert [NOT_A_CHARITABLE_GIFT] in rows

    pdf = _statement(donor_client, today - timedelta(days=10), today, "pdf")
    assert pdf.status_code == 200 and _pdf_pages(pdf.data) == 1
    everything = _statement(donor_client, today - timedelta(days=60), today, "csv")
    assert b"66" in everything.data and "4 笔" in everything.data.decode("utf-8-sig")


def test_a_long_statement_runs_to_several_pdf_pages(app, client, live_campaign):
    donor = UserFactory()
    first_day = china_today()  # the donations may straddle midnight in China
    for _ in range(31):
        _paid(client, live_campaign, donor, 1_00)
    pdf = _statement(app.test_client(user=donor), first_day, china_today(), "pdf")
    assert _pdf_pages(pdf.data) == 2


def test_bad_dates_give_the_form_again_with_a_chinese_message(app, client, live_campaign):
    donor_client = app.test_client(user=UserFactory())
    today = china_today()
    cases = [({"from": "", "to": today.isoformat()}, "请填写开始日期和结束日期"),
             ({"from": f"{today.year}-13-40", "to": today.isoformat()}, "日期格式不正确"),
             ({"from": today.isoformat(), "to": (today - timedelta(days=1)).isoformat()},
              "开始日期不能晚于结束日期"),
             ({"from": (today + timedelta(days=1)).isoformat(),
               "to": (today + timedelta(days=2)).isoformat()}, "开始日期不能晚于今天"),
             ({"from": (today - timedelta(days=3 * 366 + 1)).isoformat(),
               "to": today.isoformat()}, "一次最多可开具三年的明细"),
             ({"from": today.isoformat(), "to": today.isoformat(), "format": "xls"},
              "请选择 PDF 或 CSV 格式")]
    for query, message in cases:
        response = donor_client.get("/me/donations/statement", query_string=query)
        html = response.get_data(as_text=True)
        assert response.status_code == 422, query
        assert message in html and 'class="statement-form"' in html
