"""Two taps inside WeChat, over HTTP: the amount panel for everyone, a silent snsapi_base
sign-in that keeps the chosen amount, the order's pay sheet, the userinfo upgrade only when the
donor chooses to show their name, one order however often 立即捐款 is tapped, and nothing
changed outside WeChat (desktop sign-in, Native QR)."""
from __future__ import annotations

import json
import re
import secrets

import requests
from sqlalchemy import func, select

from app.auth.models import User
from app.donations.models import Donation
from app.extensions import db
from app.payments.models import Payment
from app.wechat_standin.state import TestUser
from tests.auth.wechat_browser import path_of, query_of
from tests.factories import UserFactory
from tests.payments.helpers import DESKTOP_UA, WECHAT_UA, fresh
from tests.payments.test_flow import wait_until_paid

IN_WECHAT = {"User-Agent": WECHAT_UA}
JSON_IN_WECHAT = {"User-Agent": WECHAT_UA, "Accept": "application/json"}


def counts() -> tuple[int, int]:
    return (db.session.scalar(select(func.count()).select_from(Payment)),
            db.session.scalar(select(func.count()).select_from(Donation)))


def panel_key(client, campaign, headers=IN_WECHAT) -> str:
    page = client.get(f"/c/{campaign.id}", headers=headers).get_data(as_text=True)
    return re.search(r'name="checkout_key" value="([^"]+)"', page)[1]


def tap_donate(client, campaign, headers=IN_WECHAT, **form):
    data = {"checkout_key": panel_key(client, campaign, headers), "preset": "50"} | form
    return client.post(f"/c/{campaign.id}/donate", data=data, headers=headers)


def through_wechat(client, answer, phone: requests.Session, standin, **consent):
    """Our /auth/login → the stand-in (silent for snsapi_base; for snsapi_userinfo the consent
    page, allowed with `consent`) → our callback. Returns our callback's answer and the scope."""
    login = client.get(path_of(answer.headers["Location"]), headers=IN_WECHAT)
    assert login.status_code == 302 and login.headers["Location"].startswith(standin.base_url)
    scope = query_of(login.headers["Location"].split("#")[0])["scope"]
    wechat = phone.get(login.headers["Location"], allow_redirects=False, timeout=5)
    if scope == "snsapi_userinfo":
        assert wechat.status_code == 200 and "允许" in wechat.text  # WeChat's consent page
        hidden = dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', wechat.text))
        wechat = phone.post(standin.base_url + "connect/oauth2/authorize",
                            data=hidden | {"action": "allow"} | consent, allow_redirects=False,
                            timeout=5)
    assert wechat.status_code == 302, wechat.text  # snsapi_base: no page at all
    return client.get(path_of(wechat.headers["Location"]), headers=IN_WECHAT), scope


def signed_in_user(client) -> User:
    with client.session_transaction() as session:
        return db.session.get(User, int(session["_user_id"].split(":")[1]))


def test_a_visitor_in_wechat_signs_in_silently_and_the_pay_sheet_opens(
        live_server, standin, client, live_campaign):
    page = client.get(f"/c/{live_campaign.id}", headers=IN_WECHAT).get_data(as_text=True)
    assert "立即捐款" in page and 'name="preset"' in page and "微信登录后捐款" not in page
    assert "standin/bridge.js" in page  # the stand-in plays WeChat's browser

    tapped = tap_donate(client, live_campaign, preset="", amount="66.6", blessing="加油！")
    assert tapped.status_code == 302 and "scope=base" in tapped.headers["Location"]
    assert counts() == (0, 0)
    phone = requests.Session()
    back, scope = through_wechat(client, tapped, phone, standin)
    assert scope == "snsapi_base"
    assert back.headers["Location"] == f"/c/{live_campaign.id}/donate/continue"
    ordered = client.get(back.headers["Location"], headers=IN_WECHAT)

    payment = db.session.scalars(select(Payment)).one()
    assert ordered.headers["Location"] == f"/c/{live_campaign.id}#pay={payment.out_trade_no}"
    user = signed_in_user(client)
    assert (payment.trade_type, payment.amount_fen, payment.openid) == ("JSAPI", 66_60, user.openid)
    assert user.nickname == "微信用户" and not user.has_profile and user.avatar_url is None
    assert db.session.scalars(select(Donation)).one().blessing == "加油！"
    assert client.get(f"/c/{live_campaign.id}/donate/continue").status_code == 302
    assert counts() == (1, 1)  # the kept choice is used once

    sheet = client.get(f"/api/v1/payments/{payment.out_trade_no}/pay_sheet").json
    assert sheet["jsapi"]["package"] == f"prepay_id={payment.prepay_id}"
    paid = phone.post(standin.base_url + "standin/bridge/pay", data=json.dumps(sheet["jsapi"]),
                      headers={"Content-Type": "text/plain"}, timeout=5).json()
    assert paid["err_msg"] == "get_brand_wcpay_request:ok"
    wait_until_paid(payment.id)
    assert client.get(sheet["status_url"]).json["next_url"] == sheet["next_url"]
    listing = client.get(f"/api/v1/campaigns/{live_campaign.id}/donations").json["donations"]
    # Others see an openid-only donor as 爱心人士 (the donor sees their own line as theirs).
    assert [d["name"] for d in requests.get(
        f"{live_server}/api/v1/campaigns/{live_campaign.id}/donations",
        timeout=5).json()["donations"]] == ["爱心人士"]
    assert [d["amount_fen"] for d in listing] == [66_60]


