"""Seeding for the benchmarks, by SQL on PostgreSQL: what the application itself would have
written had the donations come through it — one paid payment per donation, its ledger
transaction (WeChat clearing → the campaign's custody) with both legs, the campaign's cached
totals and the custody account's cached balance, share visits and the attributions of some
donations; or orders still waiting for WeChat's notice (`pending_orders`). `ledger verify` is
clean after it. Nothing here goes through the request path.

Call inside an app context (`create_app({...})`) on a schema made by `db.create_all()`.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert, text, update

from app.auth.models import User
from app.campaigns.models import Campaign, CampaignStatus
from app.extensions import db
from app.ledger.services import CLEARING_WECHAT, account_ids, campaign_custody
from app.donations.models import Donation
from app.models_base import utcnow
from app.payments.fees import channel_fee
from app.payments.models import Payment, PaymentState
from app.payments.services import new_out_trade_no
from app.sharing.models import ShareLink

# Small gifts (1–10 yuan, 4.6 on average), so 100,000 of them stay below the largest target.
AMOUNTS_SQL = "(ARRAY[100, 200, 500, 300, 666, 1000])[1 + (g % 6)]"


def users(count: int, prefix: str = "o_bench") -> list[int]:
    return list(db.session.execute(insert(User).returning(User.id), [
        {"openid": f"{prefix}_{i:06d}", "nickname": f"爱心人士{i}"} for i in range(count)
    ]).scalars())


def live_campaigns(organizer_ids: list[int], title: str = "压测筹款") -> list[int]:
    now = utcnow()
    return list(db.session.execute(insert(Campaign).returning(Campaign.id), [
        {"organizer_id": organizer_id, "status": CampaignStatus.live,
         "title": f"{title}{i}", "patient_name": f"患者{i}", "relation": "parent",
         "diagnosis": "急性淋巴细胞白血病", "hospital": "北京儿童医院",
         "target_fen": 500_000_00, "live_at": now - timedelta(days=3),
         "ends_at": now + timedelta(days=27),
         "story": "孩子今年六岁，确诊急性淋巴细胞白血病。\n" * 12}
        for i, organizer_id in enumerate(organizer_ids)]).scalars())


def share_links(campaign_id: int, sharer_ids: list[int]) -> list[tuple[int, str]]:
    """One link per sharer, the first at the root and the rest under it (a two-level tree)."""
    made = []
    root = None
    for i, user_id in enumerate(sharer_ids):
        link = ShareLink(token=f"b{campaign_id:04d}x{i:05d}"[:16], campaign_id=campaign_id,
                         sharer_key=f"u:{user_id}", sharer_user_id=user_id,
                         parent_id=root.id if root else None, depth=1 if root else 0)
        db.session.add(link)
        db.session.flush()
        root = root or link
        made.append((link.id, link.token))
    return made


def paid_donations(campaign_id: int, count: int, donor_ids: list[int],
                   share_ids: list[int]) -> None:
    """Add `count` paid donations to the campaign the way a paid notice records them."""
    if count <= 0:
        return
    accounts = account_ids([CLEARING_WECHAT, campaign_custody(campaign_id)])
    now = utcnow()
    params = {"c": campaign_id, "n": count, "donors": donor_ids, "shares": share_ids,
              "now": now, "clearing": accounts[CLEARING_WECHAT],
              "custody": accounts[campaign_custody(campaign_id)]}
    run = lambda sql: db.session.execute(text(sql), params)  # noqa: E731
    # Donations, newest paid last; paid_at spread over the campaign's three days so far.
    run(f"""
        INSERT INTO donations (campaign_id, user_id, amount_fen, blessing, anonymous, paid_at,
                               late, created_at)
        SELECT :c, (CAST(:donors AS integer[]))[1 + g % cardinality(CAST(:donors AS integer[]))], {AMOUNTS_SQL},
               CASE WHEN g % 3 = 0 THEN '早日康复，加油！' ELSE '' END, g % 10 = 0,
               :now - make_interval(secs => (:n - g) * 0.5 + 1),
               false, :now - make_interval(secs => (:n - g) * 0.5 + 60)
        FROM generate_series(1, :n) AS g""")
    run("""
        INSERT INTO payments (provider, out_trade_no, idempotency_key, payable_type, payable_id,
                              amount_fen, description, state, user_id, openid, trade_type,
                              client_ip, prepay_id, late, expires_at, paid_at, created_at,
                              updated_at)
        SELECT 'wechat', 'B' || lpad(d.id::text, 20, '0'), 'bench:' || d.id, 'donation', d.id,
               d.amount_fen, '相助大病筹款-爱心捐款', 'paid', d.user_id, 'o_bench_payer',
               'NATIVE', '127.0.0.1', 'wx_bench_' || d.id, false,
               d.created_at + interval '2 hours', d.paid_at, d.created_at, d.paid_at
        FROM donations d WHERE d.campaign_id = :c AND d.payment_id IS NULL""")
    run("""
        UPDATE donations d SET payment_id = p.id FROM payments p
        WHERE d.campaign_id = :c AND d.payment_id IS NULL
          AND p.payable_type = 'donation' AND p.payable_id = d.id""")
    run("""
        INSERT INTO ledger_transactions (source_type, source_ref, memo, created_at)
        SELECT 'payment', p.out_trade_no, '爱心捐款 · 微信支付', p.paid_at
        FROM payments p JOIN donations d ON d.payment_id = p.id
        WHERE d.campaign_id = :c
          AND NOT EXISTS (SELECT 1 FROM ledger_transactions t
                          WHERE t.source_type = 'payment' AND t.source_ref = p.out_trade_no)
        ORDER BY p.paid_at, p.id""")
    run("""
        INSERT INTO ledger_entries (transaction_id, account_id, amount_fen)
        SELECT t.id, leg.account_id, leg.amount_fen
        FROM ledger_transactions t
        JOIN payments p ON p.out_trade_no = t.source_ref
        JOIN donations d ON d.payment_id = p.id
        CROSS JOIN LATERAL (VALUES (:clearing, -p.amount_fen), (:custody, p.amount_fen))
             AS leg(account_id, amount_fen)
        WHERE t.source_type = 'payment' AND d.campaign_id = :c
          AND NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.transaction_id = t.id)
        ORDER BY t.id""")
    if not share_ids:
        run_totals(run, campaign_id)
        return
    # One visit through a share link per donation (the donor arrived by a share), a third of
    # the donations credited to the link they came through.
    run("""
        INSERT INTO share_visits (share_id, campaign_id, channel, visitor_key, user_id,
                                  visitor_id, day, created_at)
        SELECT (CAST(:shares AS integer[]))[1 + g % cardinality(CAST(:shares AS integer[]))],
               :c,
               (ARRAY['chat', 'moments', 'poster', 'desktop_qr'])[1 + g % 4],
               'v:' || md5(:c || ':' || g || ':' || clock_timestamp()), NULL,
               substr(md5(:c || ':' || g || ':' || clock_timestamp()), 1, 32),
               (:now - make_interval(secs => (:n - g) * 0.5 + 120))::date,
               :now - make_interval(secs => (:n - g) * 0.5 + 120)
        FROM generate_series(1, :n) AS g""")
    run("""
        INSERT INTO share_attributions (donation_id, share_id, campaign_id, level, channel,
                                        amount_fen, created_at)
        SELECT d.id,
               (CAST(:shares AS integer[]))[1 + d.id % cardinality(CAST(:shares AS integer[]))],
               :c, 0, 'chat', d.amount_fen, d.paid_at
        FROM donations d
        WHERE d.campaign_id = :c AND d.id % 3 = 0
          AND NOT EXISTS (SELECT 1 FROM share_attributions a WHERE a.donation_id = d.id)""")
    run_totals(run, campaign_id)


def run_totals(run, campaign_id: int) -> None:
    """The cached figures, as the paying transaction keeps them."""
    run("""
        UPDATE campaigns c SET raised_fen = s.total, donation_count = s.n
        FROM (SELECT sum(amount_fen) AS total, count(*) AS n FROM donations
              WHERE campaign_id = :c AND paid_at IS NOT NULL) s
        WHERE c.id = :c""")
    refresh_cached_balance(campaign_custody(campaign_id))


def refresh_cached_balance(code: str) -> None:
    """The account's cached totals by source type (ledger_account_totals), recomputed from its
    entries as the postings would have kept them."""
    db.session.execute(text("""
        INSERT INTO ledger_account_totals (account_id, source_type, amount_fen, entry_count)
        SELECT e.account_id, t.source_type, sum(e.amount_fen), count(*)
        FROM ledger_entries e
        JOIN ledger_transactions t ON t.id = e.transaction_id
        JOIN ledger_accounts a ON a.id = e.account_id
        WHERE a.code = :code
        GROUP BY e.account_id, t.source_type
        ON CONFLICT (account_id, source_type) DO UPDATE
        SET amount_fen = excluded.amount_fen, entry_count = excluded.entry_count"""),
        {"code": code})


FEE_BP = 60  # WeChat Pay's standard rate, as PAYMENT_CHANNEL_FEE_BP defaults to


def pending_orders(amounts: list[int], campaign_count: int, donor_count: int,
                   prefix: str = "o_bench", provider: str = "wechat",
                   campaign_ids: list[int] | None = None,
                   ) -> tuple[list[int], list[tuple[str, int]]]:
    """Live campaigns (or the `campaign_ids` given) and one order per amount, as the donate
    form leaves them: a donation and its pending payment (with WeChat's fee fixed on it),
    waiting for the notice. Returns (campaign ids, [(out_trade_no, fen)]); the caller commits."""
    now = utcnow()
    user_ids = users(donor_count, prefix)
    if campaign_ids is None:
        campaign_ids = live_campaigns(user_ids[:campaign_count])
    campaign_count = len(campaign_ids)
    donation_ids = list(db.session.execute(insert(Donation).returning(Donation.id), [
        {"campaign_id": campaign_ids[i % campaign_count], "user_id": user_ids[i % donor_count],
         "amount_fen": fen, "blessing": "早日康复", "anonymous": False}
        for i, fen in enumerate(amounts)]).scalars())
    numbers = [new_out_trade_no(now) for _ in amounts]
    db.session.execute(insert(Payment), [
        {"provider": provider, "out_trade_no": numbers[i], "idempotency_key": f"bench:{numbers[i]}",
         "payable_type": "donation", "payable_id": donation_ids[i], "amount_fen": fen,
         "description": "相助大病筹款-爱心捐款", "channel_fee_bp": FEE_BP,
         "channel_fee_fen": channel_fee(fen, FEE_BP), "state": PaymentState.pending,
         "user_id": user_ids[i % donor_count], "openid": f"{prefix}_{i % donor_count:06d}",
         "trade_type": "NATIVE", "client_ip": "127.0.0.1", "prepay_id": f"wx_bench_{i}",
         "expires_at": now + timedelta(hours=2)} for i, fen in enumerate(amounts)])
    db.session.execute(update(Donation).where(
        Donation.id == Payment.payable_id, Payment.payable_type == "donation",
        Donation.payment_id.is_(None)).values(payment_id=Payment.id)
        .execution_options(synchronize_session=False))
    return campaign_ids, list(zip(numbers, amounts))
