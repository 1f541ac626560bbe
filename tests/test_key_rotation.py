"""DATA_ENCRYPTION_KEY rotation (`flask crypto rotate`, app/core/key_rotation.py) and the blind
index's own key (BLIND_INDEX_KEY), which keeps duplicate checks working across a rotation."""
from __future__ import annotations

import hashlib
import hmac
from datetime import date

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import event, select, text

from app import create_app
from app.config import ProductionConfig
from app.core import crypto, idcard, key_rotation
from app.extensions import db as _db
from app.mutual_aid import documents as claim_documents
from app.mutual_aid import services as mutual_aid
from app.mutual_aid.models import Membership
from app.review import services as review
from app.review.models import CampaignIdentity, Payee
from app.core.storage import get_storage
from tests.factories import UserFactory
from tests.review.helpers import PATIENT_ID, ready_campaign

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()
MEMBER_ID = idcard.make_number("110101", date(1990, 3, 7), 17)


@pytest.fixture()
def keys(app, db, tmp_path, monkeypatch):
    """Data encrypted under OLD, files in this test's own upload directory; `use(...)` switches
    DATA_ENCRYPTION_KEY as a redeploy would."""
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path))
    monkeypatch.setitem(app.config, "BLIND_INDEX_KEY", None)

    def use(value: str) -> None:
        monkeypatch.setitem(app.config, "DATA_ENCRYPTION_KEY", value)
        _db.session.expire_all()

    use(OLD)
    return use


def rotate_cli(app, *args: str):
    return app.test_cli_runner().invoke(args=["crypto", "rotate", *args])


def join(plan, number: str = MEMBER_ID) -> Membership:
    return mutual_aid.join(mutual_aid.JoinRequest(
        plan_id=plan.id, user_id=UserFactory().id, real_name="张三丰", id_number=number,
        relation="self", answers=dict.fromkeys(range(len(plan.health_questions)), False),
        accepted_rules=True, accepted_notice=True))


def private_data(patient):
    """One of everything encrypted: names, ID numbers, a payee, a membership, review documents
    (private store) and a claim document (mutual-aid store)."""
    campaign = ready_campaign(patient)
    review.save_payee(campaign, patient, kind="hospital", account_name="北京儿童医院",
                      bank_name="工商银行北京分行", account_number="6222020200001234567")
    membership = join(mutual_aid.seed_demo_plan())
    claim_key = claim_documents.store(claim_documents.ProcessedImage(b"claim-jpeg", 1, 1))
    return campaign, membership, claim_key


def stored_tokens() -> list[str]:
    rows = _db.session.execute(text(
        "SELECT patient_name_enc, patient_id_enc, organizer_name_enc, organizer_id_enc "
        "FROM campaign_identities UNION ALL SELECT account_name_enc, account_number_enc, '', '' "
        "FROM campaign_payees UNION ALL SELECT name_enc, id_enc, '', '' "
        "FROM mutual_aid_memberships")).all()
    return sorted(token for row in rows for token in row if token)


# --- the blind index ---------------------------------------------------------------------------

def _derived(key: str, value: str, purpose: str) -> str:
    secret = hmac.new(key.encode(), b"blind-index:" + purpose.encode(), hashlib.sha256).digest()
    return hmac.new(secret, value.encode(), hashlib.sha256).hexdigest()


def test_dev_fallback_gives_the_indexes_existing_embedded_databases_hold(app, monkeypatch):
    with app.app_context():
        monkeypatch.setitem(app.config, "BLIND_INDEX_KEY", None)
        monkeypatch.setitem(app.config, "DATA_ENCRYPTION_KEY", None)
        # Before BLIND_INDEX_KEY, the index was keyed by the first data key: here the dev key.
        assert crypto.blind_index(MEMBER_ID, "id_number") == \
            _derived(crypto.DEVELOPMENT_KEY, MEMBER_ID, "id_number")
        monkeypatch.setitem(app.config, "DATA_ENCRYPTION_KEY", f"{NEW},{OLD}")
        assert crypto.blind_index(MEMBER_ID, "id_number") == \
            _derived(crypto.DEVELOPMENT_KEY, MEMBER_ID, "id_number")


