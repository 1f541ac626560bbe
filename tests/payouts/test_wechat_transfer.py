"""商家转账 to people, against the stand-in as WeChat publishes it: a pledge's shares go to the
donors' WeChat, wait for each donor to confirm (我的 · 领取), and are settled exactly once by the
MCHTRANSFER.BILL.FINISHED notice or by querying; an unconfirmed bill WeChat closes brings its
money back. `ledger verify` is clean after each (tests/payouts/conftest.py)."""
from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
import requests
from flask import current_app
from sqlalchemy import func, select
from wechatpayv3.type import RequestType

from app.campaigns.services import end_campaign
from app.extensions import db
from app.ledger.models import LedgerTransaction
from app.ledger.services import balance
from app.models_base import utcnow
from app.payouts import transfers
from app.payouts.models import PayoutNotice
from app.payouts.errors import PayoutError
from app.payouts.provider import PayoutUnavailable, TransferRequest, get_payout_provider
from app.payouts.transfer_models import PersonTransfer, TransferStatus
from app.pledges import services as pledges
from app.pledges.accounts import FORWARD_FUND, pledge_custody
from app.pledges.models import Share, ShareStatus
from app.wechat.models import MessageStatus, WechatMessage
from app.wechat_standin.messages import sent_messages
from app.wechat_standin.v3 import crypto
from tests.clock import days_ahead
from tests.pledges.helpers import repay

T = TransferStatus


def _base() -> str:
    return current_app.config["WECHAT_API_BASE"]


def _hook(path: str, method: str = "post", **params):
    return getattr(requests, method)(f"{_base()}standin/v3/transfer/{path}", params=params,
                                     timeout=10)


@pytest.fixture()
def shares(live_server, client, funded, staff, patient, donors, run_jobs):
    """Donors gave ¥300/¥500/¥1,200; the first ¥500 instalment of a pledge back to them makes
    three transfers of ¥75, ¥125 and ¥300, each waiting for its donor."""
    end_campaign(funded, "筹款期限已到", by_staff=staff)
    pledge = pledges.create_pledge(funded.id, patient, total_fen=1_000_00, schedule="monthly",
                                   instalments=2, first_due=days_ahead(44),
                                   destination="donors")
    repay(client, pledge, patient)
    run_jobs()
    db.session.expire_all()
    rows = db.session.scalars(select(PersonTransfer).order_by(PersonTransfer.amount_fen)).all()
    assert [(t.amount_fen, t.status) for t in rows] == [
        (75_00, T.waiting_user), (125_00, T.waiting_user), (300_00, T.waiting_user)]
    return pledge, rows


def _wait(out_bill_no: str, status: TransferStatus, timeout: float = 10) -> PersonTransfer:
    deadline = time.monotonic() + timeout
    while True:
        db.session.expire_all()
        transfer = db.session.scalar(select(PersonTransfer).where(
            PersonTransfer.out_bill_no == out_bill_no))
        if transfer.status == status or time.monotonic() > deadline:
            assert transfer.status == status
            return transfer
        time.sleep(0.05)


def _postings(source_type: str, ref: str | None = None) -> int:
    query = select(func.count()).select_from(LedgerTransaction).where(
        LedgerTransaction.source_type == source_type)
    if ref is not None:
        query = query.where(LedgerTransaction.source_ref == ref)
    return db.session.scalar(query)


def _told(standin, run_jobs, openid: str, templates: list[str], timeout: float = 10) -> list:
    """The 商家转账 messages the stand-in received for `openid`, once they are all sent (the
    donor is also told of the campaign's end, which is not what these tests count)."""
    deadline = time.monotonic() + timeout
    while True:
        run_jobs()
        db.session.expire_all()
        states = db.session.scalars(select(WechatMessage.status).where(
            WechatMessage.openid == openid, WechatMessage.template.like("transfer_%"))
            .order_by(WechatMessage.id)).all()
        if (len(states) == len(templates) and set(states) == {MessageStatus.sent}) \
                or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    sent = [m for m in sent_messages(standin.wsgi_app) if m["touser"] == openid
            and m["template_id"].startswith("xiangzhu_transfer_")]
    assert [m["template_id"] for m in sent] == [f"xiangzhu_{t}" for t in templates]
    return sent


def _notices(user_id: int, title: str) -> int:
    return db.session.scalar(select(func.count()).select_from(PayoutNotice).where(
        PayoutNotice.user_id == user_id, PayoutNotice.title == title))


