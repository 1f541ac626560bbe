"""`flask payouts …`: run the money-out jobs by hand (they also run on the scheduler)."""
import click
from flask.cli import AppGroup

payouts_cli = AppGroup("payouts", help="Withdrawals and refunds.")


@payouts_cli.command("reconcile")
def reconcile_command():
    """Settle transfers, refunds (and what other features registered, e.g. pledges'
    repayments) left in flight."""
    from app.payouts.tasks import reconcile_money_out

    click.echo(reconcile_money_out())