def test_blind_index_key_set_to_the_old_data_key_keeps_existing_indexes(app, monkeypatch):
    """The upgrade path DEPLOYMENT.md gives: BLIND_INDEX_KEY = the current first data key."""
    with app.app_context():
        monkeypatch.setitem(app.config, "BLIND_INDEX_KEY", OLD)
        monkeypatch.setitem(app.config, "DATA_ENCRYPTION_KEY", f"{NEW},{OLD}")
        assert crypto.blind_index(MEMBER_ID, "id_number") == _derived(OLD, MEMBER_ID, "id_number")


def test_without_blind_index_key_only_development_and_tests_fall_back(app, monkeypatch):
    with app.app_context():
        monkeypatch.setitem(app.config, "BLIND_INDEX_KEY", None)
        monkeypatch.setitem(app.config, "TESTING", False)
        monkeypatch.setitem(app.config, "EMBEDDED", False)
        with pytest.raises(crypto.CryptoError, match="BLIND_INDEX_KEY"):
            crypto.blind_index(MEMBER_ID, "id_number")


@pytest.mark.parametrize("value", [None, "too-short"])
def test_production_refuses_to_start_without_a_blind_index_key(monkeypatch, value):
    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", "set")
    monkeypatch.setattr(ProductionConfig, "DATA_ENCRYPTION_KEY", OLD)
    monkeypatch.setattr(ProductionConfig, "BLIND_INDEX_KEY", value)
    with pytest.raises(RuntimeError, match="BLIND_INDEX_KEY.*secrets.token_urlsafe"):
        create_app(ProductionConfig)


def test_duplicate_checks_still_match_after_a_new_key_is_prepended(app, keys, patient):
    plan = mutual_aid.seed_demo_plan()
    first = join(plan)
    review.submit_for_review(ready_campaign(patient), patient)

    keys(f"{NEW},{OLD}")
    with pytest.raises(mutual_aid.MutualAidError, match="已经是本计划的会员"):
        join(plan)
    assert _db.session.scalar(select(Membership.id).where(
        Membership.id_index == crypto.blind_index(MEMBER_ID, "id_number"))) == first.id
    uncle = UserFactory(nickname="舅舅")
    second = ready_campaign(uncle)      # the same patient, PATIENT_ID
    with pytest.raises(review.ReviewError, match="同一患者"):
        review.submit_for_review(second, uncle)

    assert rotate_cli(app).exit_code == 0
    keys(NEW)       # the old key removed: the checks still refuse
    with pytest.raises(mutual_aid.MutualAidError, match="已经是本计划的会员"):
        join(plan)
    with pytest.raises(review.ReviewError, match="同一患者"):
        review.submit_for_review(second, uncle)


# --- rotation ------------------------------------------------------------------------------------

def test_every_encrypted_column_is_registered_for_rotation(app):
    with app.app_context():   # each app's own registrations (app/core/plugins.py)
        registered = {(spec.model.__table__.name, column)
                      for spec in key_rotation.encrypted_columns().values()
                      for column in spec.columns}
        files = key_rotation.registered()["files"]
    encrypted = {(table.name, column.name) for table in _db.metadata.sorted_tables
                 for column in table.columns if column.name.endswith("_enc")}
    assert encrypted == registered
    assert files == ["core.private_documents", "mutual_aid.claim_documents"]


