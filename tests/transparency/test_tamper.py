"""An insider with the database (PostgreSQL, behind the application's back, the append-only
triggers dropped) edits an amount, deletes a leg, drops a transaction or reorders a pair.

Either the insider leaves the log alone — then the ledger's rows, and the figures the platform
shows from them, no longer match the log, and the outsider's verifier says so — or rebuilds
the log from the edited rows and signs it with the real key — then the witness sees a
checkpoint not consistent with the one it cosigned, and the verifier the same against the
checkpoints in its state file. Each finding's line is named."""
from __future__ import annotations

import os

import pytest
from sqlalchemy import text

from app.extensions import db
from tests.transparency.test_verify_tool import (client_fetch, finance, funded_campaign,  # noqa: F401
                                                 integrate, paid_withdrawal, published_key,
                                                 tlog, verify)

import ledger_witness  # noqa: E402  (tools/, put on the path by test_verify_tool)

pytestmark = pytest.mark.skipif("postgresql" not in os.environ.get("DATABASE_URL", ""),
                                reason="the insider works in PostgreSQL")


@pytest.fixture()
def books(app, client, patient, staff, finance, run_jobs, monkeypatch, tmp_path):
    """¥300 + ¥500 + ¥1,200 given, ¥800 paid out; the log integrated, verified once by an
    outsider (state file kept) and cosigned by a configured witness."""
    signer = tlog.generate_signer("witness.example.org/xiangzhu", tlog.COSIGNATURE_V1)
    monkeypatch.setitem(app.config, "TRANSPARENCY_WITNESSES", signer.verifier.key_string())
    campaign = funded_campaign(client, patient, staff, finance)
    paid_withdrawal(campaign, patient, staff, finance, 800_00, run_jobs)
    integrate()
    state, witness_state = tmp_path / "seen.json", tmp_path / "witness.json"
    code, lines = verify(app, state)
    assert code == 0, lines
    assert witness(app, signer, witness_state) == 0
    return {"campaign": campaign, "state": state, "signer": signer, "witness": witness_state,
            "size": int(lines[-1].split(" size ")[1].split(" ")[0])}


@pytest.fixture(autouse=True)
def append_only_again(db):
    """The insider's dropped triggers come back for the tests after this one."""
    yield
    db.session.rollback()
    with db.engine.begin() as conn:
        for table in ("ledger_transactions", "ledger_entries"):
            conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}"))
            conn.execute(text(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON "
                              f"{table} FOR EACH ROW EXECUTE FUNCTION ledger_append_only()"))


def witness(app, signer, state) -> int:
    return ledger_witness.run(client_fetch(app), published_key(app), signer, str(state), None)


def insider(sql: str, **params) -> None:
    """Straight into the database, as someone with its password would."""
    db.session.rollback()
    with db.engine.begin() as conn:
        conn.execute(text("DROP TRIGGER IF EXISTS ledger_transactions_append_only "
                          "ON ledger_transactions"))
        conn.execute(text("DROP TRIGGER IF EXISTS ledger_entries_append_only ON ledger_entries"))
        for statement in sql.split(";"):
            if statement.strip():
                conn.execute(text(statement), params)


def rebuild_log(late: int = 3) -> None:
    """The insider throws the log away and integrates the edited rows again, signing with the
    platform's real key; `late` postings arrive meanwhile, so the new tree is the larger."""
    insider("TRUNCATE transparency_cosignatures, transparency_checkpoints, transparency_leaves, "
            "transparency_nodes, transparency_state")
    for i in range(late):
        insider(f"INSERT INTO ledger_transactions (source_type, source_ref, memo, created_at) "
                f"VALUES ('payment', 'XZLATE{i}', '', now());"
                "INSERT INTO ledger_entries (transaction_id, account_id, amount_fen) "
                "SELECT currval('ledger_transactions_id_seq'), id, -100 FROM ledger_accounts "
                "WHERE code = 'custodian:wechat_clearing';"
                "INSERT INTO ledger_entries (transaction_id, account_id, amount_fen) "
                "SELECT currval('ledger_transactions_id_seq'), id, 100 FROM ledger_accounts "
                "WHERE code = 'custodian:payout_clearing'")
    db.session.rollback()
    from app.transparency import integrator
    integrator.integrate_all(full=True)


CUSTODY = "(SELECT id FROM ledger_accounts WHERE code = :custody)"
PAYMENT_OF_500 = ("(SELECT t.id FROM ledger_transactions t JOIN ledger_entries e ON "
                  "e.transaction_id = t.id WHERE t.source_type = 'payment' AND "
                  "e.amount_fen = 50000)")
# Each tamper, and how the insider makes the platform's own figures agree with the edited rows
# (the cached raised total and the custody account's cached totals).
EDIT_AMOUNT = (
    f"UPDATE ledger_entries SET amount_fen = CASE WHEN amount_fen > 0 THEN 40000 ELSE -40000 END "
    f"WHERE transaction_id = {PAYMENT_OF_500};"
    "UPDATE campaigns SET raised_fen = raised_fen - 10000 WHERE id = :campaign;"
    f"UPDATE ledger_account_totals SET amount_fen = amount_fen - 10000 WHERE account_id = "
    f"{CUSTODY} AND source_type = 'payment'")
