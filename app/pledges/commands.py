"""`flask pledges …`: run the pledge jobs by hand (they also run on the scheduler)."""
import click
from flask.cli import AppGroup

pledges_cli = AppGroup("pledges", help="诺言 pledges and the pay-it-forward fund.")


@pledges_cli.command("tick")
def tick_command():
    """Send pledge reminders now due and close broken pledges."""
    from app.pledges.tasks import pledge_tick

    click.echo(pledge_tick())


@pledges_cli.command("allocate-fund")
def allocate_command():
    """Grant the pay-it-forward fund's balance by its published rules."""
    from app.pledges.tasks import allocate_fund_job

    click.echo(f"{allocate_fund_job()} grant(s)")
