"""POST /wechat/pay/notify: record a payment once; refuse, log and change nothing otherwise."""
import pytest
from sqlalchemy import select

from app.campaigns.models import Campaign
from app.donations.models import Donation
from app.extensions import db
from app.ledger.services import CHANNEL_FEES, CLEARING_WECHAT, balance, campaign_custody
from app.ledger.verify import verify
from app.payments.models import NoticeVerdict, Payment, PaymentNotice, PaymentState
from tests.payments.helpers import (acknowledged, fee_count, fee_of, fresh, ledger_count,
                                    notice_for, notice_xml, post_notice, start)

# WeChat Pay v2 (the legacy provider), explicitly: the default is APIv3.
pytestmark = pytest.mark.usefixtures("pay_api_v2")


def verdicts(out_trade_no=None):
    query = select(PaymentNotice.verdict).order_by(PaymentNotice.id)
    if out_trade_no:
        query = query.where(PaymentNotice.out_trade_no == out_trade_no)
    return [v.value for v in db.session.scalars(query)]


def assert_unpaid(payment, campaign):
    payment = fresh(Payment, payment.id)
    assert payment.state == PaymentState.pending and payment.transaction_id is None
    assert ledger_count() == 0 and fee_count() == 0
    assert fresh(Campaign, campaign.id).raised_fen == 0
    assert db.session.scalar(select(Donation.paid_at)) is None
    assert verify() == []


def test_a_valid_notice_records_the_payment_once(client, live_campaign, donor):
    payment = start(live_campaign, donor, 88_00)
    response = post_notice(client, notice_for(payment, transaction_id="4200000000000000000000000042"))
    assert acknowledged(response)
    payment = fresh(Payment, payment.id)
    assert payment.state == PaymentState.paid and payment.paid_at is not None
    assert payment.transaction_id == "4200000000000000000000000042"
    campaign = fresh(Campaign, live_campaign.id)
    assert (campaign.raised_fen, campaign.donation_count) == (88_00, 1)
    # 88 yuan in from WeChat; its 0.6% fee (52.8 → 53 fen) out to the fee account, on its own
    assert payment.channel_fee_fen == 53
    assert balance(campaign_custody(campaign.id)) == 88_00 - 53
    assert balance(CLEARING_WECHAT) == -88_00
    assert balance(CHANNEL_FEES) == 53
    assert ledger_count(payment.out_trade_no) == 1 and fee_count(payment.out_trade_no) == 1
    assert db.session.scalar(select(Donation.paid_at)) is not None
    assert verdicts() == ["processed"]
    assert verify() == []


def test_the_same_notice_15_times_in_a_row_counts_once(client, live_campaign, donor):
    payment = start(live_campaign, donor, 20_00)
    body = notice_for(payment)
    assert all(acknowledged(post_notice(client, body)) for _ in range(15))
    campaign = fresh(Campaign, live_campaign.id)
    assert (campaign.raised_fen, campaign.donation_count) == (20_00, 1)
    assert ledger_count() == 1 and fee_count() == 1
    assert balance(campaign_custody(campaign.id)) == 20_00 - fee_of(20_00)
    assert verdicts() == ["processed"] + ["duplicate"] * 14
    assert verify() == []


@pytest.mark.parametrize("tamper, verdict", [
    (dict(api_key="forged0123456789forged0123456789"), "bad_signature"),
    (dict(sign="9A0A8659F005D6984697E2CA0A9CF3B7"), "bad_signature"),
    (dict(appid="wxd930ea5d5a258f4f"), "wrong_merchant"),
    (dict(mch_id="10000100"), "wrong_merchant"),
])
def test_forged_or_foreign_notices_change_nothing(client, live_campaign, donor, tamper, verdict):
    payment = start(live_campaign, donor)
    response = post_notice(client, notice_for(payment, **tamper))
    assert response.status_code == 200 and not acknowledged(response)
    assert b"FAIL" in response.data
    assert_unpaid(payment, live_campaign)
    assert verdicts(payment.out_trade_no) == [verdict]


def test_a_wrong_amount_changes_nothing(client, live_campaign, donor):
    payment = start(live_campaign, donor, 50_00)
    for wrong in (5_00, 50_01, 5000_00):
        assert not acknowledged(post_notice(client, notice_xml(payment.out_trade_no, wrong)))
    assert_unpaid(payment, live_campaign)
    assert verdicts(payment.out_trade_no) == ["amount_mismatch"] * 3


def test_an_unknown_order_changes_nothing(client, live_campaign, donor):
    payment = start(live_campaign, donor)
    response = post_notice(client, notice_xml("XZ20261128000000999999999999", 50_00))
    assert not acknowledged(response)
    assert_unpaid(payment, live_campaign)
    assert verdicts() == ["unknown_order"]


