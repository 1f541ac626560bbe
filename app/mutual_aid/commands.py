"""`flask mutual-aid …`: seed the demo plan, run the plan's calendar once, announce a round,
pay back what the plan owes members (former wallet balances among it)."""
import click
from flask.cli import AppGroup

from app.mutual_aid.paybacks import pay_back_all
from app.mutual_aid.rounds import announce_round
from app.mutual_aid.services import get_plan, seed_demo_plan
from app.mutual_aid.tasks import tick

mutual_aid_cli = AppGroup("mutual-aid", help="The mutual-aid plan.")


@mutual_aid_cli.command("seed-demo")
def seed_demo_command():
    """Create the demo plan (idempotent)."""
    plan = seed_demo_plan()
    click.echo(f"plan {plan.slug} (id {plan.id})")


@mutual_aid_cli.command("tick")
def tick_command():
    """Run the plan's calendar once (what the periodic job does)."""
    click.echo(tick())


@mutual_aid_cli.command("announce")
@click.argument("slug")
def announce_command(slug: str):
    """Announce a round today for the plan SLUG, whatever the calendar says."""
    plan = get_plan(slug)
    if plan is None:
        raise click.ClickException(f"no plan {slug}")
    round_ = announce_round(plan.id)
    click.echo(f"round {round_.id} ({round_.status.value})" if round_ else "nothing to announce")


@mutual_aid_cli.command("pay-back")
def pay_back_command():
    """Pay back every balance and refund owed to members now (the tick does it too): WeChat
    refunds of their payments within the refund window, else 商家转账; safe to run again."""
    click.echo(pay_back_all())
