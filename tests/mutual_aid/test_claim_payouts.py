"""An approved claim paid for real: a round moves its part into the claim's own account (待打款),
the claimant names a payee, finance verifies it and releases the money — never the reviewer
who approved the claim — to the stand-in custodian or by 商家转账 to the claimant's WeChat.
A failed transfer leaves the money payable; releasing or running the job twice pays once; a
payout the custodian has not answered is settled by the reconciler. `ledger verify` is clean at
every step."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest
import requests
from flask import current_app
from sqlalchemy import func, select

from app.auth.models import StaffRole
from app.core.audit import AuditEntry
from app.extensions import db
from app.ledger.services import balance
from app.ledger.verify import verify
from app.models_base import utcnow
from app.mutual_aid import claim_payees, claim_payouts, claims, rounds
from app.mutual_aid.accounts import PAYOUT_CLEARING, claim_payable
from app.mutual_aid.models import Claim, ClaimStatus
from app.mutual_aid.money_models import RoundItem
from app.mutual_aid.payout_models import ClaimPayout, PayeeStatus, PayoutState
from app.mutual_aid.services import MutualAidError
from app.payouts import standin_custodian, transfers
from app.payouts.approvals import PayoutSignoff
from app.payouts.transfer_models import PersonTransfer, TransferStatus
from tests.factories import StaffFactory
from tests.mutual_aid.conftest import announce, members
from tests.mutual_aid.test_claims import membership_user, submit
from tests.mutual_aid.test_rounds import pay_by_wechat

P = PayoutState
ACCOUNT = "6222020200112233445"


@pytest.fixture()
def finance(db):
    return StaffFactory(role=StaffRole.finance)


@pytest.fixture()
def second_finance(db):
    return StaffFactory(role=StaffRole.finance)


@pytest.fixture(autouse=True)
def _no_faults():
    standin_custodian.clear_faults()
    yield
    standin_custodian.clear_faults()


def award(app, plan, approver, run_jobs, client) -> Claim:
    """A claim approved by `approver`, through 公示 and a round, its part distributed."""
    membership = members(plan, 1)[0]
    _, response = submit(app, membership)
    assert response.status_code == 302
    claim = db.session.scalars(select(Claim)).one()
    claims.approve_claim(claim.id, approver, "诊断证明与病理报告一致")
    assert claims.confirm_noticed_claims(utcnow() + timedelta(days=6)) == 1
    others = members(plan, 4)
    round_ = announce(plan, run_jobs)
    for person in [membership] + others:
        pay_by_wechat(client, person.user_id, plan)
    rounds.close_round(round_.id, today=round_.close_on)
    db.session.expire_all()
    return db.session.get(Claim, claim.id)


@pytest.fixture()
def awarded(app, plan, staff, run_jobs, client):
    return award(app, plan, staff, run_jobs, client)


def _state(claim_id: int) -> tuple[ClaimStatus, int]:
    db.session.expire_all()
    return db.session.get(Claim, claim_id).status, claim_payouts.payable_fen(claim_id)


def name_bank(app, claim, account_name="张三丰", kind="member"):
    client = app.test_client(user=membership_user(claim.membership))
    return client, client.post(f"/mutual-aid/claims/{claim.id}/payee", data={
        "kind": kind, "account_name": account_name, "bank_name": "中国工商银行成都分行",
        "account_number": ACCOUNT})


def test_distribution_leaves_the_claim_waiting_to_be_paid(app, awarded, client):
    status, payable = _state(awarded.id)
    item = db.session.scalars(select(RoundItem)).one()
    assert status == ClaimStatus.awarded and payable == item.distributed_fen > 0
    assert balance(PAYOUT_CLEARING) == 0   # nothing has left custody
    notices = client.get(f"/mutual-aid/plans/{awarded.membership.plan.slug}/notices")
    assert "待打款" in notices.get_data(as_text=True)
    round_page = client.get(f"/mutual-aid/rounds/{item.round_id}").get_data(as_text=True)
    assert "待打款" in round_page and "已打款" not in round_page
    assert verify() == []


def test_paid_end_to_end_through_the_custodian(app, awarded, staff, finance, run_jobs, client):
    amount = claim_payouts.payable_fen(awarded.id)
    owner, refused = name_bank(app, awarded, account_name="李四")   # not the member's name
    assert refused.status_code == 422 and "会员实名" in refused.get_data(as_text=True)
    owner, response = name_bank(app, awarded)
    assert response.status_code == 302
    assert claim_payees.payee_of(awarded.id).status == PayeeStatus.pending
    page = app.test_client(user=finance).get("/staff/mutual-aid/payouts/")
    assert "等待财务核实收款账户" in page.get_data(as_text=True)
    with pytest.raises(MutualAidError, match="尚未通过财务核实"):
        claim_payouts.release(awarded.id, finance)
    with pytest.raises(MutualAidError, match="只有财务"):
        claim_payees.verify_payee(awarded.id, staff, True)
    claim_payees.verify_payee(awarded.id, finance, True, "户名与会员实名一致")
    assert verify() == []

    staff_page = app.test_client(user=finance).post(f"/staff/mutual-aid/payouts/claims/"
                                                    f"{awarded.id}/release", data={"reason": "核对无误"})
    assert staff_page.status_code == 302
    run_jobs()
    assert _state(awarded.id) == (ClaimStatus.paid, 0)
    payout = db.session.scalars(select(ClaimPayout)).one()
    assert (payout.status, payout.amount_fen, payout.transfer_id) == (
        P.paid, amount, claim_payouts.transfer_id_of(payout.id))
    assert balance(PAYOUT_CLEARING) == amount
    assert verify() == []

    # Releasing again, the job again, the reconciler: the custodian booked one transfer.
    with pytest.raises(MutualAidError):
        claim_payouts.release(awarded.id, finance)
    assert claim_payouts.execute(payout.id) == "paid"
    claim_payouts.reconcile(timedelta(0))
    assert standin_custodian.transfers_made(payout.transfer_id) == 1
    assert balance(PAYOUT_CLEARING) == amount and verify() == []
    steps = {s.step: s.staff_id for s in db.session.scalars(select(PayoutSignoff))}
    assert steps == {"approve": staff.id, "release": finance.id}
    text = owner.get(f"/mutual-aid/claims/{awarded.id}").get_data(as_text=True)
    assert "已打款" in text and 'data-payout="paid"' in text and ACCOUNT not in text
    actions = [h.action for h in db.session.scalars(select(AuditEntry))]
    for done in ("claim_payee_named", "claim_payee_verified", "claim_payout_released",
                 "claim_payout_paid"):
        assert f"mutual_aid.{done}" in actions


def test_a_failed_transfer_keeps_the_money_payable(app, awarded, finance, run_jobs):
    amount = claim_payouts.payable_fen(awarded.id)
    owner, _ = name_bank(app, awarded, account_name="华西医院", kind="hospital")
    claim_payees.verify_payee(awarded.id, finance, True)
    standin_custodian.inject("refuse")
    claim_payouts.release(awarded.id, finance)
    run_jobs()
    assert _state(awarded.id) == (ClaimStatus.awarded, amount)
    failed = db.session.scalars(select(ClaimPayout)).one()
    assert failed.status == P.failed and "资金已退回" in failed.failure
    assert balance(PAYOUT_CLEARING) == 0 and verify() == []
    text = owner.get(f"/mutual-aid/claims/{awarded.id}").get_data(as_text=True)
    assert "待打款" in text and "资金已退回" in text

    again = claim_payouts.release(awarded.id, finance)   # a new payout, a new transfer id
    run_jobs()
    assert _state(awarded.id) == (ClaimStatus.paid, 0)
    assert again.id != failed.id and balance(PAYOUT_CLEARING) == amount
    assert verify() == []


def test_the_approver_never_releases(app, plan, run_jobs, client, finance):
    admin = StaffFactory(role=StaffRole.admin)   # may act as reviewer and as finance
    claim = award(app, plan, admin, run_jobs, client)
    name_bank(app, claim)
    claim_payees.verify_payee(claim.id, finance, True)
    with pytest.raises(MutualAidError, match="另一位工作人员"):
        claim_payouts.release(claim.id, admin)
    assert db.session.scalar(select(func.count()).select_from(ClaimPayout)) == 0
    assert _state(claim.id)[0] == ClaimStatus.awarded
    reviewer = StaffFactory(role=StaffRole.reviewer)
    response = app.test_client(user=reviewer).post(
        f"/staff/mutual-aid/payouts/claims/{claim.id}/release")
    assert response.status_code == 403
    claim_payouts.release(claim.id, finance)
    run_jobs()
    assert _state(claim.id) == (ClaimStatus.paid, 0) and verify() == []


def test_a_large_payout_needs_a_second_finance_person(app, awarded, finance, second_finance,
                                                      run_jobs, monkeypatch):
    monkeypatch.setitem(app.config, "PAYOUT_SECOND_APPROVAL_FEN", 1_00)
    name_bank(app, awarded)
    claim_payees.verify_payee(awarded.id, finance, True)
    assert claim_payouts.waiting_for(awarded) == "countersign"
    with pytest.raises(MutualAidError, match="复核后才能放款"):
        claim_payouts.release(awarded.id, finance)
    claim_payouts.countersign(awarded.id, finance, "金额与分摊公告一致")
    assert claim_payouts.waiting_for(awarded) == "release"
    with pytest.raises(MutualAidError, match="另一位工作人员"):
        claim_payouts.release(awarded.id, finance)
    claim_payouts.release(awarded.id, second_finance)
    run_jobs()
    assert _state(awarded.id) == (ClaimStatus.paid, 0) and verify() == []
    steps = [s.step for s in db.session.scalars(select(PayoutSignoff).order_by(PayoutSignoff.id))]
    assert steps == ["approve", "countersign", "release"]


def test_an_unanswered_transfer_is_settled_by_the_reconciler(app, awarded, finance, run_jobs):
    amount = claim_payouts.payable_fen(awarded.id)
    name_bank(app, awarded)
    claim_payees.verify_payee(awarded.id, finance, True)
    standin_custodian.inject("lost_reply")   # made by the custodian, its answer lost
    claim_payouts.release(awarded.id, finance)
    run_jobs()
    assert _state(awarded.id) == (ClaimStatus.paying, amount)
    assert verify() == []
    owner = app.test_client(user=membership_user(awarded.membership))
    assert "打款中" in owner.get(f"/mutual-aid/claims/{awarded.id}").get_data(as_text=True)
    assert claim_payouts.reconcile(timedelta(0)) == {"paid": 1}
    assert _state(awarded.id) == (ClaimStatus.paid, 0)
    payout = db.session.scalars(select(ClaimPayout)).one()
    assert standin_custodian.transfers_made(payout.transfer_id) == 1
    assert verify() == []


def _hook(out_bill_no: str, action: str) -> requests.Response:
    return requests.post(f"{current_app.config['WECHAT_API_BASE']}standin/v3/transfer/"
                         f"{out_bill_no}/{action}", timeout=10)


def _settled(claim_id: int, timeout: float = 10) -> ClaimStatus:
    deadline = time.monotonic() + timeout
    while True:
        status, _ = _state(claim_id)
        if status != ClaimStatus.paying or time.monotonic() > deadline:
            return status
        time.sleep(0.05)


def test_paid_to_the_claimants_wechat_by_merchant_transfer(app, awarded, finance, run_jobs,
                                                           live_server):
    amount = claim_payouts.payable_fen(awarded.id)
    owner = app.test_client(user=membership_user(awarded.membership))
    assert owner.post(f"/mutual-aid/claims/{awarded.id}/payee",
                      data={"kind": "wechat"}).status_code == 302
    claim_payouts.release(awarded.id, finance)
    run_jobs()
    transfer = db.session.scalars(select(PersonTransfer).where(
        PersonTransfer.purpose == claim_payouts.TRANSFER_PURPOSE)).one()
    assert transfer.status == TransferStatus.waiting_user and transfer.amount_fen == amount
    assert _state(awarded.id) == (ClaimStatus.paying, 0)   # in the transfer clearing
    assert verify() == []
    _hook(transfer.out_bill_no, "confirm")
    assert _settled(awarded.id) == ClaimStatus.paid
    assert balance(transfers.TRANSFERS_OUT) == amount and balance(claim_payable(awarded.id)) == 0
    assert db.session.scalars(select(ClaimPayout)).one().status == P.paid
    assert verify() == []


def test_wechat_refusing_it_leaves_the_release_undone(app, awarded, finance, monkeypatch):
    monkeypatch.setitem(app.config, "WECHAT_TRANSFER_DAILY_LIMIT_FEN", 10)
    owner = app.test_client(user=membership_user(awarded.membership))
    owner.post(f"/mutual-aid/claims/{awarded.id}/payee", data={"kind": "wechat"})
    with pytest.raises(MutualAidError, match="改填银行账户"):
        claim_payouts.release(awarded.id, finance)
    assert db.session.scalar(select(func.count()).select_from(ClaimPayout)) == 0
    assert db.session.scalar(select(func.count()).select_from(PayoutSignoff)) == 0
    assert _state(awarded.id)[0] == ClaimStatus.awarded and verify() == []