@pytest.mark.parametrize("body", [b"", b"<xml>", b"\xff\xfe garbage", b"<xml><a><b/></a>",
                                  b"{\"json\": true}"])
def test_malformed_bodies_are_a_fail_never_a_500(client, live_campaign, donor, body):
    payment = start(live_campaign, donor)
    response = post_notice(client, body)
    assert response.status_code == 200 and not acknowledged(response)
    assert_unpaid(payment, live_campaign)
    assert verdicts() == ["malformed"]


def test_an_oversized_body_is_refused(client, live_campaign, donor):
    response = post_notice(client, b"<xml>" + b"a" * 200_000 + b"</xml>")
    assert response.status_code == 200 and not acknowledged(response)
    assert verdicts() == ["malformed"]


def test_a_signed_failure_notice_is_acknowledged_and_changes_nothing(client, live_campaign,
                                                                     donor):
    payment = start(live_campaign, donor)
    body = notice_for(payment, result_code="FAIL", transaction_id=None, err_code="NOTENOUGH",
                      err_code_des="余额不足")
    assert acknowledged(post_notice(client, body))
    assert_unpaid(payment, live_campaign)
    assert verdicts() == ["not_success"]


def test_a_second_transaction_for_a_paid_order_is_refused(client, live_campaign, donor):
    payment = start(live_campaign, donor)
    assert acknowledged(post_notice(client, notice_for(payment)))
    assert not acknowledged(post_notice(client, notice_for(payment)))  # new transaction_id
    assert ledger_count() == 1 and fee_count() == 1
    assert fresh(Campaign, live_campaign.id).donation_count == 1
    assert verdicts() == ["processed", "conflict"]
    assert verify() == []


def test_one_transaction_id_cannot_pay_two_orders(client, live_campaign, donor):
    first, second = start(live_campaign, donor), start(live_campaign, donor)
    tid = "4200000000000000000000000777"
    assert acknowledged(post_notice(client, notice_for(first, transaction_id=tid)))
    assert not acknowledged(post_notice(client, notice_for(second, transaction_id=tid)))
    assert fresh(Payment, second.id).state == PaymentState.pending
    assert ledger_count() == 1 and fee_count() == 1
    assert verdicts() == ["processed", "conflict"]
    assert verify() == []


def test_a_late_notice_for_an_ended_campaign_is_recorded_and_flagged(client, live_campaign,
                                                                     donor, staff):
    from app.campaigns.services import end_campaign

    payment = start(live_campaign, donor, 30_00)
    end_campaign(live_campaign.id, "患者已康复出院", by_staff=staff)
    assert acknowledged(post_notice(client, notice_for(payment)))
    payment = fresh(Payment, payment.id)
    assert payment.state == PaymentState.paid and payment.late
    donation = db.session.scalars(select(Donation)).one()
    assert donation.late and donation.paid_at is not None
    # the money moved: recorded, less WeChat's fee
    assert balance(campaign_custody(live_campaign.id)) == 30_00 - fee_of(30_00)
    assert fresh(Campaign, live_campaign.id).raised_fen == 30_00
    assert verdicts() == ["late"]
    assert NoticeVerdict.late.accepted
    assert verify() == []


def test_the_notify_endpoint_needs_no_csrf_token(app, client, live_campaign, donor):
    payment = start(live_campaign, donor)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert acknowledged(post_notice(client, notice_for(payment)))
        refused = client.post(f"/c/{live_campaign.id}/donate", data={"preset": "10"})
        assert refused.status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_finance_staff_read_the_refused_notices(app, client, live_campaign, donor, staff):
    from app.auth.models import StaffRole
    from tests.factories import StaffFactory

    payment = start(live_campaign, donor)
    post_notice(client, notice_for(payment, api_key="forged0123456789forged0123456789"))
    post_notice(client, notice_for(payment))
    finance = app.test_client(user=StaffFactory(role=StaffRole.finance))
    html = finance.get("/staff/payments/notices").get_data(as_text=True)
    assert "<strong>签名错误</strong>" in html and payment.out_trade_no in html
    assert "<strong>已入账</strong>" not in html
    everything = finance.get("/staff/payments/notices?verdict=all").get_data(as_text=True)
    assert "<strong>已入账</strong>" in everything
    assert finance.get("/staff/payments/notices?verdict=nonsense").status_code == 400
    assert app.test_client(user=staff).get("/staff/payments/notices").status_code == 403
    assert client.get("/staff/payments/notices").status_code == 302
    assert app.test_client(user=donor).get("/staff/payments/notices").status_code == 403
