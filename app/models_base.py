"""Shared column helpers: timestamps as callables (never evaluated at import), money as fen."""
from datetime import datetime, timezone

from sqlalchemy import BigInteger, DateTime
from sqlalchemy.orm import Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every datetime we store is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=timezone.utc)


def created_at_column() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)


def updated_at_column() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow, nullable=False)


def fen_column(**kwargs) -> Mapped[int]:
    """Money is always an integer number of fen (分)."""
    return mapped_column(BigInteger, **kwargs)


def format_yuan(fen: int) -> str:
    """12345 → '123.45'; whole yuan drop the decimals: 100000 → '1,000'."""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(int(fen)), 100)
    if cents == 0:
        return f"{sign}{yuan:,}"
    return f"{sign}{yuan:,}.{cents:02d}"


def yuan_to_fen(text: str) -> int:
    """Parse a yuan amount typed by a person ('50', '50.5', '50.05') into fen without floats."""
    text = text.strip().replace(",", "").replace("，", "")
    if not text:
        raise ValueError("empty")
    if text.count(".") > 1 or text.startswith("-"):
        raise ValueError("not a positive amount")
    whole, _, frac = text.partition(".")
    if not whole.isdigit() and whole != "":
        raise ValueError("not a number")
    if frac and (not frac.isdigit() or len(frac) > 2):
        raise ValueError("at most two decimals")
    return int(whole or "0") * 100 + int((frac + "00")[:2])
