"""A wallet's balance goes back by 商家转账 to the member's WeChat, through the stand-in as
WeChat publishes it: confirmed → paid once; never confirmed and closed by WeChat → back in the
wallet; WeChat unable to take it → finance's bank transfer and voucher. `ledger verify` is clean
after each."""
from __future__ import annotations

import secrets
import threading
import time

import pytest
import requests
from flask import current_app
from sqlalchemy import func, select

from app.auth.models import User
from app.extensions import db
from app.ledger.services import balance
from app.ledger.verify import verify
from app.mutual_aid import wallet
from app.mutual_aid.accounts import PAYOUT_CLEARING
from app.mutual_aid.money_models import WalletRefund, WalletRefundStatus
from app.mutual_aid.services import MutualAidError
from app.payouts import transfers
from app.payouts.transfer_models import PersonTransfer, TransferStatus
from tests.factories import StaffFactory, UserFactory
from tests.payments.helpers import acknowledged, notice_for, post_notice

R = WalletRefundStatus


@pytest.fixture()
def member(db, client, standin, live_server):
    """A member who topped up ¥80 by WeChat Pay and keeps it as a balance."""
    user = UserFactory()
    topup = wallet.start_topup(user, 80_00, secrets.token_hex(12), "NATIVE", "127.0.0.1")
    assert acknowledged(post_notice(client, notice_for(topup)))
    assert wallet.wallet_balance(user.id) == 80_00
    return user


def _hook(out_bill_no: str, action: str, **params) -> requests.Response:
    return requests.post(f"{current_app.config['WECHAT_API_BASE']}standin/v3/transfer/"
                         f"{out_bill_no}/{action}", params=params, timeout=10)


def _settled(refund_id: int, timeout: float = 10) -> WalletRefund:
    deadline = time.monotonic() + timeout
    while True:
        db.session.expire_all()
        refund = db.session.get(WalletRefund, refund_id)
        if refund.status != R.transferring or time.monotonic() > deadline:
            return refund
        time.sleep(0.05)


def _transfer(refund_id: int) -> PersonTransfer:
    db.session.expire_all()
    return db.session.scalars(select(PersonTransfer).where(
        PersonTransfer.purpose == wallet.REFUND_PURPOSE,
        PersonTransfer.purpose_ref == str(refund_id))).one()


def test_confirmed_it_reaches_the_members_wechat_once(member, run_jobs):
    refund = wallet.request_wallet_refund(member.id)
    run_jobs()
    assert refund.status == R.transferring and wallet.wallet_balance(member.id) == 0
    transfer = _transfer(refund.id)
    assert transfer.status == TransferStatus.waiting_user and transfer.amount_fen == 80_00
    with pytest.raises(MutualAidError, match="等待您在“我的 · 领取”中确认收款"):
        wallet.request_wallet_refund(member.id)
    _hook(transfer.out_bill_no, "confirm")
    done = _settled(refund.id)
    assert done.status == R.paid and "已转入微信零钱" in done.note
    assert _hook(transfer.out_bill_no, "notify", copies=5).ok   # resent: nothing more
    db.session.expire_all()
    assert balance(transfers.TRANSFERS_OUT) == 80_00 and balance(PAYOUT_CLEARING) == 0
    assert verify() == []


def test_never_confirmed_the_balance_comes_back_and_can_be_asked_again(member, run_jobs):
    refund = wallet.request_wallet_refund(member.id)
    run_jobs()
    _hook(_transfer(refund.id).out_bill_no, "expire")
    back = _settled(refund.id)
    assert back.status == R.failed and "余额已退回" in back.note
    assert wallet.wallet_balance(member.id) == 80_00
    assert verify() == []
    again = wallet.request_wallet_refund(member.id)
    assert again.status == R.transferring and wallet.wallet_balance(member.id) == 0
    assert verify() == []


def test_when_wechat_cannot_take_it_finance_pays_by_bank(app, member, monkeypatch):
    monkeypatch.setitem(app.config, "WECHAT_TRANSFER_DAILY_LIMIT_FEN", 50_00)
    refund = wallet.request_wallet_refund(member.id)
    assert refund.status == R.requested and balance(PAYOUT_CLEARING) == 80_00
    assert db.session.scalar(select(func.count()).select_from(PersonTransfer)) == 0
    assert wallet.mark_refund_paid(refund.id, StaffFactory(), "银行回单 A-17").status == R.paid
    assert verify() == []


def test_the_members_page_says_where_it_is(app, member, run_jobs):
    page = app.test_client(user=member)
    page.post("/mutual-aid/wallet/refund", follow_redirects=False)
    run_jobs()
    text = page.get("/mutual-aid/me").get_data(as_text=True)
    assert 'data-wallet-refund="transferring"' in text and "/me/transfers" in text


def test_two_requests_at_once_make_one_transfer(app, member, run_jobs):
    user_id, results = member.id, []

    def ask() -> None:
        with app.app_context():
            try:
                results.append(wallet.request_wallet_refund(user_id).amount_fen)
            except MutualAidError as refused:
                results.append(refused.code)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    run_jobs()
    assert sorted(map(str, results)) == ["8000", "refund_waiting"]
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(PersonTransfer)) == 1
    assert wallet.wallet_balance(db.session.get(User, user_id).id) == 0
    assert verify() == []