def test_choosing_to_show_ones_name_asks_userinfo_and_upgrades_the_same_user(
        standin, app, live_campaign):
    openid = "o" + secrets.token_hex(13)
    standin.state.users[openid] = TestUser(openid=openid, nickname="热心的王阿姨",
                                           headimgurl=standin.base_url + "a.svg")
    silent = UserFactory(openid=openid, nickname="微信用户")
    client = app.test_client(user=silent)
    tapped = tap_donate(client, live_campaign, show_profile="1")
    assert tapped.status_code == 302 and "scope=userinfo" in tapped.headers["Location"]
    back, scope = through_wechat(client, tapped, requests.Session(), standin, openid=openid)
    assert scope == "snsapi_userinfo"
    assert signed_in_user(client).id == silent.id
    upgraded = fresh(User, silent.id)
    assert upgraded.nickname == "热心的王阿姨" and upgraded.has_profile
    assert upgraded.avatar_url == standin.base_url + "a.svg"
    client.get(back.headers["Location"], headers=IN_WECHAT)
    assert counts() == (1, 1)
    # Already showing their name: no consent page again, the order is made at once.
    again = tap_donate(client, live_campaign, show_profile="1")
    assert "#pay=" in again.headers["Location"] and counts() == (2, 2)


def test_a_double_tap_in_wechat_makes_one_order(standin, donor_client, live_campaign):
    key = panel_key(donor_client, live_campaign)
    form = {"checkout_key": key, "preset": "20"}
    first = donor_client.post(f"/c/{live_campaign.id}/donate", data=form, headers=JSON_IN_WECHAT)
    second = donor_client.post(f"/c/{live_campaign.id}/donate", data=form, headers=JSON_IN_WECHAT)
    assert first.status_code == second.status_code == 200
    assert first.json["out_trade_no"] == second.json["out_trade_no"]
    assert first.json["jsapi"]["signType"] in ("RSA", "MD5") and counts() == (1, 1)
    assert first.json["order_url"] == f"/pay/{first.json['out_trade_no']}"

    changed = donor_client.post(f"/c/{live_campaign.id}/donate", data=form | {"preset": "50"},
                                headers=JSON_IN_WECHAT)
    assert changed.status_code == 409 and changed.json["error"]["code"] == "checkout_conflict"
    bad = donor_client.post(f"/c/{live_campaign.id}/donate",
                            data={"checkout_key": key, "preset": "", "amount": "-3"},
                            headers=JSON_IN_WECHAT)
    assert bad.status_code == 422 and bad.json["error"]["message"]
    assert counts() == (1, 1)


def test_a_visitor_without_a_session_gets_json_401_and_a_bad_amount_is_said_at_once(
        client, live_campaign):
    anonymous = client.post(f"/c/{live_campaign.id}/donate", headers=JSON_IN_WECHAT,
                            data={"checkout_key": secrets.token_hex(16), "preset": "20"})
    assert anonymous.status_code == 401 and anonymous.json["error"]["code"] == "sign_in_required"
    refused = tap_donate(client, live_campaign, preset="", amount="0.5")
    assert refused.status_code == 422 and "单笔捐款金额" in refused.get_data(as_text=True)
    assert counts() == (0, 0)


def test_only_the_payer_reads_the_pay_sheet(app, standin, donor_client, live_campaign):
    tapped = tap_donate(donor_client, live_campaign)
    out_trade_no = tapped.headers["Location"].rsplit("=", 1)[1]
    assert donor_client.get(f"/api/v1/payments/{out_trade_no}/pay_sheet").status_code == 200
    stranger = app.test_client(user=UserFactory())
    assert stranger.get(f"/api/v1/payments/{out_trade_no}/pay_sheet").status_code == 404


def test_outside_wechat_nothing_changes(standin, client, live_campaign):
    tapped = tap_donate(client, live_campaign, headers={"User-Agent": DESKTOP_UA})
    login = client.get(path_of(tapped.headers["Location"]), headers={"User-Agent": DESKTOP_UA})
    assert login.status_code == 200 and "<svg" in login.get_data(as_text=True)  # the QR sign-in
    donor = UserFactory()
    with client.session_transaction() as session:  # the phone approved the desktop's ticket
        session["_user_id"] = donor.get_id()
        session["_fresh"] = True
    ordered = client.get(f"/c/{live_campaign.id}/donate/continue",
                         headers={"User-Agent": DESKTOP_UA})
    payment = db.session.scalars(select(Payment)).one()
    assert ordered.headers["Location"] == f"/pay/{payment.out_trade_no}"
    assert payment.trade_type == "NATIVE" and payment.amount_fen == 50_00


def test_the_order_page_names_the_campaign_and_leads_back(standin, donor_client, live_campaign):
    tapped = tap_donate(donor_client, live_campaign)
    out_trade_no = tapped.headers["Location"].rsplit("=", 1)[1]
    inside = donor_client.get(f"/pay/{out_trade_no}", headers=IN_WECHAT).get_data(as_text=True)
    assert live_campaign.title in inside and "筹款编号" not in inside
    assert f'href="/c/{live_campaign.id}#donate"' in inside and "返回修改金额" in inside
    assert "微信支付没有自动打开" in inside and "请在微信内打开" not in inside
    outside = donor_client.get(f"/pay/{out_trade_no}",
                               headers={"User-Agent": DESKTOP_UA}).get_data(as_text=True)
    assert "请回到微信打开本页完成支付" in outside and live_campaign.title in outside
