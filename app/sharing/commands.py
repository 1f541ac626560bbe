"""`flask --app wsgi sharing …`: maintenance commands of the sharing feature."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from app.extensions import jobs
from app.sharing import tasks
from app.sharing.services import attribute_donation, recent_paid_donation_ids

sharing_cli = AppGroup("sharing", help="Share links and posters.")


@sharing_cli.command("prerender-posters")
@click.option("--enqueue", is_flag=True,
              help="Queue one job per campaign for the workers instead of drawing here.")
def prerender_posters(enqueue: bool) -> None:
    """Draw the organizer's poster of every live campaign (and warm the cover layers)."""
    ids = tasks.live_campaign_ids()
    if not ids:
        click.echo("没有进行中的筹款 (no live campaigns)")
        return
    drawn = 0
    with click.progressbar(ids, label="海报 posters", show_pos=True,
                           item_show_func=lambda i: f"#{i}" if i else "") as bar:
        for campaign_id in bar:
            if enqueue and not jobs.inline:
                jobs.enqueue(tasks.prerender_campaign, campaign_id, queue=tasks.QUEUE,
                             **tasks.RQ_OPTIONS)
                drawn += 1
            elif tasks.prerender_campaign(campaign_id):
                drawn += 1
    verb = "queued" if enqueue and not jobs.inline else "ready"
    click.echo(f"{drawn} of {len(ids)} posters {verb}")


@sharing_cli.command("attribute-donations")
@click.option("--days", default=7, show_default=True, help="Donations paid in the last N days.")
def attribute_donations(days: int) -> None:
    """Credit shares for paid donations (idempotent: already credited ones are skipped)."""
    ids = recent_paid_donation_ids(days)
    credited = 0
    with click.progressbar(ids, label="捐款 donations", show_pos=True) as bar:
        for donation_id in bar:
            credited += 1 if attribute_donation(donation_id) else 0
    click.echo(f"{credited} of {len(ids)} donations newly attributed")
