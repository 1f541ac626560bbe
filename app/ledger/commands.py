import click
from flask.cli import AppGroup

from app.ledger.verify import against_bills, verify

ledger_cli = AppGroup("ledger", help="The custodial ledger.")


@ledger_cli.command("verify")
@click.option("--against-bills", "check_bills", is_flag=True,
              help="Also hold the ledger against WeChat Pay's bills of a day.")
@click.option("--date", "bill_date", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="The bills' day (YYYY-MM-DD); default: the previous China day.")
def verify_command(check_bills: bool = False, bill_date=None):
    """Exit 0 when the ledger is consistent; otherwise print what is wrong and exit 1."""
    if bill_date is not None and not check_bills:
        raise click.UsageError("--date goes with --against-bills")
    problems = verify()
    if check_bills:
        problems += [f"[bills] {line}" for line in against_bills(
            bill_date.date() if bill_date else None)]
    if problems:
        for line in problems:
            click.echo(line, err=True)
        click.echo(f"ledger verify: {len(problems)} problem(s)", err=True)
        raise SystemExit(1)
    click.echo("ledger verify: ok")
