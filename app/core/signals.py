"""Signals of the donor's path that pages send and other features may follow.

`funnel_step` is sent by a donor-facing page (the campaign page, the donate form, the thank-you
page) with `step` and `campaign_id`, during the request, with the app as sender; the mutual-aid
funnel connects to it (sender=app) and records who took the step. The pages import no feature
to announce it.
"""
from __future__ import annotations

from blinker import Namespace
from flask import current_app

_signals = Namespace()
funnel_step = _signals.signal("funnel-step")


def announce_funnel_step(step: str, campaign_id: int | None) -> None:
    funnel_step.send(current_app._get_current_object(), step=step, campaign_id=campaign_id)