def test_confirmed_on_wechats_page_then_notified_pays_once(app, shares, donors, standin,
                                                           run_jobs):
    pledge, rows = shares
    first = rows[0]
    assert balance(transfers.TRANSFER_CLEARING) == 500_00
    assert balance(pledge_custody(pledge.id)) == 0
    bill = _hook(first.out_bill_no, "get").json()
    assert bill["state"] == "WAIT_USER_CONFIRM" and bill["transfer_amount"] == 75_00
    assert bill["user_name"] is None  # below 2,000 yuan no name is sent
    page = requests.get(f"{_base()}standin/transfer/confirm",
                        params={"package": first.package_info}, timeout=10)
    assert "确认收款" in page.text and "¥75.00" in page.text
    requests.post(f"{_base()}standin/transfer/confirm/confirm",
                  data={"package": first.package_info}, timeout=10)
    done = _wait(first.out_bill_no, T.succeeded)
    assert done.transfer_bill_no == bill["transfer_bill_no"]
    for _ in range(15):  # WeChat resends: each copy is taken and changes nothing
        assert _hook(f"{first.out_bill_no}/notify").json()["acknowledged"] == [True]
    db.session.expire_all()
    assert _postings(transfers.SOURCE_TRANSFER_PAID, first.out_bill_no) == 1
    assert balance(transfers.TRANSFERS_OUT) == 75_00
    assert balance(transfers.TRANSFER_CLEARING) == 425_00
    share = db.session.get(Share, int(first.purpose_ref))
    assert share.status == ShareStatus.paid
    assert _notices(first.user_id, "有一笔款项待领取") == 1
    assert _notices(first.user_id, "款项已到账") == 1
    # …and by WeChat message, once per change however often WeChat resent its notice.
    waiting, received = _told(standin, run_jobs, first.openid,
                              ["transfer_waiting", "transfer_received"])
    assert waiting["data"]["amount2"]["value"] == "¥75" and waiting["url"].endswith(
        transfers.MY_URL)
    assert waiting["data"]["thing1"]["value"].startswith("诺言还款")
    assert received["data"]["thing1"]["value"] == "诺言还款"


def test_ten_concurrent_copies_settle_once(app, shares):
    _, rows = shares
    second = rows[1]
    _hook(f"{second.out_bill_no}/confirm")
    _wait(second.out_bill_no, T.succeeded)
    assert _hook(f"{second.out_bill_no}/notify", copies=10).json()["acknowledged"] == [True] * 10
    db.session.expire_all()
    assert _postings(transfers.SOURCE_TRANSFER_PAID, second.out_bill_no) == 1
    assert _notices(second.user_id, "款项已到账") == 1


def test_a_retry_after_a_kill_between_create_and_commit_pays_once(app, shares):
    _, rows = shares
    third = rows[2]
    # A transfer whose bill WeChat made while our settling transaction died, undone by hand:
    # the row back to `created`, its 待领取 notice unwritten; the bill exists at the stand-in.
    db.session.execute(PersonTransfer.__table__.update().where(
        PersonTransfer.id == third.id).values(status=T.created, package_info="",
                                              updated_at=utcnow() - timedelta(minutes=5)))
    db.session.execute(PayoutNotice.__table__.delete().where(
        PayoutNotice.user_id == third.user_id, PayoutNotice.kind == "transfer"))
    db.session.commit()
    provider = get_payout_provider(transfers.PROVIDER)
    request = TransferRequest(third.out_bill_no, third.amount_fen, "wechat_user", "",
                              third.openid, "微信零钱", third.remark)
    made = provider.transfer(request)   # WeChat answers…
    db.session.rollback()               # …and we die before recording it
    assert made.state == "waiting_user"
    assert transfers.reconcile()["waiting_user"] == 1  # sent again, same out_bill_no
    again = provider.transfer(request)
    assert again.custodian_ref == made.custodian_ref and again.package_info == made.package_info
    _hook(f"{third.out_bill_no}/confirm")
    _wait(third.out_bill_no, T.succeeded)
    _hook(f"{third.out_bill_no}/notify", copies=3)
    db.session.expire_all()
    assert _postings(transfers.SOURCE_TRANSFER, third.out_bill_no) == 1
    assert _postings(transfers.SOURCE_TRANSFER_PAID, third.out_bill_no) == 1
    assert _notices(third.user_id, "有一笔款项待领取") == 1


