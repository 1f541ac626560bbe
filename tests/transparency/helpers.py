"""Ledger postings for the log's tests, made through the ledger's own post() (no payment path)."""
from __future__ import annotations

from app.extensions import db
from app.ledger.services import CLEARING_WECHAT, Leg, campaign_custody, post


def post_transactions(count: int, campaign_id: int = 1, start: int = 0, amount_fen: int = 100,
                      commit: bool = True) -> list[int]:
    ids = [post("payment", f"T{start + i:08d}", [Leg(CLEARING_WECHAT, -amount_fen - i),
                                                Leg(campaign_custody(campaign_id),
                                                    amount_fen + i)], memo="张三 的捐款")
           for i in range(count)]
    if commit:
        db.session.commit()
    return ids
