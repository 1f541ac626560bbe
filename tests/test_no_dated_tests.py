"""No test may depend on today's date: time is frozen with time_machine (never freezegun) at
moments relative to now (tests/clock.py), and literal dates appear only as data handed to pure
functions, in the files allowed below."""
from __future__ import annotations

import ast
import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent
CLOCK_CALLS = {"travel", "travel_to", "freeze_time", "move_to"}
DATE_TYPES = {"date", "datetime"}
DATE_TEXT = re.compile(r"\d{4}-?\d{2}-?\d{2}")
# Literal dates that are data, each with why it never meets the clock.
LITERAL_DATES_ALLOWED = {
    "mutual_aid/test_idcard_crypto.py": "idcard.parse/age_on are pure: every `today` is passed in",
    "review/helpers.py": "birth dates inside sample ID numbers (a child and adults), decades "
                         "from any age limit",
    "test_key_rotation.py": "the birth date inside a sample ID number of an adult member",
}


def _name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _literal_date(node: ast.AST) -> bool:
    """date(2026, ...) / datetime(2026, ...) with a literal year."""
    return (isinstance(node, ast.Call) and _name(node.func) in DATE_TYPES and bool(node.args)
            and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, int))


def _literal_moment(node: ast.AST) -> bool:
    """What a frozen clock must never be given: a date string, an epoch number, a literal date."""
    if isinstance(node, ast.Constant):
        value = node.value
        return (isinstance(value, str) and bool(DATE_TEXT.search(value))) or (
            isinstance(value, (int, float)) and not isinstance(value, bool))
    return _literal_date(node)


def problems(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [f"line {node.lineno}: imports {a.name}" for a in node.names
                      if a.name.split(".")[0] == "freezegun"]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("freezegun"):
            found.append(f"line {node.lineno}: imports from {node.module}")
        elif isinstance(node, ast.Call) and _name(node.func) in CLOCK_CALLS:
            arguments = [*node.args, *(k.value for k in node.keywords if k.arg != "tick")]
            if any(_literal_moment(a) for a in arguments):
                found.append(f"line {node.lineno}: {_name(node.func)}() at a literal time")
        elif _literal_date(node):
            found.append(f"line {node.lineno}: a literal {_name(node.func)}()")
    return found


def test_no_test_freezes_a_literal_time_or_compares_a_literal_date():
    offending = {}
    for path in sorted(TESTS.rglob("*.py")):
        relative = path.relative_to(TESTS).as_posix()
        found = problems(path.read_text(encoding="utf-8"))
        if relative in LITERAL_DATES_ALLOWED:
            found = [p for p in found if "a literal date" not in p]   # date() and datetime()
        if found:
            offending[relative] = found
    assert offending == {}, "times relative to now, please (tests/clock.py): " + repr(offending)


def test_the_guard_sees_what_it_forbids():
    assert problems("from freezegun import freeze_time")
    assert problems("import freezegun")
    assert problems('with freeze_time("2026-12-01 02:00:00"): pass')
    assert problems("with time_machine.travel(datetime(2027, 1, 12, 1), tick=False): pass")
    assert problems("with travel_to(1767225600): pass")
    assert problems("first_due = date(2027, 1, 15)")
    assert not problems("with travel_to(china_time(days_ahead(3), 9)): pass")
    assert not problems("with time_machine.travel(timedelta(days=400), tick=True): pass")
    assert not problems("too_old = date(today.year - 61, 1, 1)")