def test_an_unconfirmed_bill_closed_by_wechat_returns_its_money(app, shares, standin,
                                                                 run_jobs):
    pledge, rows = shares
    first, second = rows[0], rows[1]
    fund = balance(FORWARD_FUND)
    _hook(f"{first.out_bill_no}/expire", notify=0)   # closed, its notice lost
    _hook(f"{second.out_bill_no}/expire")            # closed and notified
    _wait(second.out_bill_no, T.returned)
    assert transfers.reconcile(now=utcnow() + timedelta(hours=2)).get("returned") == 1
    db.session.expire_all()
    for transfer in (first, second):
        back = db.session.get(PersonTransfer, transfer.id)
        assert back.status == T.returned and "24 小时" in back.fail_reason
        assert _postings(transfers.SOURCE_TRANSFER_RETURN, back.out_bill_no) == 1
        assert db.session.get(Share, int(back.purpose_ref)).status == ShareStatus.failed
        assert _notices(back.user_id, "转账未能到账") == 1
        returned = _told(standin, run_jobs, back.openid,
                         ["transfer_waiting", "transfer_returned"])[1]
        assert "24 小时" in returned["data"]["thing3"]["value"]
    # Back in the pledge's custody, then forward to the fund, as any share that cannot go back.
    assert balance(FORWARD_FUND) == fund + 200_00
    assert balance(pledge_custody(pledge.id)) == 0
    assert balance(transfers.TRANSFER_CLEARING) == 300_00


def test_cancel_before_the_recipient_confirms(app, shares):
    _, rows = shares
    assert transfers.cancel(rows[2].id) == "returned"
    assert _hook(rows[2].out_bill_no, "get").json()["state"] == "CANCELLED"
    assert _hook(f"{rows[2].out_bill_no}/confirm").status_code == 404


def _forged(out_bill_no: str, amount: int, *, key=None, stamp=None, serial=None) -> tuple:
    platform = current_app.extensions.get("standin_v3_keys")
    body = json.dumps({"id": "EV-1", "create_time": "2026-01-01T00:00:00+08:00",
                       "resource_type": "encrypt-resource",
                       "event_type": "MCHTRANSFER.BILL.FINISHED", "summary": "x",
                       "resource": {**crypto.aes_gcm_encrypt(
                           current_app.config["WECHAT_PAY_APIV3_KEY"],
                           json.dumps({"mch_id": current_app.config["WECHAT_MCH_ID"],
                                       "out_bill_no": out_bill_no, "state": "SUCCESS",
                                       "transfer_amount": amount,
                                       "transfer_bill_no": "1330X"}), "mch_payment"),
                                    "original_type": "mch_payment"}})
    stamp = str(int(time.time())) if stamp is None else stamp
    headers = {"Wechatpay-Timestamp": stamp, "Wechatpay-Nonce": "n0nce",
               "Wechatpay-Serial": serial or current_app.config["WECHAT_PAY_PUBLIC_KEY_ID"],
               "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
               "Wechatpay-Signature": crypto.sign(key or crypto.new_rsa_key(),
                                                  crypto.response_message(stamp, "n0nce", body)),
               "Content-Type": "application/json"}
    assert platform is None  # our app holds no stand-in keys: it only has the public key
    return body, headers


def test_forged_stale_and_unknown_serial_notices_change_nothing(app, client, shares):
    _, rows = shares
    first = rows[0]
    for kwargs in ({}, {"stamp": str(int(time.time()) - 600)}, {"serial": "PUB_KEY_ID_0000"}):
        body, headers = _forged(first.out_bill_no, first.amount_fen, **kwargs)
        reply = client.post("/wechat/pay/v3/transfer_notify", data=body, headers=headers)
        assert reply.status_code == 401 and reply.json["code"] == "FAIL"
    db.session.expire_all()
    assert db.session.get(PersonTransfer, first.id).status == T.waiting_user
    assert _postings(transfers.SOURCE_TRANSFER_PAID) == 0


