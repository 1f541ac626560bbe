"""A friend's share link still brings the credit when the donor is signed in silently
(snsapi_base) on their first tap of 立即捐款: the visit made before signing in becomes theirs."""
from __future__ import annotations

import json

import requests
from sqlalchemy import select

from app.donations.models import Donation
from app.extensions import db
from app.payments.models import Payment
from app.sharing import services
from app.sharing.models import ShareAttribution
from tests.donations.test_two_taps import IN_WECHAT, signed_in_user, tap_donate, through_wechat
from tests.payments.test_flow import wait_until_paid
from tests.sharing.conftest import Person, share


def test_the_share_link_is_credited_through_a_silent_sign_in(live_server, standin, client,
                                                             live_campaign, patient, run_jobs):
    link = share(live_campaign, Person(patient.id))
    opened = client.get(f"/s/{link.token}", headers=IN_WECHAT)
    assert opened.headers["Location"] == f"/c/{live_campaign.id}"

    phone = requests.Session()
    back, scope = through_wechat(client, tap_donate(client, live_campaign, preset="20"), phone,
                                 standin)
    assert scope == "snsapi_base"
    client.get(back.headers["Location"], headers=IN_WECHAT)
    payment = db.session.scalars(select(Payment)).one()
    sheet = client.get(f"/api/v1/payments/{payment.out_trade_no}/pay_sheet").json
    paid = phone.post(standin.base_url + "standin/bridge/pay", data=json.dumps(sheet["jsapi"]),
                      headers={"Content-Type": "text/plain"}, timeout=5).json()
    assert paid["err_msg"].endswith(":ok")
    wait_until_paid(payment.id)
    run_jobs()

    donation = db.session.scalars(select(Donation)).one()
    assert donation.user_id == signed_in_user(client).id != patient.id
    services.attribute_donation(donation.id)  # idempotent: done already by the paid signal
    credited = db.session.scalars(select(ShareAttribution)
                                  .where(ShareAttribution.donation_id == donation.id)).all()
    assert [(row.share_id, row.level, row.amount_fen) for row in credited] == [(link.id, 0, 20_00)]
