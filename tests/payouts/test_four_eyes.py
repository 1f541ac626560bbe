"""Four eyes on every yuan that leaves: the organizer asks, a reviewer approves, finance
releases; from the second-approval amount a second finance person countersigns; nobody signs two
steps of the same payout, and the database holds that rule whatever the code does."""
from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.auth.models import StaffRole
from app.core.audit import AuditEntry
from app.extensions import db
from app.ledger.services import balance, campaign_custody
from app.payouts import approvals, withdrawal_decisions as decisions, withdrawals
from app.payouts.approvals import PayoutSignoff, Step
from app.payouts.errors import PayoutError
from app.payouts.models import Withdrawal, WithdrawalStatus
from tests.factories import StaffFactory
from tests.payouts.helpers import FUNDED_NET_FEN, invoice, ledger_count

W = WithdrawalStatus


def _ask(campaign, organizer, amount):
    return withdrawals.request_withdrawal(campaign.id, organizer, amount, "支付住院押金",
                                          invoices=[invoice()]).id


@pytest.fixture()
def large(app, monkeypatch):
    """Second approval from ¥1,000 in these tests (¥50,000 by default)."""
    monkeypatch.setitem(app.config, "PAYOUT_SECOND_APPROVAL_FEN", 1_000_00)


def _status(withdrawal_id):
    db.session.expire_all()
    return db.session.get(Withdrawal, withdrawal_id).status


def test_one_person_never_approves_and_releases(funded, patient, finance, run_jobs):
    admin = StaffFactory(role=StaffRole.admin)   # an admin holds every role, not every step
    withdrawal_id = _ask(funded, patient, 500_00)
    decisions.approve_withdrawal(withdrawal_id, admin, "票据齐全")
    with pytest.raises(PayoutError, match="您已审核通过这笔款项：财务放款须由另一位工作人员完成"):
        decisions.release_withdrawal(withdrawal_id, admin)
    assert _status(withdrawal_id) == W.approved
    decisions.release_withdrawal(withdrawal_id, finance)
    run_jobs()
    assert _status(withdrawal_id) == W.paid
    assert [s.step for s in approvals.signoffs("withdrawal", withdrawal_id)] == [
        "approve", "release"]


def test_a_large_withdrawal_needs_a_second_finance_person(funded, patient, staff, finance,
                                                          large, run_jobs):
    second = StaffFactory(role=StaffRole.finance, display_name="财务小王")
    withdrawal_id = _ask(funded, patient, 1_500_00)
    decisions.approve_withdrawal(withdrawal_id, staff)
    assert decisions.waiting_for(db.session.get(Withdrawal, withdrawal_id)) == "countersign"
    with pytest.raises(PayoutError, match="需另一位财务复核后才能放款"):
        decisions.release_withdrawal(withdrawal_id, finance)
    decisions.countersign_withdrawal(withdrawal_id, finance, "金额与票据一致")
    with pytest.raises(PayoutError, match="已财务复核"):
        decisions.countersign_withdrawal(withdrawal_id, second)
    with pytest.raises(PayoutError, match="您已财务复核这笔款项"):
        decisions.release_withdrawal(withdrawal_id, finance)
    assert ledger_count("withdrawal") == 0
    decisions.release_withdrawal(withdrawal_id, second)
    run_jobs()
    assert _status(withdrawal_id) == W.paid
    assert balance(campaign_custody(funded.id)) == FUNDED_NET_FEN - 1_500_00
    actions = db.session.scalars(select(AuditEntry.action).where(
        AuditEntry.target_type == "withdrawal").order_by(AuditEntry.id)).all()
    assert actions == ["withdrawal.approve", "withdrawal.countersign", "withdrawal.release"]


def test_a_small_one_is_not_countersigned(funded, patient, staff, finance, large):
    withdrawal_id = _ask(funded, patient, 999_99)
    decisions.approve_withdrawal(withdrawal_id, staff)
    with pytest.raises(PayoutError, match="以下的提现无需复核"):
        decisions.countersign_withdrawal(withdrawal_id, finance)
    assert decisions.waiting_for(db.session.get(Withdrawal, withdrawal_id)) == "release"


def test_rejected_after_approval_frees_the_money(funded, patient, staff, finance):
    withdrawal_id = _ask(funded, patient, FUNDED_NET_FEN)
    decisions.approve_withdrawal(withdrawal_id, staff)
    decisions.reject_withdrawal(withdrawal_id, finance, "收款账户需再次核实")
    assert _status(withdrawal_id) == W.rejected
    with pytest.raises(PayoutError, match="未通过，不能再处理"):
        decisions.release_withdrawal(withdrawal_id, finance)
    assert _ask(funded, patient, FUNDED_NET_FEN)  # all of it is available again


def test_a_staff_request_cannot_be_approved_by_its_requester(db):
    requester, other = StaffFactory(), StaffFactory()
    approvals.sign("claim_payout", 7, Step.request, requester)
    with pytest.raises(PayoutError, match="您已申请这笔款项：审核通过须由另一位工作人员完成"):
        approvals.sign("claim_payout", 7, Step.approve, requester)
    approvals.sign("claim_payout", 7, Step.approve, other)
    db.session.commit()
    assert [s.staff_id for s in approvals.signoffs("claim_payout", 7)] == [requester.id, other.id]


@pytest.mark.parametrize("twice", ["step", "person"])
def test_the_database_holds_the_rule(db, twice):
    first, second = StaffFactory(), StaffFactory()
    db.session.add(PayoutSignoff(subject_type="withdrawal", subject_id=1, step="approve",
                                 staff_id=first.id))
    db.session.commit()
    db.session.add(PayoutSignoff(subject_type="withdrawal", subject_id=1,
                                 step="approve" if twice == "step" else "release",
                                 staff_id=second.id if twice == "step" else first.id))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
