"""Access control: staff_required(*roles) and what flask-login does for anonymous visitors."""
from __future__ import annotations

from functools import wraps
from typing import Callable, TypeVar

from flask import abort, flash, redirect, url_for
from flask_login import LoginManager, current_user, login_required

from app.auth.models import StaffRole, load_principal
from app.auth.redirects import current_path
from app.core.errors import wants_json

F = TypeVar("F", bound=Callable)


def staff_required(*roles: StaffRole | str) -> Callable[[F], F]:
    """Staff only; with roles, only those roles (admins pass every role check).

    Anonymous visitors go to the staff sign-in page (401 for JSON clients); signed-in people
    who are not staff, or lack the role, get 403.
    """
    wanted = tuple(StaffRole(role) for role in roles)

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                if wants_json():
                    abort(401)
                flash("请先用员工账号登录", "info")
                return redirect(url_for("auth.staff_login", next=current_path()))
            if not getattr(current_user, "is_staff", False):
                abort(403)
            if wanted and not current_user.has_role(*wanted):
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def configure_login_manager(manager: LoginManager) -> None:
    manager.user_loader(load_principal)
    manager.login_view = "auth.login"
    manager.login_message = "请先登录"
    manager.login_message_category = "info"

    @manager.unauthorized_handler
    def unauthorized():
        # flask-login's default would send an absolute `next` and redirect API calls too.
        if wants_json():
            abort(401)
        flash(manager.login_message, manager.login_message_category)
        return redirect(url_for(manager.login_view, next=current_path()))


def organizer_required(view):
    """Signed in as a WeChat user: staff accounts don't organise campaigns."""

    @login_required
    @wraps(view)
    def wrapped(*args, **kwargs):
        if getattr(current_user, "is_staff", False):
            abort(403)
        return view(*args, **kwargs)

    return wrapped
