"""The staff console (/staff): review queue, reports, audit log, staff accounts.

Plugs in: its blueprint."""
from flask import Flask


def register(app: Flask) -> None:
    from app.staff.views import bp

    app.register_blueprint(bp, url_prefix="/staff")
