"""tools/verify_ledger.py against the real app: a clean ledger with donations, a payout and the
refunds of a termination agrees with itself, with the checkpoints seen before and with every
figure the campaign page and /api/v1 show (exit 0 and a summary); what a dishonest server
could hand out in transit (an edited leaf, a non-canonical one, a bad signature) is a finding
line each (exit 1). The HTTP boundary is outside the tool, so most tests hand it a transport
over the Flask test client; one runs the command itself against the live server."""
from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from app.auth.models import StaffRole
from app.core.idcard import make_number
from app.extensions import db
from app.payouts import withdrawals
from app.payouts.models import DonationRefund, RefundStatus
from app.transparency import integrator
from tests.factories import StaffFactory, UserFactory
from tests.payouts.helpers import donate, invoice, pay_out, verified_campaign

TOOLS = Path(__file__).resolve().parents[2] / "tools"
sys.path.insert(0, str(TOOLS))
import ledger_http  # noqa: E402
import ledger_leaves  # noqa: E402
import tlog  # noqa: E402
import verify_ledger  # noqa: E402


# --- shared with the witness and tamper tests ----------------------------------------------------

def client_fetch(app, rewrite=None) -> ledger_http.Fetch:
    """The tool's transport over the Flask test client; `rewrite(path, response)` may change
    what the 'server' says, as a dishonest one in the middle would."""
    client = app.test_client()

    def fetch(method, path, body=None, content_type=None):
        answer = client.open(path, method=method, data=body, content_type=content_type)
        response = ledger_http.Response(answer.status_code, answer.get_data(),
                                        answer.content_type)
        return rewrite(path, response) if rewrite else response

    return fetch


def published_key(app) -> tlog.Verifier:
    """The verifier key as the platform publishes it (an outsider takes it from the README)."""
    text = app.test_client().get("/.well-known/xiangzhu-ledger-key").get_data(as_text=True)
    return tlog.parse_verifier_key(text)


def verify(app, state: Path | None = None, rewrite=None) -> tuple[int, list[str]]:
    out = io.StringIO()
    code = verify_ledger.run_verify(client_fetch(app, rewrite), published_key(app),
                                    str(state) if state else None, sample=1000, out=out)
    return code, out.getvalue().splitlines()


def integrate() -> None:
    db.session.rollback()
    integrator.integrate_all()


def funded_campaign(client, organizer, staff, finance, amounts=(300_00, 500_00, 1_200_00),
                    **fields):
    """Live and verified, given `amounts` by as many donors (signed notices from the stand-in)."""
    campaign = verified_campaign(organizer, staff, finance, **fields)
    for amount in amounts:
        donate(client, campaign, UserFactory(), amount)
    return campaign


def paid_withdrawal(campaign, organizer, staff, finance, amount_fen, run_jobs):
    asked = withdrawals.request_withdrawal(campaign.id, organizer, amount_fen, "住院押金",
                                           invoices=[invoice()])
    pay_out(asked.id, staff, finance)
    run_jobs()
    return asked


@pytest.fixture()
def finance(db):
    return StaffFactory(role=StaffRole.finance, display_name="财务小李")


# --- the clean ledger ----------------------------------------------------------------------------

