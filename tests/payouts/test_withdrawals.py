"""Withdrawals: asked for, approved by a reviewer and released by finance, paid once by the
custodian, reconciled; every refusal in Chinese with nothing moved."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.campaigns.moderation import freeze_campaign
from app.extensions import db
from app.ledger.services import balance, campaign_custody
from app.payouts import standin_custodian, withdrawal_decisions, withdrawals
from app.payouts.accounts import PAYOUT_CLEARING
from app.payouts.errors import PayoutError
from app.payouts.models import PayoutNotice, Withdrawal, WithdrawalStatus
from app.review import decisions
from app.core.audit import AuditEntry
from app.review.models import CampaignDocument
from tests.payouts.helpers import FUNDED_NET_FEN, donate, invoice, ledger_count, pay_out

W = WithdrawalStatus


def _ask(campaign, organizer, amount, files=None, **kwargs):
    return withdrawals.request_withdrawal(campaign.id, organizer, amount, "支付住院押金",
                                          invoices=[invoice()] if files is None else files,
                                          **kwargs)


def _nothing_moved(campaign, before: int) -> None:
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Withdrawal)) == 0
    assert balance(campaign_custody(campaign.id)) == before
    assert ledger_count("withdrawal") == 0


def test_asked_approved_paid_and_booked(funded, patient, staff, finance, run_jobs):
    withdrawal = _ask(funded, patient, 800_00)
    assert withdrawal.status == W.requested and withdrawal.payee_last4 == "3445"
    pay_out(withdrawal.id, staff, finance, "票据与金额一致")
    run_jobs()
    db.session.expire_all()
    withdrawal = db.session.get(Withdrawal, withdrawal.id)
    assert withdrawal.status == W.paid and withdrawal.custodian_ref.startswith("CUS")
    assert withdrawal.invoices[0].status.value == "approved"
    assert balance(campaign_custody(funded.id)) == FUNDED_NET_FEN - 800_00
    assert balance(PAYOUT_CLEARING) == 800_00
    approval = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "withdrawal.approve")).one()
    assert approval.actor_name == staff.display_name and approval.reason == "票据与金额一致"
    release = db.session.scalars(select(AuditEntry).where(
        AuditEntry.action == "withdrawal.release")).one()
    assert release.actor_name == "财务小李" and release.campaign_id == funded.id
    assert release.after["transfer_id"] == withdrawal.transfer_id
    titles = db.session.scalars(select(PayoutNotice.title).where(
        PayoutNotice.user_id == patient.id).order_by(PayoutNotice.id)).all()
    assert titles == ["收款人已核实", "提现审核通过", "提现已到账"]


def test_releasing_twice_pays_once(funded, patient, staff, finance, run_jobs):
    withdrawal = _ask(funded, patient, 500_00)
    pay_out(withdrawal.id, staff, finance)
    with pytest.raises(PayoutError, match="已放款，不会重复打款"):
        withdrawal_decisions.release_withdrawal(withdrawal.id, finance)
    with pytest.raises(PayoutError, match="已放款，不会重复打款"):
        withdrawal_decisions.approve_withdrawal(withdrawal.id, staff)
    run_jobs()
    assert withdrawals.execute(withdrawal.id) == "paid"  # a repeated job changes nothing
    assert standin_custodian.transfers_made() == 1
    assert ledger_count("withdrawal") == 1
    assert balance(campaign_custody(funded.id)) == FUNDED_NET_FEN - 500_00


@pytest.mark.parametrize("case, message", [
    ("over_balance", "提现金额超过可提现余额（当前可提现 ¥1,988）"),  # raised less WeChat's fees
    ("frozen", "筹款已被冻结，暂停提现"),
    ("unverified_payee", "收款账户尚未通过财务核实"),
    ("no_invoices", "首次提现请上传医院票据"),
    ("documents", "首次提现前，证明材料需全部审核通过"),
    ("purpose", "请填写用途"),
])
def test_refusals_move_nothing(funded, patient, staff, finance, case, message):
    amount, files = 500_00, None
    if case == "over_balance":
        amount = FUNDED_NET_FEN + 1
    elif case == "frozen":
        freeze_campaign(funded, staff, "收到举报，核实中")
    elif case == "unverified_payee":
        decisions.verify_payee(funded.id, finance, ok=False, note="户名与医院不符")
    elif case == "no_invoices":
        files = []
    elif case == "documents":
        document = db.session.scalars(select(CampaignDocument).where(
            CampaignDocument.campaign_id == funded.id)).first()
        decisions.decide_document(document.id, staff, approve=False, reasons=["unclear"])
    with pytest.raises(PayoutError) as refused:
        if case == "purpose":
            withdrawals.request_withdrawal(funded.id, patient, amount, " ", invoices=[invoice()])
        else:
            _ask(funded, patient, amount, files)
    assert message in refused.value.message
    _nothing_moved(funded, FUNDED_NET_FEN)


def test_large_campaigns_withdraw_in_batches_against_invoices(client, campaign, patient, donors,
                                                              finance):
    for donor in donors:
        donate(client, campaign, donor, 20_000_00)  # ¥60,000 raised: above the threshold
    with pytest.raises(PayoutError, match="需分批提现"):
        _ask(campaign, patient, 30_000_00, invoice_total_fen=20_000_00)
    _nothing_moved(campaign, 60_000_00 - 3 * 120_00)  # less WeChat's 0.6% on each donation
    withdrawal = _ask(campaign, patient, 20_000_00, invoice_total_fen=20_000_00)
    assert withdrawal.invoice_total_fen == 20_000_00


def test_reject_needs_a_reason_and_frees_the_money(funded, patient, finance):
    withdrawal = _ask(funded, patient, 1_500_00)
    with pytest.raises(PayoutError, match="请填写原因"):
        withdrawal_decisions.reject_withdrawal(withdrawal.id, finance, "")
    with pytest.raises(PayoutError, match="超过可提现余额"):
        _ask(funded, patient, 600_00)  # ¥1,500 is held back while it waits
    withdrawal_decisions.reject_withdrawal(withdrawal.id, finance, "票据金额与申请不符")
    assert _ask(funded, patient, 600_00).status == W.requested
    assert db.session.scalars(select(AuditEntry.reason).where(
        AuditEntry.action == "withdrawal.reject")).one() == "票据金额与申请不符"


def test_reviewers_approve_and_finance_releases(funded, patient, staff, finance):
    withdrawal = _ask(funded, patient, 100_00)
    with pytest.raises(PayoutError, match="只有审核员可以审核提现"):
        withdrawal_decisions.approve_withdrawal(withdrawal.id, finance)
    with pytest.raises(PayoutError, match="该提现待审核，不能再处理"):
        withdrawal_decisions.release_withdrawal(withdrawal.id, finance)
    withdrawal_decisions.approve_withdrawal(withdrawal.id, staff)
    with pytest.raises(PayoutError, match="只有财务人员可以放款"):
        withdrawal_decisions.release_withdrawal(withdrawal.id, staff)
    assert db.session.get(Withdrawal, withdrawal.id).status == W.approved


def test_frozen_after_asking_cannot_be_approved(funded, patient, staff, finance):
    withdrawal = _ask(funded, patient, 100_00)
    freeze_campaign(funded, staff, "收到举报")
    with pytest.raises(PayoutError, match="冻结"):
        withdrawal_decisions.approve_withdrawal(withdrawal.id, staff)
    assert ledger_count("withdrawal") == 0


def test_a_changed_payee_stops_approval(funded, patient, staff, finance):
    from app.review import services

    withdrawal = _ask(funded, patient, 100_00)
    services.save_payee(funded, patient, kind="family", account_name="王大明",
                        bank_name="农业银行", account_number="6228480000001111")
    decisions.verify_payee(funded.id, finance, ok=True)
    with pytest.raises(PayoutError, match="收款账户已变更"):
        withdrawal_decisions.approve_withdrawal(withdrawal.id, staff)


def test_custodian_silence_is_reconciled_without_paying_twice(funded, patient, staff, finance,
                                                              run_jobs):
    first = _ask(funded, patient, 300_00)
    second = _ask(funded, patient, 400_00)
    standin_custodian.inject("lost_reply", "unavailable")
    pay_out(first.id, staff, finance)   # made, but the answer was lost
    run_jobs()
    pay_out(second.id, staff, finance)  # never reached the custodian
    run_jobs()
    db.session.expire_all()
    assert {w.status for w in db.session.scalars(select(Withdrawal))} == {W.released}
    assert standin_custodian.transfers_made() == 1
    from datetime import timedelta

    assert withdrawals.reconcile(older_than=timedelta(0)) == {"paid": 2}
    assert standin_custodian.transfers_made() == 2
    assert balance(campaign_custody(funded.id)) == FUNDED_NET_FEN - 700_00


def test_a_refused_transfer_fails_and_frees_the_money(funded, patient, staff, finance,
                                                      run_jobs):
    withdrawal = _ask(funded, patient, FUNDED_NET_FEN)  # all of it: raised less the fees
    standin_custodian.inject("refuse")
    pay_out(withdrawal.id, staff, finance)
    run_jobs()
    db.session.expire_all()
    failed = db.session.get(Withdrawal, withdrawal.id)
    assert failed.status == W.failed and "退回" in failed.failure
    assert balance(campaign_custody(funded.id)) == FUNDED_NET_FEN
    assert _ask(funded, patient, FUNDED_NET_FEN).status == W.requested


def test_cancel_by_the_organizer(funded, patient, donors):
    withdrawal = _ask(funded, patient, 100_00)
    with pytest.raises(PayoutError):
        withdrawals.cancel_withdrawal(withdrawal.id, donors[0])
    assert withdrawals.cancel_withdrawal(withdrawal.id, patient).status == W.cancelled


def test_ledger_verify_notices_a_record_that_disagrees(funded, patient, staff, finance,
                                                      run_jobs):
    from sqlalchemy import update

    from app.ledger.verify import verify

    withdrawal = _ask(funded, patient, 700_00)
    pay_out(withdrawal.id, staff, finance)
    run_jobs()
    db.session.execute(update(Withdrawal).where(Withdrawal.id == withdrawal.id)
                       .values(status=W.released))
    assert f"[payouts] withdrawal {withdrawal.id} is released but the ledger paid it" in verify()
    db.session.rollback()
    assert verify() == []
