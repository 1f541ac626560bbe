"""Starting a donation: one order per checkout, clear refusals, nothing half-done, rate limits."""
import re
import secrets
import threading

import pytest
from sqlalchemy import func, select

from app.donations.models import Donation
from app.extensions import db
from app.payments.models import Payment
from tests.factories import StaffFactory
from tests.payments.helpers import DESKTOP_UA, start


def counts():
    return (db.session.scalar(select(func.count()).select_from(Payment)),
            db.session.scalar(select(func.count()).select_from(Donation)))


def checkout_key(client, campaign) -> str:
    html = client.get(f"/c/{campaign.id}/donate").get_data(as_text=True)
    return re.search(r'name="checkout_key" value="([^"]+)"', html)[1]


def post(client, campaign, **form):
    return client.post(f"/c/{campaign.id}/donate", data=form,
                       headers={"User-Agent": DESKTOP_UA})


def test_a_double_click_or_reload_makes_one_order(donor_client, standin, live_campaign):
    key = checkout_key(donor_client, live_campaign)
    first = post(donor_client, live_campaign, checkout_key=key, preset="20")
    again = post(donor_client, live_campaign, checkout_key=key, preset="20")
    assert first.status_code == again.status_code == 302
    assert first.headers["Location"] == again.headers["Location"]
    assert counts() == (1, 1)
    out_trade_no = first.headers["Location"].rsplit("/", 1)[1]
    assert out_trade_no in standin.state.orders
    assert checkout_key(donor_client, live_campaign) != key  # each render is a new checkout


def test_the_same_checkout_with_another_amount_is_refused(donor_client, live_campaign):
    key = checkout_key(donor_client, live_campaign)
    assert post(donor_client, live_campaign, checkout_key=key, preset="20").status_code == 302
    response = post(donor_client, live_campaign, checkout_key=key, preset="50")
    assert response.status_code == 409 and "请刷新页面" in response.get_data(as_text=True)
    assert counts() == (1, 1)


def test_concurrent_submissions_of_one_checkout_make_one_order(app, live_campaign, donor):
    if db.engine.dialect.name == "sqlite":
        pytest.skip("needs PostgreSQL's row-level waits on the unique key")
    key, campaign_id, donor_id = secrets.token_hex(16), live_campaign.id, donor.id
    results, barrier = [], threading.Barrier(5)

    def submit():
        with app.app_context():
            from app.auth.models import User

            user = db.session.get(User, donor_id)
            barrier.wait()
            results.append(start(campaign_id, user, 20_00, form_key=key).out_trade_no)
            db.session.remove()

    threads = [threading.Thread(target=submit) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 5 and len(set(results)) == 1
    assert counts() == (1, 1)


@pytest.mark.parametrize("form, message", [
    (dict(amount="0.99"), "单笔捐款金额为 1 元至 50,000 元"),
    (dict(amount="50000.01"), "单笔捐款金额为 1 元至 50,000 元"),
    (dict(amount="-5"), "请填写正确的金额"),
    (dict(amount="1e3"), "请填写正确的金额"),
    (dict(amount="12.345"), "请填写正确的金额"),
    (dict(preset=""), "请选择或填写捐款金额"),
    (dict(preset="20", blessing="福" * 101), "祝福最多 100 个字"),
    (dict(preset="20", checkout_key="short"), "页面已过期"),
    (dict(preset="20", openid="o_someone_else"), "支付用的微信账号与当前登录的账号不一致"),
])
def test_bad_input_is_refused_with_a_clear_message_and_leaves_nothing(
        donor_client, live_campaign, form, message):
    data = {"checkout_key": secrets.token_hex(16)} | form
    response = post(donor_client, live_campaign, **data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert counts() == (0, 0)


def test_a_campaign_that_is_not_live_takes_no_donations(donor_client, live_campaign, staff):
    from app.campaigns.services import end_campaign

    end_campaign(live_campaign.id, "已达到治疗费用", by_staff=staff)
    response = post(donor_client, live_campaign, checkout_key=secrets.token_hex(16), preset="20")
    assert response.status_code == 409 and "暂不接受捐款" in response.get_data(as_text=True)
    assert "暂不接受捐款" in donor_client.get(f"/c/{live_campaign.id}").get_data(as_text=True)
    assert counts() == (0, 0)


def test_a_failure_at_wechat_leaves_nothing_behind(app, donor_client, live_campaign):
    base = app.config["WECHAT_API_BASE"]
    app.config["WECHAT_API_BASE"] = "http://127.0.0.1:9/"  # nothing listens there
    try:
        response = post(donor_client, live_campaign, checkout_key=secrets.token_hex(16),
                        preset="20")
    finally:
        app.config["WECHAT_API_BASE"] = base
    assert response.status_code == 502 and "微信支付下单失败" in response.get_data(as_text=True)
    assert counts() == (0, 0)


def test_a_visitor_chooses_the_amount_then_signs_in(client, live_campaign):
    page = client.get(f"/c/{live_campaign.id}").get_data(as_text=True)
    assert 'name="checkout_key"' in page and "立即捐款" in page and "微信登录后捐款" not in page
    response = client.post(f"/c/{live_campaign.id}/donate",
                           data={"preset": "20", "checkout_key": secrets.token_hex(16)})
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    assert counts() == (0, 0)  # the order is made once signed in (tests/donations/test_two_taps.py)


def test_staff_accounts_cannot_donate(app, live_campaign):
    staff_client = app.test_client(user=StaffFactory())
    response = post(staff_client, live_campaign, checkout_key=secrets.token_hex(16), preset="20")
    assert response.status_code == 422 and "微信登录" in response.get_data(as_text=True)
    assert counts() == (0, 0)


def test_order_creation_is_rate_limited_per_user(app, donor_client, live_campaign):
    app.config["DONATION_RATE_LIMIT_USER"] = "3/minute"
    try:
        codes = [post(donor_client, live_campaign, checkout_key=secrets.token_hex(16),
                      preset="10").status_code for _ in range(5)]
    finally:
        app.config.pop("DONATION_RATE_LIMIT_USER")
    assert codes == [302, 302, 302, 429, 429]
    assert counts() == (3, 3)


def test_order_creation_is_rate_limited_per_ip(app, live_campaign):
    from tests.factories import UserFactory

    app.config["DONATION_RATE_LIMIT_IP"] = "4/minute"
    try:
        codes = [post(app.test_client(user=UserFactory()), live_campaign,
                      checkout_key=secrets.token_hex(16), preset="10").status_code
                 for _ in range(6)]
    finally:
        app.config.pop("DONATION_RATE_LIMIT_IP")
    assert codes == [302] * 4 + [429] * 2
    assert counts() == (4, 4)


def test_only_the_payer_sees_the_order(app, client, donor_client, live_campaign, donor):
    from tests.factories import UserFactory

    payment = start(live_campaign, donor)
    other = app.test_client(user=UserFactory())
    assert donor_client.get(f"/pay/{payment.out_trade_no}").status_code == 200
    assert other.get(f"/pay/{payment.out_trade_no}").status_code == 404
    assert other.get(f"/api/v1/payments/{payment.out_trade_no}").status_code == 404
    assert client.get(f"/api/v1/payments/{payment.out_trade_no}").status_code == 401
    assert donor_client.get("/api/v1/payments/XZ0").status_code == 404
