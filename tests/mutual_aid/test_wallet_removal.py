"""The prepaid wallet is gone (后付费): no route takes a top-up or pays from a balance, the plan's
pages and 我的 show no balance, and every existing balance goes back by itself — refunding the
member's top-ups through WeChat Pay within the refund window, by 商家转账 outside it — once
however often the job runs. A waiting-period refund is paid back without a wallet."""
from __future__ import annotations

import secrets
import time
from datetime import timedelta

import requests
from flask import current_app
from sqlalchemy import func, select, update

from app.auth.models import StaffRole, User
from app.extensions import db
from app.ledger.services import balance
from app.ledger.verify import verify
from app.models_base import utcnow
from app.mutual_aid import paybacks
from app.mutual_aid.accounts import PAYBACK_DUE, wallet_account
from app.mutual_aid.money_models import (ItemKind, PayBack, PayBackStatus, RoundItem,
                                         ShareCharge, TopUp)
from app.payments import services as payments
from app.payments.models import Payment
from app.payouts.transfer_models import PersonTransfer
from tests.factories import StaffFactory, UserFactory
from tests.mutual_aid.conftest import announce, members, owe
from tests.mutual_aid.test_rounds import pay_by_wechat
from tests.payments.helpers import acknowledged, notice_for, post_notice

P = PayBackStatus


def legacy_topup(client, user, amount_fen: int, paid_days_ago: int = 0) -> Payment:
    """A top-up as the removed wallet made them: ordered, paid at the stand-in (so WeChat can
    refund it) and notified while nothing could go back yet (no refund window, no 商家转账:
    the balance stays, as wallets were when they were removed); optionally moved back in
    time."""
    app = current_app
    saved = {key: app.config.get(key) for key in ("WECHAT_TRANSFERS", "WECHAT_REFUND_WINDOW_DAYS")}
    app.config.update(WECHAT_TRANSFERS=False, WECHAT_REFUND_WINDOW_DAYS=0)
    try:
        return _ordered_and_paid(client, user, amount_fen, paid_days_ago)
    finally:
        app.config.update(saved)


def _ordered_and_paid(client, user, amount_fen: int, paid_days_ago: int) -> Payment:
    topup = TopUp(user_id=user.id, amount_fen=amount_fen)
    db.session.add(topup)
    db.session.flush()
    payment = payments.start_checkout(payments.Checkout(
        payable_type="plan_topup", payable_id=topup.id, amount_fen=amount_fen,
        description="相助互助计划-余额充值", idempotency_key=f"plan_topup:{secrets.token_hex(8)}",
        user_id=user.id, openid=user.openid, trade_type="NATIVE", client_ip="127.0.0.1"))
    paid = requests.post(f"{current_app.config['WECHAT_API_BASE']}standin/pay/"
                         f"{payment.out_trade_no}/pay", timeout=5).json()
    assert acknowledged(post_notice(client, notice_for(
        payment, transaction_id=paid["transaction_id"])))
    if paid_days_ago:
        db.session.execute(update(Payment).where(Payment.id == payment.id).values(
            paid_at=utcnow() - timedelta(days=paid_days_ago)))
        db.session.commit()
    return payment


def settled(user_id: int, seconds: float = 10) -> list[PayBack]:
    """The user's paybacks once none is still waiting for WeChat's refund notice."""
    deadline = time.monotonic() + seconds
    while True:
        db.session.expire_all()
        rows = list(db.session.scalars(select(PayBack).where(PayBack.user_id == user_id)
                                       .order_by(PayBack.id)))
        waiting = [r for r in rows if r.method == "wechat_refund" and r.status == P.sending]
        if not waiting or time.monotonic() > deadline:
            return rows
        time.sleep(0.05)


def test_balances_go_back_by_wechat_refund_within_the_window_and_by_transfer_outside(
        app, client, live_server, standin, run_jobs):
    recent, old = UserFactory(), UserFactory()
    legacy_topup(client, recent, 30_00)
    newest = legacy_topup(client, recent, 50_00)
    legacy_topup(client, old, 40_00, paid_days_ago=400)  # past WeChat's 365 days
    run_jobs()
    paybacks.pay_back_all()
    run_jobs()
    for user in (recent, old):
        assert balance(wallet_account(user.id)) == 0
    mine = [r for r in settled(recent.id) if r.status not in (P.superseded, P.owed)]
    refunds = [r for r in mine if r.method == "wechat_refund"]
    assert sum(r.amount_fen for r in refunds) == 80_00 and {r.status for r in refunds} == {P.paid}
    assert refunds[0].payment_id == newest.id   # newest first
    theirs = [r for r in settled(old.id) if r.status != P.superseded]
    assert [(r.method, r.amount_fen, r.status) for r in theirs] == [
        ("wechat_transfer", 40_00, P.sending)]   # waiting for the member in 我的 · 领取
    assert db.session.scalar(select(PersonTransfer.amount_fen).where(
        PersonTransfer.user_id == old.id)) == 40_00
    assert verify() == []


def test_an_order_of_the_wallet_paid_late_goes_straight_back(app, client, live_server,
                                                              standin, run_jobs):
    user = UserFactory()
    _ordered_and_paid(client, user, 80_00, 0)   # ordered before the wallet went, paid after
    run_jobs()
    rows = [r for r in settled(user.id) if r.status == P.paid]
    assert [(r.method, r.amount_fen) for r in rows] == [("wechat_refund", 80_00)]
    assert balance(wallet_account(user.id)) == 0 and verify() == []