def test_over_the_daily_limit_a_share_goes_by_bank(app, live_server, client, funded, staff,
                                                   patient, donors, run_jobs):
    from app.payouts import standin_custodian

    app.config["WECHAT_TRANSFER_DAILY_LIMIT_FEN"] = 200_00
    try:
        end_campaign(funded, "筹款期限已到", by_staff=staff)
        pledge = pledges.create_pledge(funded.id, patient, total_fen=1_000_00,
                                       schedule="monthly", instalments=2,
                                       first_due=days_ahead(44), destination="donors")
        repay(client, pledge, patient)
        run_jobs()
    finally:
        app.config["WECHAT_TRANSFER_DAILY_LIMIT_FEN"] = transfers.DAILY_LIMIT_FEN
    db.session.expire_all()
    assert sorted(t.amount_fen for t in db.session.scalars(select(PersonTransfer))) == \
        [75_00, 125_00]
    big = db.session.scalar(select(Share).where(Share.amount_fen == 300_00))
    assert big.status == ShareStatus.paid  # the custodian's bank transfer
    assert standin_custodian.transfers_made(big.transfer_id) == 1
    with pytest.raises(PayoutError, match="超过微信单人单日转账限额"):
        app.config["WECHAT_TRANSFER_DAILY_LIMIT_FEN"] = 75_00  # donors[0] had ¥75 today
        try:
            transfers.start_transfer("pledge_share", "999999", donors[0].id, 1_00,
                                     pledge_custody(pledge.id), "x")
        finally:
            app.config["WECHAT_TRANSFER_DAILY_LIMIT_FEN"] = transfers.DAILY_LIMIT_FEN
    db.session.rollback()


def test_user_name_is_encrypted_with_the_platform_key_from_2000_yuan(app, live_server, db,
                                                                     standin):
    provider = get_payout_provider(transfers.PROVIDER)
    big = TransferRequest("XZTBNAME0001", 2_000_00, "wechat_user", "张三",
                          "o_transfer_name_test_0001", "微信零钱", "测试")
    assert provider.transfer(big).state == "waiting_user"
    held = standin.platform  # the stand-in decrypted it with its private key
    bill = _hook("XZTBNAME0001", "get").json()
    assert bill["user_name"] == "张三" and held.public_key.serial
    nameless = TransferRequest("XZTBNAME0002", 2_000_00, "wechat_user", "",
                               "o_transfer_name_test_0001", "微信零钱", "测试")
    with pytest.raises(PayoutUnavailable):   # the library refuses to send it at all
        provider.transfer(nameless)
    # …and so does WeChat: a signed request without user_name is a PARAM_ERROR, no bill.
    status, text = provider.client._core.request(
        "/v3/fund-app/mch-transfer/transfer-bills", method=RequestType.POST, data={
            "appid": current_app.config["WECHAT_APPID"], "out_bill_no": "XZTBNAME0002",
            "transfer_scene_id": "1000", "openid": "o_transfer_name_test_0001",
            "transfer_amount": 2_000_00, "transfer_remark": "测试",
            "transfer_scene_report_infos": [{"info_type": "活动名称", "info_content": "x"}]})
    assert status == 400 and json.loads(text)["code"] == "PARAM_ERROR"
    assert _hook("XZTBNAME0002", "get").status_code == 404
    # A name encrypted with a key that is not the platform's does not decrypt there.
    status, text = provider.client._core.request(
        "/v3/fund-app/mch-transfer/transfer-bills", method=RequestType.POST, cipher_data=True,
        data={"appid": current_app.config["WECHAT_APPID"], "out_bill_no": "XZTBNAME0003",
              "transfer_scene_id": "1000", "openid": "o_transfer_name_test_0001",
              "transfer_amount": 2_000_00, "transfer_remark": "测试",
              "user_name": crypto.oaep_encrypt(crypto.new_rsa_key().public_key(), "张三"),
              "transfer_scene_report_infos": [{"info_type": "活动名称", "info_content": "x"}]})
    assert status == 400 and "user_name" in json.loads(text)["message"]


def test_my_page_shows_what_waits_only_to_its_recipient(app, shares, donors):
    _, rows = shares
    first = rows[0]
    recipient = next(d for d in donors if d.id == first.user_id)
    other = next(d for d in donors if d.id != first.user_id)
    mine = app.test_client(user=recipient)
    page = mine.get("/me/transfers").get_data(as_text=True)
    assert "待领取" in page and "领取" in page and f"/me/transfers/{first.id}/receive" in page
    theirs = app.test_client(user=other)
    assert f"/me/transfers/{first.id}/receive" not in theirs.get("/me/transfers").get_data(
        as_text=True)
    assert theirs.get(f"/me/transfers/{first.id}/receive").status_code == 404
    assert app.test_client().get("/me/transfers").status_code in (302, 401)
    go = mine.get(f"/me/transfers/{first.id}/receive")
    assert go.status_code == 302 and "standin/transfer/confirm" in go.headers["Location"]
    assert "确认收款" in requests.get(go.headers["Location"], timeout=10).text
