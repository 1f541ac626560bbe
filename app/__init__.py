"""The application factory: create_app(config) loads the configuration, binds the extensions and
registers each feature in turn (register_features: the table of contents of the platform)."""
from __future__ import annotations

from flask import Flask

from app.config import (REAL_WECHAT_API_BASE, EmbeddedConfig, ProductionConfig,
                        standin_credentials, standin_v3_credentials)
from app.extensions import csrf, db, jobs, limiter, login_manager, migrate


def create_app(config: type | dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True,
                static_folder="../static", template_folder="../templates")
    load_config(app, config)
    register_logging(app)
    apply_proxy_fix(app)
    configure_wechat(app)
    register_extensions(app)
    register_features(app)
    app.json.ensure_ascii = False
    return app


def register_features(app: Flask) -> None:
    """The table of contents of the platform. Each feature's `register(app)` (its package's
    __init__.py) is the only place it plugs in: blueprints, commands, payables, refund
    handlers, ledger checks, providers, encrypted stores, signal receivers, termination hooks,
    audit labels, periodic jobs. The kernel first; a feature after those it builds on."""
    from app import (api, auth, bills, blacklist, campaigns, core, custody_bank, donations,
                     ledger, mutual_aid, notices, payments, payouts, pledges, privacy, review,
                     sharing, staff, transparency, wechat)

    core.register(app)        # errors, ids and inputs, templates, /healthz, crypto, job upkeep
    auth.register(app)        # WeChat and staff sign-in
    wechat.register(app)      # WeChat tokens
    notices.register(app)     # 通知 and WeChat messages, each (event, person) told once
    ledger.register(app)      # the custodial ledger and `flask ledger`
    transparency.register(app)  # the ledger's public Merkle log, checkpoints, proofs, witnesses
    payments.register(app)    # providers, checkout, notices, reconciliation
    campaigns.register(app)   # campaigns, their pages and moderation
    review.register(app)      # documents, real names, payees, reports, the audit log
    donations.register(app)   # the donation payable and donate form
    sharing.register(app)     # share links, attribution, posters
    payouts.register(app)     # withdrawals, payout documents, refunds, disclosure, 商家转账
    custody_bank.register(app)  # the custodian bank: batch files, result files, statements
    mutual_aid.register(app)  # the plan, claims, apportionment, the donor funnel
    pledges.register(app)     # 诺言 pledges, reminders, the pay-it-forward fund
    blacklist.register(app)   # 失信名单: the listed cannot launch again
    bills.register(app)       # reconciliation against WeChat Pay's bills
    staff.register(app)       # the staff console
    privacy.register(app)     # 个人信息: my data, consents, deleting my account
    api.register(app)         # /api/v1


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
    pay_key = "WECHAT_API_KEY" if app.config.get("WECHAT_PAY_API") == "v2" else \
        "WECHAT_PAY_APIV3_KEY"  # a v3 merchant need not hold a v2 key, nor the reverse
    real = all(app.config.get(k) for k in ("WECHAT_APPID", "WECHAT_SECRET", "WECHAT_MCH_ID",
                                            pay_key))
    base = app.config.get("WECHAT_API_BASE")
    if not real:
        for key, value in standin_credentials().items():
            app.config[key] = app.config.get(key) or value
        if not app.config.get("WECHAT_PAY_V3_PRIVATE_KEY"):
            v3 = standin_v3_credentials()
            for key in ("WECHAT_PAY_V3_PRIVATE_KEY_PEM", "WECHAT_PAY_V3_CERT_SERIAL",
                        "WECHAT_PAY_APIV3_KEY"):
                app.config[key] = app.config.get(key) or v3[key]
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