def test_the_job_run_again_returns_nothing_twice(app, client, live_server, standin, run_jobs):
    user = UserFactory()
    legacy_topup(client, user, 25_00, paid_days_ago=400)
    for _ in range(3):
        paybacks.pay_back_all()
        run_jobs()
    moved = db.session.scalar(select(func.sum(PayBack.amount_fen)).where(
        PayBack.user_id == user.id, PayBack.status.in_(paybacks.MOVED)))
    assert moved == 25_00
    assert db.session.scalar(select(func.count()).select_from(PersonTransfer)) == 1
    assert balance(wallet_account(user.id)) == 0 and verify() == []


def test_what_wechat_cannot_take_stays_owed_and_finance_sees_it(app, client, live_server,
                                                                standin, run_jobs,
                                                                monkeypatch):
    user = UserFactory()
    legacy_topup(client, user, 60_00, paid_days_ago=400)
    monkeypatch.setitem(app.config, "WECHAT_TRANSFER_DAILY_LIMIT_FEN", 10_00)
    paybacks.pay_back_all()
    paybacks.pay_back_all()
    owed = paybacks.owed_to_members()
    assert [(r.user_id, r.amount_fen) for r in owed] == [(user.id, 60_00)]
    assert balance(wallet_account(user.id)) == 60_00 and verify() == []
    finance = StaffFactory(role=StaffRole.finance)
    page = app.test_client(user=finance).get("/staff/mutual-aid/")
    assert f'data-payback-owed="{owed[0].id}"' in page.get_data(as_text=True)
    assert "转账凭证号" not in page.get_data(as_text=True)  # no voucher to type


def test_no_route_takes_a_top_up_or_pays_from_a_balance(app, plan, run_jobs):
    person = members(plan, 1)[0]
    owe(plan, 10_00)
    announce(plan, run_jobs)
    user = db.session.get(User, person.user_id)
    page = app.test_client(user=user)
    for path in ("/mutual-aid/wallet/topup", "/mutual-aid/wallet/refund"):
        answer = page.post(path, data={"amount": "100", "checkout_key": secrets.token_hex(12)})
        assert answer.status_code in (303, 404)
    paid = page.post(f"/mutual-aid/plans/{plan.slug}/pay",
                     data={"method": "wallet", "checkout_key": secrets.token_hex(12)})
    assert paid.status_code == 302 and "/pay/" in paid.headers["Location"]  # WeChat Pay only
    assert db.session.scalar(select(func.count()).select_from(TopUp)) == 0
    assert db.session.scalar(select(func.count()).select_from(Payment).where(
        Payment.payable_type == "plan_topup")) == 0
    assert db.session.scalar(select(func.count()).select_from(ShareCharge).where(
        ShareCharge.paid_via == "wallet")) == 0


def test_the_plan_pages_show_no_balance(app, plan, client):
    user = UserFactory()
    for text in (client.get(f"/mutual-aid/plans/{plan.slug}").get_data(as_text=True),
                 app.test_client(user=user).get("/mutual-aid/me").get_data(as_text=True)):
        assert "余额" not in text and "充值" not in text
        assert "后付费" in text


def test_a_round_due_is_told_once_by_wechat_message(plan, run_jobs):
    from app.mutual_aid.reminders import remind_shares_due
    from app.wechat.models import WechatMessage

    members(plan, 2)
    owe(plan, 10_00)
    round_ = announce(plan, run_jobs)
    assert remind_shares_due(round_.id) == 0   # the apportionment job told them already
    messages = db.session.scalars(select(WechatMessage).where(
        WechatMessage.template == "share_due")).all()
    assert len(messages) == 2


def test_a_waiting_period_refund_is_paid_back_without_a_wallet(app, plan, staff, client,
                                                               live_server, standin, run_jobs):
    from app.mutual_aid import claims, rounds
    from app.mutual_aid.models import Claim
    from tests.mutual_aid.test_claims import submit

    newcomer = members(plan, 1, aged=False)[0]
    others = members(plan, 2)
    owe(plan, 30_00, membership=others[0])
    first = announce(plan, run_jobs)
    for person in [newcomer] + others:
        pay_by_wechat(client, person.user_id, plan)
    submit(app, newcomer)
    claim = db.session.scalars(select(Claim)).one()
    claims.refund_in_waiting_period(claim.id, staff)
    rounds.close_round(first.id, staff=staff, reason="全部会员已缴费")
    second = announce(plan, run_jobs, first.announced_on + timedelta(days=14))
    for person in others:
        pay_by_wechat(client, person.user_id, plan)
    rounds.close_round(second.id, staff=staff, reason="全部会员已缴费")
    item = db.session.scalars(select(RoundItem).where(RoundItem.kind == ItemKind.refund)).one()
    assert item.distributed_fen > 0 and item.to_wallet_fen == 0
    assert balance(wallet_account(newcomer.user_id)) == 0   # nothing went through a wallet
    paybacks.pay_back_all()
    run_jobs()
    settled(newcomer.user_id)
    subject = paybacks.subject_of(paybacks.REFUND_ITEM, item.id)
    assert paybacks.owed_fen(subject) == 0 and balance(PAYBACK_DUE) == 0
    assert balance(wallet_account(newcomer.user_id)) == 0 and verify() == []
