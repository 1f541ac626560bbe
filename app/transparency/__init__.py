"""The public Merkle log of the ledger (透明账本, docs/transparency.md): every ledger
transaction and every registered source's item (a mutual-aid round's inputs) is a leaf of an
RFC 6962 tree; the integrator appends them off the payment path and signs a C2SP checkpoint;
proofs, leaves, checkpoints and the verifier key are public over HTTP; witnesses post their
cosignatures. Imports no feature: others plug leaf sources in (sources.register_leaf_source).

Plugs in: its blueprints (the checkpoint and key pages, /api/v1/transparency), `flask
transparency`, its `ledger verify` check and its periodic job (the integrator). Its /api/v1
routes are documented in app/api/openapi.py."""
from flask import Flask


def register(app: Flask) -> None:
    from app.core.plugins import register_periodic_jobs
    from app.ledger.verify import register_check
    from app.transparency.checks import log_problems
    from app.transparency.commands import transparency_cli
    from app.transparency.tasks import DEFAULT_INTEGRATE_SECONDS, periodic_jobs
    from app.transparency.verify_views import bp as verify_bp
    from app.transparency.views import api_bp, bp

    app.register_blueprint(bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(verify_bp)   # /transparency/verify, the donor's in-browser 核验
    app.cli.add_command(transparency_cli)
    register_check(app, "transparency", log_problems)
    register_periodic_jobs(app, *periodic_jobs(
        int(app.config.get("TRANSPARENCY_INTEGRATE_SECONDS") or DEFAULT_INTEGRATE_SECONDS)))
