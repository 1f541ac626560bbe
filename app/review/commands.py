"""`flask --app wsgi review …`: maintenance of the review feature's data."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from app.review import services

review_cli = AppGroup("review", help="材料审核：维护命令。")


@review_cli.command("hash-documents")
def hash_documents() -> None:
    """Give documents uploaded before their SHA-256 was kept one, from the stored file, so the
    review console flags a file used as two kinds or by two campaigns (idempotent)."""
    hashed, missing = services.hash_unhashed_documents()
    note = f"，{missing} 个文件已不在存储中" if missing else ""
    click.echo(f"{hashed} 个材料已计算 SHA-256{note}")
