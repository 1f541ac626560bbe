"""One-line hooks for other features' request handlers (the campaign page, the donate form, the
thank-you page): who the visitor is, then funnel.record_step. Reads the request, so it is view
code; the services never import it.

The anonymous visitor id is the sharing feature's visitor cookie; when there is none yet this
mints one the way sharing does (g.new_visitor_id, which sharing's after-request hook sets as the
cookie), so a first visit and the later steps are the same person.
"""
from __future__ import annotations

import secrets

from flask import g, request
from flask_login import current_user

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
