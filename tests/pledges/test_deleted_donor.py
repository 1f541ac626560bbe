"""A donor who deleted their account (注销账号) has no WeChat to be paid back to: their share of a
诺言 repayment goes forward into the 诺言基金, and the others' shares are as before."""
from __future__ import annotations

from sqlalchemy import select

from app.campaigns.services import end_campaign
from app.extensions import db
from app.ledger.services import balance
from app.pledges import services as pledges
from app.pledges.accounts import FORWARD_FUND, pledge_custody
from app.pledges.models import Share, ShareRoute
from app.privacy.deletion import delete_account
from tests.clock import days_ahead
from tests.pledges.helpers import repay


def test_a_deleted_donors_share_goes_to_the_fund(client, funded, patient, donors, staff,
                                                 run_jobs):
    end_campaign(funded, "筹款期限已到", by_staff=staff)
    pledge = pledges.create_pledge(funded.id, patient, total_fen=1_000_00, schedule="monthly",
                                   instalments=2, first_due=days_ahead(44),
                                   destination="donors", words="谢谢大家")
    delete_account(donors[0])
    repay(client, pledge, patient)   # ¥500 over donors who gave 300/500/1200
    run_jobs()
    db.session.expire_all()
    shares = db.session.scalars(select(Share).order_by(Share.user_id)).all()
    assert [(s.user_id, s.route, s.amount_fen) for s in shares] == [
        (donors[0].id, ShareRoute.forward, 75_00), (donors[1].id, ShareRoute.back, 125_00),
        (donors[2].id, ShareRoute.back, 300_00)]
    assert balance(FORWARD_FUND) == 75_00 and balance(pledge_custody(pledge.id)) == 0
