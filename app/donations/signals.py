"""What donations tell the rest of the platform. Other features listen; donations import none
of them (sharing credits the share chain, the mutual-aid funnel records a step, …).

`donation_paid` is sent once per donation, after the transaction that recorded its payment has
committed, with `donation_id`, `campaign_id`, `user_id`, `amount_fen` and `late` (the campaign
had stopped taking money). Receivers must be quick — enqueue a job rather than work — and may
never undo the payment; one that raises is logged and the others still run.
"""
from __future__ import annotations

import logging

from blinker import Namespace

log = logging.getLogger(__name__)
_signals = Namespace()
donation_paid = _signals.signal("donation-paid")


def send_donation_paid(sender, **payload) -> None:
    for receiver in donation_paid.receivers_for(sender):
        try:
            receiver(sender, **payload)
        except Exception:  # a listener's failure must not turn a recorded payment into a FAIL
            log.exception("donation_paid receiver %r failed for %s", receiver, payload)
