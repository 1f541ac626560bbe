"""psycopg's dumpers for standard types, resolved once before any request thread runs.

psycopg 3.2 registers the dumpers of stdlib types under their names ("datetime.date") and swaps
the name for the class on first use, in a dict that every connection shares. Two threads making
that swap at once make one of them fail with "cannot adapt type 'date' using placeholder '%s'"
(psycopg issue #1230; seen here as a 500 on a share link in bench/load, under gunicorn's
threaded workers, right after start). Looking each type up once at start-up leaves nothing to
swap later.
"""
from __future__ import annotations

import datetime
import decimal
import ipaddress
import uuid

import psycopg
from psycopg.adapt import PyFormat

NAMED_TYPES = (datetime.date, datetime.time, datetime.datetime, datetime.timedelta, uuid.UUID,
               decimal.Decimal, ipaddress.IPv4Address, ipaddress.IPv6Address)


def resolve_named_dumpers() -> None:
    for cls in NAMED_TYPES:
        for format in PyFormat:
            psycopg.adapters.get_dumper(cls, format)
