"""`flask transparency integrate|checkpoint|keygen`."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from app.transparency import integrator, notes, proofs

transparency_cli = AppGroup("transparency", help="The public ledger log (透明账本).")


@transparency_cli.command("integrate")
@click.option("--full", is_flag=True, help="Look at the whole ledger, not only recent ids.")
def integrate_command(full: bool) -> None:
    """Append every committed transaction not yet in the log and sign a checkpoint."""
    added = integrator.integrate_all(full=full)
    click.echo(f"integrated {added} leaves; tree size {proofs.latest_size()}")


@transparency_cli.command("checkpoint")
def checkpoint_command() -> None:
    """Print the latest signed checkpoint (with its cosignatures)."""
    checkpoint = proofs.latest_checkpoint()
    if checkpoint is None:
        raise click.ClickException("no checkpoint has been signed yet: run integrate")
    click.echo(proofs.served_note(checkpoint), nl=False)


@transparency_cli.command("keygen")
@click.option("--name", default=None, help="The key name: the log's origin (TRANSPARENCY_ORIGIN).")
def keygen_command(name: str | None) -> None:
    """Make a signing key: set TRANSPARENCY_SIGNING_KEY to the first line, publish the second."""
    signer_key = notes.generate_signer_key(name or notes.origin())
    click.echo(signer_key)
    click.echo(notes.parse_signer_key(signer_key).verifier_key)
