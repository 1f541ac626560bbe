"""A blessing holding a phone, ID, card number or e-mail: before any order the donor is warned
(the donate form again, or 422 blessing_personal_data to the pay sheet's fetch) and may
correct it; sent again unchanged (blessing_confirmed=1) it goes on to pay, masked in public."""
from __future__ import annotations

import re
import secrets

import pytest
from sqlalchemy import func, select

from app.donations.models import Donation
from app.extensions import db
from app.payments.models import Payment
from tests.payments.helpers import DESKTOP_UA, WECHAT_UA

PHONE = "13812345678"


def _orders() -> int:
    return db.session.scalar(select(func.count()).select_from(Payment)) + db.session.scalar(
        select(func.count()).select_from(Donation))


def _key(client, campaign) -> str:
    html = client.get(f"/c/{campaign.id}/donate").get_data(as_text=True)
    return re.search(r'name="checkout_key" value="([^"]+)"', html)[1]


def _post(client, campaign, json: bool = False, **form):
    headers = {"User-Agent": WECHAT_UA if json else DESKTOP_UA}
    if json:
        headers["Accept"] = "application/json"
    return client.post(f"/c/{campaign.id}/donate", data=form, headers=headers)


@pytest.mark.parametrize("blessing, kinds", [
    (f"加油！有事打我电话 {PHONE}", "手机号码"),
    ("银行卡 6222021234567890128 可以直接转", "银行卡号"),
    ("写信 alice@example.com，电话 138-1234-5678", "电子邮箱、手机号码"),
])
def test_the_donor_is_warned_before_paying_and_nothing_is_ordered(donor_client, live_campaign,
                                                                  blessing, kinds):
    response = _post(donor_client, live_campaign, checkout_key=_key(donor_client, live_campaign),
                     preset="20", blessing=blessing)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f"祝福中含有{kinds}。祝福会公开显示" in html
    assert blessing in html                                     # as typed, to correct
    assert 'name="blessing_confirmed" value="1"' in html
    assert "不修改，继续捐款" in html and 'value="20" checked' in html
    assert _orders() == 0


def test_sent_again_unchanged_it_goes_on_to_pay(donor_client, live_campaign):
    key = _key(donor_client, live_campaign)
    warned = _post(donor_client, live_campaign, checkout_key=key, preset="20",
                   blessing=f"加油 {PHONE}")
    assert warned.status_code == 200 and _orders() == 0
    paid = _post(donor_client, live_campaign, checkout_key=key, preset="20",
                 blessing=f"加油 {PHONE}", blessing_confirmed="1")
    assert paid.status_code == 302
    assert db.session.scalar(select(Donation.blessing)) == f"加油 {PHONE}"


def test_a_corrected_blessing_goes_on_without_a_second_warning(donor_client, live_campaign):
    key = _key(donor_client, live_campaign)
    _post(donor_client, live_campaign, checkout_key=key, preset="20", blessing=f"加油 {PHONE}")
    corrected = _post(donor_client, live_campaign, checkout_key=key, preset="20", blessing="加油")
    assert corrected.status_code == 302
    assert db.session.scalar(select(Donation.blessing)) == "加油"


def test_a_blessing_without_numbers_is_not_held_up(donor_client, live_campaign):
    response = _post(donor_client, live_campaign, checkout_key=_key(donor_client, live_campaign),
                     preset="20", blessing="愿早日康复，2024 年一起去看海")
    assert response.status_code == 302 and _orders() == 2


def test_the_pay_sheet_fetch_gets_422_with_the_warning_then_the_sheet(donor_client,
                                                                      live_campaign):
    key = _key(donor_client, live_campaign)
    refused = _post(donor_client, live_campaign, json=True, checkout_key=key, preset="20",
                    blessing=f"加油 {PHONE}")
    assert refused.status_code == 422
    error = refused.get_json()["error"]
    assert error["code"] == "blessing_personal_data"
    assert error["message"].startswith("祝福中含有手机号码")
    assert _orders() == 0
    sheet = _post(donor_client, live_campaign, json=True, checkout_key=key, preset="20",
                  blessing=f"加油 {PHONE}", blessing_confirmed="1")
    assert sheet.status_code == 200 and sheet.get_json()["out_trade_no"]


def test_a_signed_out_visitor_is_warned_before_signing_in(client, live_campaign):
    key = secrets.token_urlsafe(16)
    response = _post(client, live_campaign, checkout_key=key, preset="20",
                     blessing=f"加油 {PHONE}")
    assert response.status_code == 200
    assert "祝福中含有手机号码" in response.get_data(as_text=True)
    with client.session_transaction() as session:
        assert "pending_donation" not in session
    onward = _post(client, live_campaign, checkout_key=key, preset="20",
                   blessing=f"加油 {PHONE}", blessing_confirmed="1")
    assert onward.status_code == 302 and "/auth/login" in onward.headers["Location"]
    with client.session_transaction() as session:
        assert session["pending_donation"]["blessing_confirmed"] == "1"
