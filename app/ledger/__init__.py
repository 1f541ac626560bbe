"""The custodial ledger: double-entry, append-only, integer fen. Imports no feature.

Plugs in: the public ledger pages and `flask ledger`. Features register their own
`ledger verify` checks (verify.register_check)."""
from flask import Flask


def register(app: Flask) -> None:
    from app.ledger.commands import ledger_cli
    from app.ledger.views import bp

    app.register_blueprint(bp)
    app.cli.add_command(ledger_cli)
