"""The application factory: create_app(config) wires extensions, blueprints, errors, commands."""
from __future__ import annotations

from flask import Flask

from app.config import REAL_WECHAT_API_BASE, EmbeddedConfig, ProductionConfig, standin_credentials
from app.extensions import csrf, db, jobs, limiter, login_manager, migrate


def create_app(config: type | dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True,
                static_folder="../static", template_folder="../templates")
    load_config(app, config)
    register_logging(app)
    apply_proxy_fix(app)
    configure_wechat(app)
    register_extensions(app)
    register_blueprints(app)
    register_errors(app)
    register_template_helpers(app)
    register_commands(app)
    app.json.ensure_ascii = False
    return app


def load_config(app: Flask, config: type | dict | None) -> None:
    if config is None:
        import os

        config = EmbeddedConfig if os.environ.get("XIANGZHU_EMBEDDED") == "1" else ProductionConfig
    if isinstance(config, dict):
        app.config.from_object(EmbeddedConfig)
        app.config.update(config)
    else:
        config.check()
        app.config.from_object(config)


def register_logging(app: Flask) -> None:
    from app.core.logging import register_logging as register

    register(app)


def apply_proxy_fix(app: Flask) -> None:
    """Trust X-Forwarded-For/-Proto from as many proxies as configured (nginx: one), so rate
    limits see the client's address and url_for(_external=True) builds https URLs."""
    counts = {name: int(app.config.get(f"PROXY_FIX_X_{name.upper()}", 0))
              for name in ("for", "proto", "host", "port", "prefix")}
    if not any(counts.values()):
        return
    from werkzeug.middleware.proxy_fix import ProxyFix

    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=counts["for"], x_proto=counts["proto"],
                            x_host=counts["host"], x_port=counts["port"],
                            x_prefix=counts["prefix"])


def configure_wechat(app: Flask) -> None:
    """Real WeChat when credentials are configured; otherwise the stand-in's credentials.

    WECHAT_API_BASE names the single base URL the stand-in answers every WeChat path on. It is
    filled in by the embedded runner or the tests once they have started a stand-in.
    """
    real = all(app.config.get(k) for k in ("WECHAT_APPID", "WECHAT_SECRET", "WECHAT_MCH_ID",
                                            "WECHAT_API_KEY"))
    base = app.config.get("WECHAT_API_BASE")
    if not real:
        for key, value in standin_credentials().items():
            app.config[key] = app.config.get(key) or value
    app.config["WECHAT_STANDIN"] = not real or (base is not None and base != REAL_WECHAT_API_BASE)


def register_extensions(app: Flask) -> None:
    from app.core.replica import configure_replica_bind

    configure_replica_bind(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.root_path + "/../migrations"),
                     render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    jobs.init_app(app)
    from app.auth import models as _auth_models  # noqa: F401  (user loader registration)


def register_blueprints(app: Flask) -> None:
    from app.api.views import bp as api_bp
    from app.auth.views import bp as auth_bp
    from app.campaigns.views import bp as campaigns_bp
    from app.core.views import bp as core_bp
    from app.donations.views import bp as donations_bp
    from app.ledger.views import bp as ledger_bp
    from app.payments.views import bp as payments_bp
    from app.review.views import bp as review_bp
    from app.sharing.views import bp as sharing_bp
    from app.staff.views import bp as staff_bp

    app.register_blueprint(core_bp)
    app.register_blueprint(auth_bp, url_prefix="/auth")
    app.register_blueprint(campaigns_bp)
    app.register_blueprint(staff_bp, url_prefix="/staff")
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    app.register_blueprint(payments_bp)
    app.register_blueprint(ledger_bp)
    app.register_blueprint(donations_bp)
    app.register_blueprint(sharing_bp)
    app.register_blueprint(review_bp)
    from app.mutual_aid import register as register_mutual_aid
    register_mutual_aid(app)
    from app.payouts import register as register_payouts
    register_payouts(app)


def register_errors(app: Flask) -> None:
    from app.core.errors import register_error_handlers

    register_error_handlers(app)


def register_template_helpers(app: Flask) -> None:
    from app.core.templating import register_template_helpers as register

    register(app)


def register_commands(app: Flask) -> None:
    from app.auth.commands import staff_cli
    from app.core.commands import register_core_commands
    from app.ledger.commands import ledger_cli
    from app.sharing.commands import sharing_cli

    register_core_commands(app)
    app.cli.add_command(ledger_cli)
    app.cli.add_command(staff_cli)
    app.cli.add_command(sharing_cli)
    from app.mutual_aid.commands import mutual_aid_cli
    app.cli.add_command(mutual_aid_cli)
    from app.payouts.commands import payouts_cli
    app.cli.add_command(payouts_cli)
