"""The funnel's ear on other features' pages: the campaign page, the donate form and the
thank-you page announce each step (app.core.signals.funnel_step); this works out who the visitor
is, then funnel.record_step. Reads the request, so it is view code; the services never import it.

The anonymous visitor id is the sharing feature's visitor cookie; when there is none yet this
mints one the way sharing does (g.new_visitor_id, which sharing's after-request hook sets as the
cookie), so a first visit and the later steps are the same person.
"""
from __future__ import annotations

import secrets

from flask import Flask, g, request
from flask_login import current_user

from app.core.signals import funnel_step
from app.mutual_aid import funnel
from app.sharing.views import VISITOR_COOKIE


def current_person(create: bool = True) -> tuple[int | None, str | None]:
    user_id = None
    if current_user.is_authenticated and not getattr(current_user, "is_staff", False):
        user_id = current_user.id
    value = request.cookies.get(VISITOR_COOKIE, "")
    if len(value) == 32 and value.isalnum():
        return user_id, value
    if "new_visitor_id" in g:
        return user_id, g.new_visitor_id
    if create and user_id is None:
        g.new_visitor_id = secrets.token_hex(16)
        return user_id, g.new_visitor_id
    return user_id, None


def track(step: str, campaign_id: int | None, channel: str | None = None) -> None:
    """Record a funnel step for whoever is making this request (staff are not counted)."""
    if current_user.is_authenticated and getattr(current_user, "is_staff", False):
        return
    user_id, visitor_id = current_person()
    funnel.record_step(step, campaign_id, channel, user_id, visitor_id)


def _on_funnel_step(app: Flask, step: str, campaign_id: int | None) -> None:
    track(step, campaign_id)


def connect_funnel_steps(app: Flask) -> None:
    funnel_step.connect(_on_funnel_step, sender=app)
