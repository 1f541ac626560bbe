"""Leaf sources other than the ledger: a feature whose decisions outsiders should be able to
check (mutual aid: each round's inputs) registers one in its own `register(app)`; the log
never imports the feature.

    register_leaf_source(app, LeafSource("mutual_aid_round", pending, fields_of))

`pending(integrated)` returns the ids of items that are ready (a round once announced), in the
order they should be appended, leaving out those whose id is in `integrated` (a SELECT of the
source ids already in the log, to anti-join against). `fields_of(ids)` returns each item's leaf
fields ({id: {...}}, integers and strings only, no personal data); the log adds "v" and "type".
It must give the same fields for an item every time it is asked: `ledger verify` re-encodes
every leaf and compares.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from flask import Flask
from sqlalchemy import Select

from app.core.plugins import registry


class LeafSource(NamedTuple):
    type: str
    pending: Callable[[Select], list[int]]
    fields_of: Callable[[list[int]], dict[int, dict]]


def register_leaf_source(app: Flask, source: LeafSource) -> None:
    registry("transparency_leaf_sources", dict, app)[source.type] = source


def leaf_sources(app: Flask | None = None) -> list[LeafSource]:
    return list(registry("transparency_leaf_sources", dict, app).values())
