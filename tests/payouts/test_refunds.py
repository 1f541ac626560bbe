"""Termination refunds: pro rata and exact, one out_refund_no per donation, through WeChat Pay's
refund API at the stand-in, settled by its encrypted notice once whatever the replays."""
from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.campaigns.moderation import terminate_campaign
from app.extensions import db, jobs
from app.ledger.services import CHANNEL_FEES, balance, campaign_custody
from app.ledger.verify import verify
from app.payments.models import NoticeVerdict, PaymentNotice
from app.payouts import refunds, withdrawals
from app.payouts.accounts import REFUND_CLEARING
from app.payouts.allocation import even_parts, pro_rata
from app.payouts.errors import PayoutError, RetryLater
from app.payouts.models import DonationRefund, RefundStatus, Withdrawal, WithdrawalStatus
from tests.payments.helpers import acknowledged
from tests.payouts.helpers import (FUNDED_NET_FEN, donate, invoice, ledger_count, pay_out,
                                   post_refund_notice, refund_notice)

R = RefundStatus


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10 ** 10), st.lists(st.integers(0, 5 * 10 ** 6), min_size=1, max_size=40))
def test_pro_rata_is_exact_fair_and_bounded(amount, weights):
    if sum(weights) == 0:
        amount = 0
    parts = pro_rata(amount, weights)
    total = sum(weights)
    assert sum(parts) == amount and all(p >= 0 for p in parts)
    for part, weight in zip(parts, weights):
        exact = amount * weight / total if total else 0
        assert abs(part - exact) < 1  # never a whole fen away from its exact share
        if amount <= total:
            assert part <= weight     # nobody gets back more than they gave


@given(st.integers(0, 10 ** 9), st.integers(1, 60))
def test_even_parts_sum_exactly(amount, count):
    parts = even_parts(amount, count)
    assert sum(parts) == amount and max(parts) - min(parts) <= 1


def _refunds(campaign_id: int) -> list[DonationRefund]:
    db.session.expire_all()
    return list(db.session.scalars(select(DonationRefund).where(
        DonationRefund.campaign_id == campaign_id).order_by(DonationRefund.donation_id)))


def _wait_settled(campaign_id: int, seconds: float = 10) -> list[DonationRefund]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        rows = _refunds(campaign_id)
        if rows and all(r.status in (R.succeeded, R.none) for r in rows):
            return rows
        time.sleep(0.05)
    return _refunds(campaign_id)


def test_termination_refunds_what_remains_pro_rata_through_wechat(
        app, live_server, funded, patient, staff, finance, admin, donors, run_jobs, standin):
    paid = withdrawals.request_withdrawal(funded.id, patient, 800_00, "住院押金",
                                          invoices=[invoice()])
    pay_out(paid.id, staff, finance)
    run_jobs()
    waiting = withdrawals.request_withdrawal(funded.id, patient, 100_00, "复查费")
    terminate_campaign(funded, admin, "患者已康复，发起人申请终止")
    run_jobs()  # plan, then one submit job per refund; WeChat's notices reach live_server
    rows = _wait_settled(funded.id)
    # ¥1,988 came in (¥2,000 less WeChat's 0.6%), ¥800 went out: ¥1,188 is shared pro rata to
    # what each gift brought in (¥178.20, ¥297, ¥712.80). WeChat returns its fee in proportion
    # to each refund, so each donor gets back the refund whose cost to custody is their share.
    assert [(r.donated_fen, r.amount_fen, r.channel_fee_returned_fen, r.status)
            for r in rows] == [(300_00, 179_28, 1_08, R.succeeded),
                               (500_00, 298_79, 1_79, R.succeeded),
                               (1_200_00, 717_10, 4_30, R.succeeded)]
    assert len({r.out_refund_no for r in rows}) == 3 and all(r.refund_id for r in rows)
    assert balance(campaign_custody(funded.id)) == 0  # exactly what remained, never more
    assert balance(REFUND_CLEARING) == 1_195_17 and ledger_count("refund") == 3
    assert ledger_count("channel_fee_return") == 3
    assert balance(CHANNEL_FEES) == 12_00 - (1_08 + 1_79 + 4_30)
    assert db.session.get(Withdrawal, waiting.id).status == WithdrawalStatus.cancelled
    with standin.state.lock:
        at_wechat = {no: r["refund_fee"] for no, r in standin.state.refunds.items()
                     if no in {row.out_refund_no for row in rows}}
    assert sorted(at_wechat.values()) == [179_28, 298_79, 717_10]
    for row in rows:  # the fee WeChat's bill returns is the fee we booked as returned
        bill = requests.get(f"{standin.base_url}standin/pay/{row.out_trade_no}/bill",
                            timeout=5).json()
        assert bill["refunds"][0]["fee_returned"] == row.channel_fee_returned_fen
    # each donor sees their own refund; the public page shows the progress
    donor_client = app.test_client(user=donors[0])
    mine = donor_client.get("/me/refunds").get_data(as_text=True)
    assert "已退回" in mine and "应退 ¥179.28" in mine and "应退 ¥298.79" not in mine
    page = donor_client.get(f"/c/{funded.id}").get_data(as_text=True)
    assert "已退 3/3 笔" in page and "按退款比例退回的通道费 ¥7.17" in page


