"""What the fund granted a campaign that is then terminated: the donors get back what they
brought in, and the grant (beyond what the donations can take back) returns to the fund through
the leftover receiver pledges registers with payouts' refunds."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.campaigns.moderation import terminate_campaign
from app.campaigns.services import end_campaign
from app.extensions import db
from app.ledger.services import balance, campaign_custody
from app.payouts.models import DonationRefund
from app.pledges import distribution
from app.pledges import services as pledges
from app.pledges.accounts import FORWARD_FUND
from app.pledges.models import FundEntry, FundEntryKind
from tests.clock import days_ahead
from tests.payouts.helpers import donate, verified_campaign
from tests.pledges.helpers import repay
from tests.review.helpers import patient_id


@pytest.fixture(autouse=True)
def _forget_standin_refunds(standin):
    """As in tests/payouts/test_channel_fee_refunds.py: this test's refunds must not stay at
    the (session-wide) stand-in for the next test's donations of the same ids."""
    with standin.state.lock:
        before = set(standin.state.refunds)
    yield
    with standin.state.lock:
        for out_refund_no in set(standin.state.refunds) - before:
            del standin.state.refunds[out_refund_no]


def test_a_terminated_campaign_returns_the_grant_to_the_fund(
        app, client, funded, patient, staff, finance, admin, donors, run_jobs, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "http://127.0.0.1:9")  # no notices
    end_campaign(funded, "筹款期限已到", by_staff=staff)
    pledge = pledges.create_pledge(funded.id, patient, total_fen=300_00, schedule="once",
                                   instalments=1, first_due=days_ahead(30),
                                   destination="forward")
    repay(client, pledge, patient)
    run_jobs()
    later = verified_campaign(donors[0], staff, finance, patient_id=patient_id(8),
                              target_fen=1_000_00)
    donate(client, later, donors[1], 200_00)          # ¥198.80 in custody after WeChat's fee
    [grant] = distribution.allocate_fund()
    assert (grant.kind, grant.campaign_id, grant.amount_fen) == (
        FundEntryKind.campaign, later.id, 300_00)
    assert balance(FORWARD_FUND) == 0
    terminate_campaign(later, admin, "筹款信息不实")
    run_jobs()
    db.session.expire_all()
    [refund] = db.session.scalars(select(DonationRefund).where(
        DonationRefund.campaign_id == later.id)).all()
    assert refund.amount_fen - refund.channel_fee_returned_fen == 198_80
    back = db.session.scalars(select(FundEntry).where(
        FundEntry.kind == FundEntryKind.leftover)).all()
    assert [(e.campaign_id, e.amount_fen) for e in back] == [(later.id, 300_00)]
    assert balance(FORWARD_FUND) == 300_00
    assert balance(campaign_custody(later.id)) == 198_80  # until WeChat's refund notice
