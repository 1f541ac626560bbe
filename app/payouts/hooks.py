"""What other features call after their own commits. Kept light: no payouts module is imported
until a hook runs (app/campaigns/moderation.py imports this at its own import)."""
from __future__ import annotations


def enqueue_refunds(campaign_id: int) -> None:
    """after_termination: plan and send the pro-rata refunds in a job (idempotent, retried)."""
    from app.payouts.tasks import enqueue_refund_plan

    enqueue_refund_plan(campaign_id)
