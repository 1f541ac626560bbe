"""`flask payouts …`: run the money-out jobs by hand (they also run on the scheduler)."""
import click
from flask.cli import AppGroup

payouts_cli = AppGroup("payouts", help="Withdrawals, refunds and pledges.")


@payouts_cli.command("reconcile")
def reconcile_command():
    """Settle transfers, refunds and repayments left in flight."""
    from app.payouts.tasks import reconcile_money_out

    click.echo(reconcile_money_out())


@payouts_cli.command("tick")
def tick_command():
    """Send pledge reminders now due and close broken pledges."""
    from app.payouts.tasks import pledge_tick

    click.echo(pledge_tick())


@payouts_cli.command("allocate-fund")
def allocate_command():
    """Grant the pay-it-forward fund's balance by its published rules."""
    from app.payouts.tasks import allocate_fund_job

    click.echo(f"{allocate_fund_job()} grant(s)")
