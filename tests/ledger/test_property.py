"""Property: whatever sequence of donations, notices, replays, forgeries, order queries and
campaign endings happens, each paid payment is counted exactly once and the ledger agrees with
every cached total."""
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.campaigns.models import Campaign, CampaignStatus
from app.donations.services import DonationError
from app.ledger.services import CHANNEL_FEES, CLEARING_WECHAT, balance, campaign_custody
from app.ledger.verify import verify
from app.models_base import utcnow
from app.payments.models import Payment, PaymentState
from app.payments.provider import get_provider
from app.payments.services import handle_notification, settle_by_query
from app.wechat_standin.pay import mark_paid
from tests.factories import CampaignFactory
from tests.payments.helpers import fee_count, fee_of, fresh, ledger_count, notice_xml, start

CAMPAIGNS = 3
amounts = st.one_of(st.sampled_from([10_00, 20_00, 50_00, 100_00, 200_00]),
                    st.integers(min_value=100, max_value=5_000_000))
operations = st.lists(st.one_of(
    st.tuples(st.just("donate"), st.integers(0, CAMPAIGNS - 1), amounts),
    st.tuples(st.just("notify"), st.integers(0, 50), st.integers(1, 3)),
    st.tuples(st.just("forge"), st.integers(0, 50),
              st.sampled_from(["amount", "signature", "merchant", "unknown", "transaction"])),
    st.tuples(st.just("query"), st.integers(0, 50)),
    st.tuples(st.just("end"), st.integers(0, CAMPAIGNS - 1)),
), min_size=1, max_size=14)


@settings(max_examples=30, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(ops=operations)
def test_ledger_invariants_hold_for_any_sequence(db, standin, donor, ops):
    campaigns = [CampaignFactory(status=CampaignStatus.live, live_at=utcnow(),
                                 ends_at=utcnow() + timedelta(days=30)).id
                 for _ in range(CAMPAIGNS)]
    clearing_before, ledger_before = balance(CLEARING_WECHAT), ledger_count()
    fees_before, fee_txns_before = balance(CHANNEL_FEES), fee_count()
    payments: list[tuple[int, str, int, int]] = []  # (payment id, out_trade_no, fen, campaign)
    paid: dict[str, str] = {}                         # out_trade_no → transaction_id
    ended: set[int] = set()

    for step, op in enumerate(ops):
        if op[0] == "donate":
            _, c, fen = op
            try:
                payment = start(campaigns[c], donor, fen)
            except DonationError:
                assert c in ended
                continue
            assert c not in ended
            payments.append((payment.id, payment.out_trade_no, fen, c))
        elif op[0] == "end":
            db.session.execute(db.update(Campaign).where(Campaign.id == campaigns[op[1]])
                               .values(status=CampaignStatus.ended))
            db.session.commit()
            ended.add(op[1])
        elif payments:
            pid, no, fen, c = payments[op[1] % len(payments)]
            if op[0] == "notify":
                tid = paid.get(no) or f"4200{pid:08d}{len(paid):016d}"
                body = notice_xml(no, fen, transaction_id=tid)
                for _ in range(op[2]):
                    assert handle_notification(body, provider=get_provider("wechat"))[0]
                paid[no] = tid
            elif op[0] == "query":
                order = mark_paid(standin.state, no)
                outcome = settle_by_query(pid)
                if no in paid:
                    assert outcome == "skipped"
                else:
                    assert outcome == "paid"
                    paid[no] = order["transaction_id"]
            else:
                other_tid = f"4201{pid:08d}{step:016d}"
                forged = {"amount": notice_xml(no, fen + 1),
                          "signature": notice_xml(no, fen, api_key="k" * 32),
                          "merchant": notice_xml(no, fen, mch_id="1000000001"),
                          "unknown": notice_xml(no + "X", fen),
                          "transaction": notice_xml(no, fen, transaction_id=other_tid)}[op[2]]
                accepted = handle_notification(forged, provider=get_provider("wechat"))[0]
                if op[2] == "transaction" and no not in paid:
                    paid[no] = other_tid  # another transaction for an unpaid order: genuine
                    assert accepted
                else:
                    assert not accepted

    db.session.expire_all()
    total = total_fees = 0
    for c, campaign_id in enumerate(campaigns):
        mine = [fen for _, no, fen, cc in payments if cc == c and no in paid]
        campaign = db.session.get(Campaign, campaign_id)
        assert (campaign.raised_fen, campaign.donation_count) == (sum(mine), len(mine))
        fees = sum(fee_of(fen) for fen in mine)  # raised is what donors gave; custody, net
        assert balance(campaign_custody(campaign_id)) == sum(mine) - fees
        total += sum(mine)
        total_fees += fees
    for pid, no, _, _ in payments:
        assert fresh(Payment, pid).state == (PaymentState.paid if no in paid
                                             else PaymentState.pending)
    assert balance(CLEARING_WECHAT) == clearing_before - total
    assert ledger_count() == ledger_before + len(paid)
    assert balance(CHANNEL_FEES) == fees_before + total_fees
    assert fee_count() == fee_txns_before + sum(1 for _, no, fen, _ in payments
                                                if no in paid and fee_of(fen))
    assert verify() == []
