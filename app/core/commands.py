import click
from flask import Flask
from flask.cli import AppGroup

from app.core.key_rotation import rotate

crypto_cli = AppGroup("crypto", help="Encryption keys of stored private data.")


@crypto_cli.command("rotate")
@click.option("--check", "check_only", is_flag=True,
              help="Change nothing: count values and files not yet under the first key.")
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 100_000),
              help="Rows per transaction (and files per progress line).")
def rotate_command(check_only: bool, batch_size: int) -> None:
    """Re-encrypt every encrypted column and file under the first DATA_ENCRYPTION_KEY.

    Safe to rerun; exits 1 when a value no configured key opens is found (and, with --check,
    when anything is not yet under the first key or a blind index does not match)."""
    summary = rotate(check_only=check_only, batch_size=batch_size, report=click.echo)
    values, files = summary.values, summary.files
    undecryptable = values.undecryptable + files.undecryptable
    if check_only:
        pending = values.not_under_first_key + files.not_under_first_key
        click.echo(f"crypto rotate --check: {values.not_under_first_key} of {values.total} "
                   f"values and {files.not_under_first_key} of {files.total} files are not "
                   f"under the first key ({undecryptable} opened by no configured key); "
                   f"{values.index_mismatches} blind index(es) do not match BLIND_INDEX_KEY")
        failed = pending or values.index_mismatches
    else:
        click.echo(f"crypto rotate: {values.rotated} values and {files.rotated} files "
                   f"re-encrypted under the first key; {undecryptable} opened by no configured "
                   f"key; {values.changed_meanwhile} row(s) changed meanwhile")
        failed = undecryptable
    if failed:
        raise SystemExit(1)
