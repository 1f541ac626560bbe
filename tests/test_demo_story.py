"""The embedded default's demo tells its story: a live campaign with a cover, dozens of paid
donations with blessings, attestations, two updates and a withdrawal paid — through the
custodian bank's batch file, as the embedded default pays — and shown in its 资金公示."""
from __future__ import annotations

from sqlalchemy import func, select

from app.campaigns.models import Campaign, CampaignStatus
from app.campaigns.trust import Attestation, CampaignUpdate
from app.custody_bank.models import BankPayoutLine, LineState
from app.demo import seed_demo_data
from app.demo_story import ATTESTERS, DONORS, WITHDRAWAL_FEN
from app.donations.models import Donation
from app.extensions import db
from app.ledger.verify import verify
from app.payouts.models import Withdrawal, WithdrawalStatus


def test_the_demo_campaign_has_lived(make_app):
    app = make_app(PAYOUT_PROVIDER="bank_batch")
    with app.app_context():
        seed_demo_data()
        live = db.session.scalar(select(Campaign).where(Campaign.status == CampaignStatus.live))
        donations = db.session.scalars(select(Donation).where(
            Donation.campaign_id == live.id, Donation.paid_at.is_not(None))).all()
        assert live.cover is not None
        assert len(donations) == len(DONORS) >= 30
        assert live.donation_count == len(DONORS)
        assert live.raised_fen == sum(yuan for _, yuan, _, _ in DONORS) * 100
        assert sum(1 for d in donations if d.blessing) >= 24
        assert db.session.scalar(select(func.count()).select_from(Attestation).where(
            Attestation.campaign_id == live.id)) == len(ATTESTERS)
        assert db.session.scalar(select(func.count()).select_from(CampaignUpdate).where(
            CampaignUpdate.campaign_id == live.id)) == 2
        withdrawal = db.session.scalar(select(Withdrawal).where(
            Withdrawal.campaign_id == live.id))
        assert (withdrawal.status, withdrawal.amount_fen) == (WithdrawalStatus.paid,
                                                              WITHDRAWAL_FEN)
        assert db.session.scalar(select(BankPayoutLine.state).where(
            BankPayoutLine.ref == withdrawal.transfer_id)) == LineState.succeeded
        assert verify() == []

        page = app.test_client().get(f"/c/{live.id}").get_data(as_text=True)
        assert "资金公示" in page and "12,000" in page
        assert "支付第一阶段化疗费用" in page
        assert DONORS[-1][2] in page   # the newest blessing
        assert "¥0" not in page.split("已筹")[1][:60]