def test_refund_notices_replayed_or_forged_change_nothing(app, client, funded, admin, run_jobs,
                                                          monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "http://127.0.0.1:9")  # no notices
    terminate_campaign(funded, admin, "筹款信息不实")
    run_jobs()
    refund = _refunds(funded.id)[2]
    assert refund.status == R.submitted and refund.amount_fen == 1_200_00
    body = refund_notice(refund)
    barrier = threading.Barrier(3)
    replies: list[bool] = []

    def deliver():
        with app.test_client() as other:
            barrier.wait()
            replies.append(acknowledged(post_refund_notice(other, body)))

    threads = [threading.Thread(target=deliver) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert replies == [True, True, True]
    assert acknowledged(post_refund_notice(client, body))  # a later resend
    assert ledger_count("refund") == 1
    assert _refunds(funded.id)[2].status == R.succeeded
    verdicts = sorted(v.value for v in db.session.scalars(select(PaymentNotice.verdict).where(
        PaymentNotice.source == "refund")))
    assert verdicts == ["duplicate"] * 3 + ["processed"]
    forged = [refund_notice(_refunds(funded.id)[1], api_key="0" * 32),
              refund_notice(_refunds(funded.id)[1], refund_fee=1),
              refund_notice(_refunds(funded.id)[1], out_trade_no="XZ000"),
              b"<xml><return_code>SUCCESS</return_code><appid>wx0</appid><mch_id>1</mch_id>"
              b"<req_info>AAAA</req_info></xml>", b"not xml"]
    for bad in forged:
        assert not acknowledged(post_refund_notice(client, bad))
    assert ledger_count("refund") == 1 and _refunds(funded.id)[1].status == R.submitted
    closed = refund_notice(_refunds(funded.id)[0], status="REFUNDCLOSE")
    assert acknowledged(post_refund_notice(client, closed))
    assert _refunds(funded.id)[0].status == R.failed
    bad_verdicts = {v.value for v in db.session.scalars(select(PaymentNotice.verdict).where(
        PaymentNotice.source == "refund", PaymentNotice.verdict.not_in(
            [NoticeVerdict.processed, NoticeVerdict.duplicate, NoticeVerdict.not_success])))}
    assert bad_verdicts == {"bad_signature", "amount_mismatch", "malformed", "wrong_merchant"}


def test_refunding_twice_is_refused_and_moves_nothing(app, client, funded, admin, finance,
                                                      run_jobs, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "http://127.0.0.1:9")
    terminate_campaign(funded, admin, "重复筹款")
    run_jobs()
    for refund in _refunds(funded.id):
        assert acknowledged(post_refund_notice(client, refund_notice(refund)))
    before = ledger_count("refund")
    with pytest.raises(PayoutError, match="不能重复退款"):
        refunds.plan(funded.id, by_staff=finance)
    with pytest.raises(PayoutError, match="不能重复退款"):
        refunds.retry_failed(_refunds(funded.id)[0].id, finance, "再退一次")
    response = app.test_client(user=finance).post(
        f"/staff/payouts/campaigns/{funded.id}/refunds/start", follow_redirects=True)
    assert "不能重复退款" in response.get_data(as_text=True)
    assert ledger_count("refund") == before == 3
    assert balance(campaign_custody(funded.id)) == 0


def test_wechat_unreachable_is_retried_until_accepted(app, funded, admin, run_jobs, monkeypatch):
    from app.payments.provider import ProviderError
    from app.payments.wechat_pay_v3 import WeChatPayV3Provider

    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setitem(app.config, "PAYOUT_RETRY_INTERVALS", [0, 0, 0])
    real, failures = WeChatPayV3Provider.refund, {"left": 2}

    def flaky(self, *args, **kwargs):
        if failures["left"]:
            failures["left"] -= 1
            raise ProviderError("暂时无法连接微信支付，请稍后再试", "unreachable")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(WeChatPayV3Provider, "refund", flaky)
    terminate_campaign(funded, admin, "患者不幸离世，家属申请终止")
    run_jobs()  # with Redis: rq retries at once (interval 0) in the same worker run
    if not jobs.inline:
        assert [r.status for r in _refunds(funded.id)] == [R.submitted] * 3
    for refund_id in refunds.unsettled(older_than=timedelta(0)):  # in-process: the periodic job
        try:
            refunds.submit(refund_id)
        except RetryLater:
            pass
    rows = _refunds(funded.id)
    # Accepted by WeChat; one whose notice was due by now is settled by querying (below).
    assert {r.status for r in rows} <= {R.submitted, R.succeeded}
    assert sum(r.attempts for r in rows) == 5  # two failures, three acceptances
    # Their notices cannot reach us (PUBLIC_BASE_URL is closed): the next pass asks WeChat
    # and settles each from its answer, sending none of them again.
    for refund_id in refunds.unsettled(older_than=timedelta(0)):
        refunds.submit(refund_id)
    rows = _refunds(funded.id)
    assert [r.status for r in rows] == [R.succeeded] * 3
    assert sum(r.attempts for r in rows) == 5
    assert verify() == []


def test_a_transfer_in_flight_delays_refunds(funded, patient, staff, finance, admin, run_jobs):
    from app.payouts import standin_custodian

    withdrawal = withdrawals.request_withdrawal(funded.id, patient, 500_00, "住院费",
                                                invoices=[invoice()])
    standin_custodian.inject("unavailable")
    pay_out(withdrawal.id, staff, finance)
    run_jobs()
    terminate_campaign(funded, admin, "筹款信息不实")
    with pytest.raises(RetryLater):
        refunds.plan(funded.id)
    assert _refunds(funded.id) == []
    assert withdrawals.reconcile(older_than=timedelta(0)) == {"paid": 1}
    refunds.plan(funded.id)
    rows = _refunds(funded.id)  # what custody still holds, no more, leaves it
    assert sum(r.amount_fen - r.channel_fee_returned_fen for r in rows) == FUNDED_NET_FEN - 500_00
    assert all(r.amount_fen <= r.donated_fen for r in rows)


def test_late_money_after_termination_is_refunded_too(app, client, campaign, donors, admin,
                                                      run_jobs, monkeypatch):
    from tests.payments.helpers import notice_for, post_notice, start

    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "http://127.0.0.1:9")
    donate(client, campaign, donors[0], 100_00)
    late = start(campaign, donors[1], 33_33)  # ordered while live, paid after termination
    terminate_campaign(campaign, admin, "筹款信息不实")
    run_jobs()
    assert acknowledged(post_notice(client, notice_for(late)))
    from app.payouts.tasks import reconcile_money_out

    reconcile_money_out()
    run_jobs()
    assert [(r.donated_fen, r.amount_fen) for r in _refunds(campaign.id)] == [
        (100_00, 100_00), (33_33, 33_33)]
