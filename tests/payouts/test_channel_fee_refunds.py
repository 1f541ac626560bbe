"""Channel fees on money going out: withdrawals can take only what came in net of WeChat's fees,
and termination refunds — with WeChat returning its fee in proportion to each refund — pay out
exactly what custody holds, never more, with the returned fee booked as its own entry."""
from __future__ import annotations

import pytest
from sqlalchemy import select, update

from app.campaigns.moderation import terminate_campaign
from app.extensions import db
from app.ledger.services import CHANNEL_FEES, balance, campaign_custody
from app.ledger.verify import verify
from app.payouts import withdrawals
from app.payouts.errors import PayoutError
from app.payouts.models import DonationRefund, RefundStatus
from tests.payments.helpers import acknowledged, fee_of
from tests.payouts.helpers import (donate, invoice, ledger_count, pay_out, post_refund_notice,
                                   refund_notice)

# 1 fen of fee on ¥1 (0.6 fen), 2 on ¥2.50 (1.5), 50 on ¥83.33 (49.998), 741 on ¥1,234.56
AMOUNTS = (1_00, 2_50, 83_33, 1_234_56)


@pytest.fixture(autouse=True)
def _forget_standin_refunds(standin):
    """out_refund_no is made from the donation id, which starts again in every test: the
    stand-in (one per session, like WeChat one per merchant) must not keep this test's refunds
    for the next test's donations of the same ids."""
    with standin.state.lock:
        before = set(standin.state.refunds)
    yield
    with standin.state.lock:
        for out_refund_no in set(standin.state.refunds) - before:
            del standin.state.refunds[out_refund_no]


@pytest.fixture()
def odd(client, campaign, donors):
    for i, amount in enumerate(AMOUNTS):
        donate(client, campaign, donors[i % len(donors)], amount)
    return campaign


def _settle_all(client, campaign_id: int) -> list[DonationRefund]:
    for refund in db.session.scalars(select(DonationRefund).where(
            DonationRefund.campaign_id == campaign_id, DonationRefund.status != RefundStatus.none)):
        assert acknowledged(post_refund_notice(client, refund_notice(refund)))
        assert balance(campaign_custody(campaign_id)) >= 0  # after every single refund
    db.session.expire_all()
    return list(db.session.scalars(select(DonationRefund).where(
        DonationRefund.campaign_id == campaign_id).order_by(DonationRefund.donation_id)))


def test_withdrawals_can_take_what_came_in_net_of_fees(odd, patient):
    net = sum(AMOUNTS) - sum(fee_of(a) for a in AMOUNTS)
    assert balance(campaign_custody(odd.id)) == net == sum(AMOUNTS) - 7_94
    with pytest.raises(PayoutError, match="超过可提现余额"):
        withdrawals.request_withdrawal(odd.id, patient, sum(AMOUNTS), "住院费",
                                       invoices=[invoice()])  # what donors gave: too much
    assert withdrawals.request_withdrawal(odd.id, patient, net, "住院费",
                                          invoices=[invoice()]).amount_fen == net


@pytest.mark.parametrize("withdrawn", [0, 500_00, 1_000_00])
def test_refunds_after_termination_empty_custody_exactly(app, client, odd, patient, staff,
                                                         finance, admin, run_jobs, monkeypatch,
                                                         withdrawn):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "http://127.0.0.1:9")  # we deliver
    if withdrawn:
        paid = withdrawals.request_withdrawal(odd.id, patient, withdrawn, "住院费",
                                              invoices=[invoice()])
        pay_out(paid.id, staff, finance)
        run_jobs()
    remaining = balance(campaign_custody(odd.id))
    terminate_campaign(odd, admin, "患者已康复，发起人申请终止")
    run_jobs()
    rows = _settle_all(client, odd.id)
    assert balance(campaign_custody(odd.id)) == 0
    assert sum(r.amount_fen - r.channel_fee_returned_fen for r in rows) == remaining
    assert all(0 <= r.amount_fen <= r.donated_fen for r in rows)
    if not withdrawn:  # nothing spent: WeChat returns every fee, every donor is made whole
        assert [(r.amount_fen, r.channel_fee_returned_fen) for r in rows] == [
            (a, fee_of(a)) for a in AMOUNTS]
        assert balance(CHANNEL_FEES) == 0
    assert ledger_count("channel_fee_return") == sum(1 for r in rows
                                                     if r.channel_fee_returned_fen)
    assert verify() == []


def test_verify_catches_a_fee_return_that_disagrees(app, client, odd, admin, run_jobs,
                                                   monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "http://127.0.0.1:9")
    terminate_campaign(odd, admin, "筹款信息不实")
    run_jobs()
    rows = _settle_all(client, odd.id)
    last = rows[-1]
    db.session.execute(update(DonationRefund).where(DonationRefund.id == last.id)
                       .values(channel_fee_returned_fen=last.channel_fee_returned_fen + 1))
    problems = verify()
    assert any(line.startswith(f"[channel_fee_returns] refund {last.out_refund_no}: returned "
                               "fee 742 fen") for line in problems)
    assert (f"[channel_fee_returns] succeeded refund {last.out_refund_no}: fee returned 742 "
            "fen, ledger 741") in problems
    db.session.rollback()
    assert verify() == []
