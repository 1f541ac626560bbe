"""The public JSON API (/api/v1) and its OpenAPI document.

Plugs in: its blueprint."""
from flask import Flask


def register(app: Flask) -> None:
    from app.api.views import bp

    app.register_blueprint(bp, url_prefix="/api/v1")
