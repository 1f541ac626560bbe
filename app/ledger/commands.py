import click
from flask.cli import AppGroup

from app.ledger.verify import verify

ledger_cli = AppGroup("ledger", help="The custodial ledger.")


@ledger_cli.command("verify")
def verify_command():
    """Exit 0 when the ledger is consistent; otherwise print what is wrong and exit 1."""
    problems = verify()
    if problems:
        for line in problems:
            click.echo(line, err=True)
        click.echo(f"ledger verify: {len(problems)} problem(s)", err=True)
        raise SystemExit(1)
    click.echo("ledger verify: ok")