DELETE_LEG = (  # the custody's leg of the ¥800 withdrawal: the money never left, it says
    "DELETE FROM ledger_entries WHERE account_id = " + CUSTODY + " AND transaction_id = "
    "(SELECT id FROM ledger_transactions WHERE source_type = 'withdrawal');"
    f"UPDATE ledger_account_totals SET amount_fen = amount_fen + 80000 WHERE account_id = "
    f"{CUSTODY} AND source_type = 'withdrawal'")
DROP_TRANSACTION = (  # the ¥500 donation and its fee never happened
    "DELETE FROM ledger_entries WHERE transaction_id IN (SELECT id FROM ledger_transactions "
    f"WHERE source_ref = (SELECT source_ref FROM ledger_transactions WHERE id = "
    f"{PAYMENT_OF_500}));"
    "DELETE FROM ledger_transactions t WHERE NOT EXISTS (SELECT 1 FROM ledger_entries e "
    "WHERE e.transaction_id = t.id);"
    "UPDATE campaigns SET raised_fen = raised_fen - 50000, donation_count = donation_count - 1 "
    "WHERE id = :campaign;"
    f"UPDATE ledger_account_totals SET amount_fen = amount_fen - 50000, entry_count = "
    f"entry_count - 1 WHERE account_id = {CUSTODY} AND source_type = 'payment';"
    f"UPDATE ledger_account_totals SET amount_fen = amount_fen + 300, entry_count = "
    f"entry_count - 1 WHERE account_id = {CUSTODY} AND source_type = 'channel_fee'")
REORDER_PAIR = (  # the first two donations swap places in the ledger's order
    "UPDATE ledger_entries SET transaction_id = CASE transaction_id "
    "WHEN :first THEN :second ELSE :first END WHERE transaction_id IN (:first, :second);"
    "UPDATE ledger_transactions SET source_ref = source_ref || '~' "
    "WHERE id IN (:first, :second);"
    "UPDATE ledger_transactions a SET source_ref = rtrim(b.source_ref, '~'), memo = b.memo, "
    "created_at = b.created_at "
    "FROM ledger_transactions b WHERE a.id IN (:first, :second) AND b.id IN (:first, :second) "
    "AND a.id <> b.id")


def tamper(sql: str, books) -> None:
    params = {"campaign": books["campaign"].id,
              "custody": f"campaign:{books['campaign'].id}:custody"}
    if sql is REORDER_PAIR:
        first, second = db.session.execute(text(
            "SELECT id FROM ledger_transactions WHERE source_type = 'payment' ORDER BY id "
            "LIMIT 2")).scalars().all()
        params.update(first=first, second=second)
    insider(sql, **params)


@pytest.mark.parametrize("sql, lines", [
    (EDIT_AMOUNT, ["raised /api/v1 says 190000, the log says 200000",
                   "raised page says 190000, the log says 200000",
                   "balance page says 108800, the log says 118800"]),
    (DELETE_LEG, ["balance page says 198800, the log says 118800"]),
    (DROP_TRANSACTION, ["raised /api/v1 says 150000, the log says 200000",
                        "donations /api/v1 says 2, the log says 3",
                        "fee page says 900, the log says 1200",
                        "balance page says 69100, the log says 118800"]),
], ids=["edited amount", "deleted leg", "dropped transaction"])
def test_rows_edited_behind_the_log_show_as_figures_that_differ_from_it(app, books, sql, lines):
    tamper(sql, books)
    code, found = verify(app, books["state"])
    assert code == 1
    campaign = books["campaign"].id
    for line in lines:
        assert f"campaign {campaign}: {line}" in found, found
    # the log itself still holds: nothing about it is found
    assert not [line for line in found if not line.startswith(f"campaign {campaign}:")]


@pytest.mark.parametrize("sql, leaf_line", [
    (EDIT_AMOUNT, None),
    (DELETE_LEG, "a transaction has at least two legs"),
    (DROP_TRANSACTION, None),
    (REORDER_PAIR, None),
], ids=["edited amount", "deleted leg", "dropped transaction", "reordered pair"])
def test_a_log_rebuilt_from_edited_rows_is_refused_by_the_witness_and_the_verifier(
        app, books, capsys, sql, leaf_line):
    size = books["size"]
    tamper(sql, books)
    rebuild_log()
    capsys.readouterr()
    assert witness(app, books["signer"], books["witness"]) == 1
    alarm = capsys.readouterr().err
    assert "ALARM: inconsistent: size" in alarm and f"with size {size}, which I cosigned" in alarm

    code, found = verify(app, books["state"])
    assert code == 1
    assert any(line.startswith(f"consistency {size}→") and line.endswith(
        "the proof does not connect the checkpoint verified before to the latest one")
        for line in found), found
    assert any(line.startswith(f"consistency {size}→") and line.endswith(
        f"the first {size} leaves no longer give the root verified before")
        for line in found), found
    if leaf_line:
        assert any(line.endswith(leaf_line) for line in found), found