def test_rotate_re_encrypts_columns_and_files_so_the_old_key_can_go(app, keys, patient):
    campaign, membership, claim_key = private_data(patient)
    document_keys = sorted(get_storage().keys())
    assert len(document_keys) >= 4
    before = stored_tokens()
    updated_at = _db.session.scalar(select(CampaignIdentity.updated_at))

    keys(f"{NEW},{OLD}")
    check = rotate_cli(app, "--check")
    assert check.exit_code == 1
    # 4 identity + 2 payee + 2 membership values; every review document and the claim document.
    assert (f"8 of 8 values and {len(document_keys) + 1} of {len(document_keys) + 1} files are "
            "not under the first key (0 opened by no configured key); 0 blind index(es) do not "
            "match") in check.output
    assert "review.identities: 4 found (key 2: 4; no key opens: 0)" in check.output
    assert stored_tokens() == before       # --check changes nothing

    result = rotate_cli(app, "--batch-size", "1")
    assert result.exit_code == 0, result.output
    assert (f"crypto rotate: 8 values and {len(document_keys) + 1} files re-encrypted under the "
            "first key; 0 opened by no configured key") in result.output
    assert "review.identities: 1 rows read, 4 values re-encrypted" in result.output

    keys(NEW)
    identity = _db.session.scalar(select(CampaignIdentity))
    assert (identity.patient_name, identity.patient_id_number) == ("王小明", PATIENT_ID)
    assert identity.updated_at == updated_at    # re-encrypting is not an edit of the row
    assert _db.session.scalar(select(Payee)).account_number == "6222020200001234567"
    assert mutual_aid.real_name(_db.session.get(Membership, membership.id)) == "张三丰"
    assert crypto.decrypt(_db.session.get(Membership, membership.id).id_enc) == MEMBER_ID
    assert all(get_storage().get(key) for key in document_keys)
    assert claim_documents.load(claim_key) == b"claim-jpeg"

    again = rotate_cli(app)
    assert again.exit_code == 0
    assert "crypto rotate: 0 values and 0 files re-encrypted" in again.output
    after = stored_tokens()
    assert rotate_cli(app).exit_code == 0 and stored_tokens() == after   # rerun is a no-op
    check = rotate_cli(app, "--check")
    assert check.exit_code == 0, check.output
    assert "0 of 8 values and 0 of" in check.output


def test_an_interrupted_rotation_is_finished_by_rerunning(app, keys, patient):
    private_data(patient)
    keys(f"{NEW},{OLD}")
    # As if a run had stopped after its first batch: one identity value is under NEW already.
    identity = _db.session.scalar(select(CampaignIdentity))
    identity.patient_name_enc = crypto.encrypt("王小明")
    _db.session.commit()
    check = rotate_cli(app, "--check")
    assert "review.identities: 4 found (key 1: 1, key 2: 3;" in check.output
    result = rotate_cli(app)
    assert result.exit_code == 0 and "crypto rotate: 7 values" in result.output
    keys(NEW)
    assert rotate_cli(app, "--check").exit_code == 0


def test_values_no_key_opens_are_reported_and_left_alone(app, keys, patient):
    private_data(patient)
    before = stored_tokens()
    keys(NEW)       # OLD removed too early
    files = len(get_storage().keys()) + 1
    result = rotate_cli(app)
    assert result.exit_code == 1
    assert (f"crypto rotate: 0 values and 0 files re-encrypted under the first key; "
            f"{8 + files} opened by no configured key") in result.output
    assert "review.identities: 4 found (none; no key opens: 4)" in result.output
    assert stored_tokens() == before


def test_a_row_the_app_changes_during_rotation_keeps_the_apps_value(app, keys, patient):
    """Another process saves new real names between rotate's read and its write: rotate must
    not put the old name back (the app already writes under the first key)."""
    private_data(patient)
    keys(f"{NEW},{OLD}")
    renamed, saved = crypto.encrypt("王晓明"), []

    def another_process_saves(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("UPDATE campaign_identities") and not saved:
            saved.append(True)
            with _db.engine.begin() as other:
                other.execute(text("UPDATE campaign_identities SET patient_name_enc = :t"),
                              {"t": renamed})

    event.listen(_db.engine, "before_cursor_execute", another_process_saves)
    try:
        result = rotate_cli(app)
    finally:
        event.remove(_db.engine, "before_cursor_execute", another_process_saves)
    assert result.exit_code == 0, result.output
    assert "1 row(s) changed meanwhile" in result.output
    assert _db.session.scalar(select(CampaignIdentity)).patient_name == "王晓明"
    assert "review.identities: 4 found (key 1: 1, key 2: 3;" in rotate_cli(app, "--check").output
    assert "crypto rotate: 3 values and 0 files" in rotate_cli(app).output
    keys(NEW)
    assert rotate_cli(app, "--check").exit_code == 0


def test_check_reports_blind_indexes_made_with_another_key(app, keys, patient, monkeypatch):
    join(mutual_aid.seed_demo_plan())
    monkeypatch.setitem(app.config, "BLIND_INDEX_KEY", NEW)
    check = rotate_cli(app, "--check")
    assert check.exit_code == 1
    assert "mutual_aid.membership_id_index: 1 blind index(es) do not match" in check.output