def _settled(campaign_id: int, seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        db.session.expire_all()
        rows = list(db.session.scalars(select(DonationRefund.status).where(
            DonationRefund.campaign_id == campaign_id)))
        if rows and all(s in (RefundStatus.succeeded, RefundStatus.none) for s in rows):
            return True
        time.sleep(0.05)
    return False


def test_a_clean_ledger_agrees_with_itself_its_history_and_every_campaign_figure(
        app, live_server, client, patient, staff, finance, admin, run_jobs, tmp_path):
    from app.campaigns.moderation import terminate_campaign

    campaign = funded_campaign(client, patient, staff, finance)
    other = funded_campaign(client, UserFactory(nickname="李阿姨"), staff, finance,
                            amounts=(88_88,), patient_id=make_number(
                                "110101", date(date.today().year - 9, 5, 1), 321))
    paid_withdrawal(campaign, patient, staff, finance, 800_00, run_jobs)
    integrate()
    state = tmp_path / "seen.json"
    code, lines = verify(app, state)
    assert code == 0, lines
    first_size = json.loads(state.read_text())["checkpoints"][-1]["tree_size"]
    assert lines[-1].startswith(f"OK xiangzhu.local/ledger size {first_size} ")
    assert "consistent with 0 seen before" in lines[-1] and "2 campaigns agree" in lines[-1]

    terminate_campaign(campaign, admin, "患者已康复，发起人申请终止")
    run_jobs()  # the refunds go to WeChat; its notices come back to the live server
    assert _settled(campaign.id)
    integrate()
    code, lines = verify(app, state)
    assert code == 0, lines
    assert "consistent with 1 seen before" in lines[-1] and "2 campaigns agree" in lines[-1]
    sizes = [c["tree_size"] for c in json.loads(state.read_text())["checkpoints"]]
    assert sizes[0] == first_size < sizes[1]

    # the figures the tool recomputed are the ones people read on the page (tests/payouts:
    # ¥2,000 given, ¥12 WeChat fee of which ¥7.17 returned with the refunds, ¥800 paid out)
    replay = ledger_leaves.LedgerReplay()
    for item in client.get(f"/api/v1/transparency/leaves?start=0&end={sizes[1]}").json["leaves"]:
        replay.add(item["index"], item["leaf"])
    assert replay.findings == []
    assert vars(replay.campaigns[campaign.id]) == {
        "raised_fen": 2_000_00, "donation_count": 3, "withdrawn_fen": 800_00,
        "fee_fen": 12_00 - 7_17, "balance_fen": 0}
    assert replay.campaigns[other.id].raised_fen == 88_88
    page = client.get(f"/c/{campaign.id}").get_data(as_text=True)
    assert "<dd>¥800</dd>" in page and 'data-channel-fee="483"' in page


def test_the_command_itself_against_the_live_server(app, live_server, client, patient, staff,
                                                    finance, tmp_path):
    funded_campaign(client, patient, staff, finance, amounts=(66_00, 1_00))
    integrate()
    key = published_key(app).key_string()
    command = [sys.executable, str(TOOLS / "verify_ledger.py"), live_server, "--key", key,
               "--state", str(tmp_path / "seen.json"), "--merge-delay", "0"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("OK xiangzhu.local/ledger size ")
    wrong_key = tlog.generate_signer("xiangzhu.local/ledger", tlog.ED25519).verifier.key_string()
    done = subprocess.run(command[:3] + ["--key", wrong_key], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 1
    assert done.stdout.startswith("checkpoint: no signature by xiangzhu.local/ledger")


# --- a dishonest server in the middle ------------------------------------------------------------

def _leaves_rewritten(change):
    """A rewrite that passes every served leaf through `change(index, leaf text)`."""
    def rewrite(path, response):
        if not path.startswith("/api/v1/transparency/leaves"):
            return response
        body = json.loads(response.body)
        for item in body["leaves"]:
            item["leaf"] = change(item["index"], item["leaf"])
        return ledger_http.Response(200, json.dumps(body).encode(), "application/json")
    return rewrite


def _edited_amount(index, text):
    leaf = json.loads(text)
    if leaf["kind"] == "payment" and leaf["legs"][1]["fen"] == 500_00:
        leaf["legs"][0]["fen"], leaf["legs"][1]["fen"] = -400_00, 400_00
    return json.dumps(leaf, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def test_a_leaf_edited_in_transit_is_found_by_root_inclusion_and_figures(app, client, patient,
                                                                         staff, finance):
    campaign = funded_campaign(client, patient, staff, finance)
    integrate()
    code, lines = verify(app, rewrite=_leaves_rewritten(_edited_amount))
    assert code == 1
    size = client.get("/api/v1/transparency/leaves?start=0&end=1").json["tree_size"]
    assert f"checkpoint {size}: its root is not the root of the leaves" in lines
    assert any(line.endswith("the platform's leaf hash is not the leaf's") for line in lines)
    assert (f"campaign {campaign.id}: raised /api/v1 says 200000, the log says 190000"
            in lines)
    assert not any(line.startswith("OK") for line in lines)


def test_a_leaf_not_in_canonical_encoding_or_with_a_float_is_a_finding(app, client, patient,
                                                                       staff, finance):
    funded_campaign(client, patient, staff, finance, amounts=(10_00,))
    integrate()
    code, lines = verify(app, rewrite=_leaves_rewritten(
        lambda i, text: text.replace(",", ", ", 1) if i == 0 else text))
    assert code == 1
    assert "leaf 0: not in the canonical encoding (sorted keys, no spaces, UTF-8)" in lines
    code, lines = verify(app, rewrite=_leaves_rewritten(
        lambda i, text: text.replace('"fen":1000', '"fen":1000.0') if i == 0 else text))
    assert code == 1 and "leaf 0: a number that is not an integer: 1000.0" in lines


def test_a_checkpoint_with_a_bad_signature_stops_the_check(app, client, patient, staff, finance):
    funded_campaign(client, patient, staff, finance, amounts=(10_00,))
    integrate()

    def forged(path, response):
        if path == "/transparency/checkpoint":
            lines = response.text().split("\n")
            lines[1] = str(int(lines[1]) + 1)  # one more leaf than was signed
            return ledger_http.Response(200, "\n".join(lines).encode(), "text/plain")
        return response

    code, lines = verify(app, rewrite=forged)
    assert code == 1
    assert lines == ["checkpoint: the signature by xiangzhu.local/ledger does not verify"]


def test_leaf_checks_of_the_contract():
    """The leaf rules of docs/transparency.md, one finding each (no server needed)."""
    good = {"v": 1, "type": "ledger_transaction", "txn": 1, "time": "2000-01-01T00:00:00Z",
            "kind": "payment", "ref": "a" * 64, "reverses": None,
            "legs": [{"account": "custodian:wechat_clearing", "fen": -100},
                     {"account": "campaign:7:custody", "fen": 100}]}

    def finding(**changes):
        replay = ledger_leaves.LedgerReplay()
        replay.add(0, json.dumps({**good}, sort_keys=True, separators=(",", ":")))
        leaf = {**good, **changes}
        replay.add(1, json.dumps(leaf, sort_keys=True, separators=(",", ":"),
                                 ensure_ascii=False))
        return replay.findings

    assert finding(txn=2) == []
    assert finding(txn=2, legs=good["legs"][:1]) == ["leaf 1: a transaction has at least two legs"]
    assert finding(txn=2, legs=[{"account": "a", "fen": -100}, {"account": "b", "fen": 90}]) == [
        "leaf 1: legs sum to -10 fen, not zero"]
    assert finding() == ["leaf 1: transaction 1 is already leaf 0"]
    assert finding(txn=2, reverses=9) == [
        "leaf 1: reverses transaction 9, which no earlier leaf holds"]
    assert finding(txn=2, reverses=1) == [
        "leaf 1: its legs are not the mirror image of transaction 1"]
    assert finding(txn=2, kind="reversal", reverses=1, legs=[
        {"account": "custodian:wechat_clearing", "fen": 100},
        {"account": "campaign:7:custody", "fen": -100}]) == []
    assert finding(txn=2, time="2000-01-01 00:00:00") == [
        "leaf 1: time '2000-01-01 00:00:00' is not YYYY-MM-DDTHH:MM:SSZ"]
    assert finding(txn=2, memo="张三") == [
        "leaf 1: fields ['kind', 'legs', 'memo', 'ref', 'reverses', 'time', 'txn', 'type', 'v'] "
        "are not ['kind', 'legs', 'ref', 'reverses', 'time', 'txn', 'type', 'v']"]
    assert finding(txn=2, type="gift") == ["leaf 1: unknown leaf type 'gift'"]


# --- against what this verifier saw before ---------------------------------------------------------

def _state_with(state: Path, change) -> None:
    saved = json.loads(state.read_text())
    change(saved["checkpoints"])
    state.write_text(json.dumps(saved))


def test_the_state_file_catches_a_split_view_a_shrunken_tree_and_a_rewritten_past(
        app, client, patient, staff, finance, tmp_path):
    funded_campaign(client, patient, staff, finance, amounts=(10_00, 20_00))
    integrate()
    state = tmp_path / "seen.json"
    assert verify(app, state)[0] == 0
    size = json.loads(state.read_text())["checkpoints"][-1]["tree_size"]
    other_root = tlog.b64encode(tlog.node_hash(b"a" * 32, b"b" * 32))
    honest = state.read_text()

    _state_with(state, lambda cps: cps[-1].update(root_hash=other_root))
    code, lines = verify(app, state)
    assert code == 1 and lines == [f"split view: the checkpoint of size {size} has a different "
                                   "root from the one verified before"]
    state.write_text(honest)
    _state_with(state, lambda cps: cps.append({"tree_size": size + 5, "root_hash": other_root}))
    code, lines = verify(app, state)
    assert code == 1 and lines == [f"tree shrank: size {size + 5} was verified before, the "
                                   f"latest checkpoint is size {size}"]

    state.write_text(honest)
    donate(client, _campaign_of(patient), UserFactory(), 30_00)
    integrate()
    _state_with(state, lambda cps: cps[-1].update(root_hash=other_root))
    code, lines = verify(app, state)
    latest = json.loads(client.get("/api/v1/transparency/leaves?start=0&end=0").data)["tree_size"]
    assert code == 1
    assert lines == [
        f"split view: the platform's checkpoint of size {size} has a different root from the "
        "one verified before",
        f"consistency {size}→{latest}: the proof does not connect the checkpoint verified "
        "before to the latest one",
        f"consistency {size}→{latest}: the first {size} leaves no longer give the root "
        "verified before"]
    state.write_text(honest)
    assert verify(app, state)[0] == 0   # the honest past is consistent with the present


def _campaign_of(organizer):
    from app.campaigns.models import Campaign
    return db.session.scalars(select(Campaign).where(Campaign.organizer_id == organizer.id)).one()


def test_leaves_and_checkpoints_are_downloaded_page_by_page(app, db, tmp_path):
    from app.ledger.services import CLEARING_WECHAT, Leg, post

    def posted(ref: str, fen: int) -> None:
        post("payment", ref, [Leg(CLEARING_WECHAT, -fen), Leg("custodian:payout_clearing", fen)])

    for i in range(1003):   # more leaves than one page of 1000
        posted(f"PAGE{i:05d}", 1 + i)
    db.session.commit()
    integrate()
    for i in range(101):   # more signed checkpoints than one page of 100
        posted(f"MORE{i:05d}", 7)
        db.session.commit()
        integrate()
    out = io.StringIO()
    code = verify_ledger.run_verify(client_fetch(app), published_key(app), None, sample=3,
                                    out=out)
    assert code == 0, out.getvalue()
    assert "size 1104 " in out.getvalue() and "1104 leaves recomputed" in out.getvalue()
    checked = int(out.getvalue().split("recomputed, ")[1].split(" ")[0])
    assert checked >= 102   # every checkpoint signed, over two pages of 100


def test_a_live_campaign_whose_money_the_log_lacks_is_a_finding(app, client, patient, staff,
                                                                finance):
    integrate()   # the log is signed before the campaign gets anything: its money is not in it
    campaign = funded_campaign(client, patient, staff, finance, amounts=(10_00, 5_00))
    code, lines = verify(app)
    assert code == 1
    assert lines == [f"campaign {campaign.id}: raised /api/v1 says 1500, the log holds none of "
                     "its money"]
    integrate()   # within the merge delay the log has it, and everything agrees
    assert verify(app)[0] == 0
