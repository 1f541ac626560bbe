"""One file uploaded as several document kinds: each upload's SHA-256 is stored and the
review console warns the reviewer, naming the kinds and linking the documents."""
import hashlib

from app.core.uploads import check_bytes
from app.review import services
from app.review.models import CampaignDocument, DocumentKind
from tests.factories import CampaignFactory
from tests.factories_plugin import add_cover
from tests.review.files import jpeg_bytes, pdf_bytes, upload

WARNING = "同一个文件被上传为"


def _post(client, campaign, data: bytes, kind: str):
    response = client.post(f"/c/{campaign.id}/documents", content_type="multipart/form-data",
                           data={"kind": kind, "files": [upload(data, "scan.jpg")]},
                           follow_redirects=True)
    assert response.status_code == 200
    return response


def _documents(campaign) -> dict[str, CampaignDocument]:
    return {d.kind.value: d for d in services.current_documents(campaign.id)}


def _console(staff_client, campaign) -> str:
    response = staff_client.get(f"/staff/campaigns/{campaign.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _campaign(patient):
    return add_cover(CampaignFactory(organizer=patient, relation="parent"), patient)


def test_each_upload_stores_the_sha256_of_the_stored_file(db, patient_client, patient):
    campaign = _campaign(patient)
    _post(patient_client, campaign, pdf_bytes(1), "costs")
    document = _documents(campaign)["costs"]
    assert document.sha256 == hashlib.sha256(services.read_document(document)).hexdigest()


def test_the_same_file_as_diagnosis_and_id_card_warns_the_reviewer(db, patient_client, patient,
                                                                  staff_client):
    campaign = _campaign(patient)
    scan = jpeg_bytes((400, 300), color=(10, 120, 200))
    _post(patient_client, campaign, scan, "diagnosis")
    _post(patient_client, campaign, scan, "patient_id")
    _post(patient_client, campaign, jpeg_bytes((400, 300), color=(200, 30, 30)), "organizer_id")
    docs = _documents(campaign)
    assert docs["diagnosis"].sha256 == docs["patient_id"].sha256 != docs["organizer_id"].sha256

    html = _console(staff_client, campaign)
    assert f"{WARNING}诊断证明、患者身份证" in html
    diagnosis, id_card = docs["diagnosis"].id, docs["patient_id"].id
    assert f'href="#doc-{diagnosis}">诊断证明 #{diagnosis}</a>' in html
    assert f'href="#doc-{id_card}">患者身份证 #{id_card}</a>' in html
    # beside each of the two documents, the other is named
    assert html.count("是同一个文件") == 2
    assert f"发起人身份证 #{docs['organizer_id'].id}</a>是同一个文件" not in html


def test_different_files_and_a_file_twice_under_one_kind_are_not_flagged(
        db, patient_client, patient, staff_client):
    campaign = _campaign(patient)
    _post(patient_client, campaign, jpeg_bytes((400, 300), color=(10, 120, 200)), "diagnosis")
    _post(patient_client, campaign, jpeg_bytes((400, 300), color=(10, 120, 200)), "diagnosis")
    _post(patient_client, campaign, jpeg_bytes((400, 300), color=(90, 90, 20)), "patient_id")
    html = _console(staff_client, campaign)
    assert WARNING not in html and "是同一个文件" not in html


def test_the_warning_goes_when_the_organizer_removes_one_of_the_copies(
        db, patient_client, patient, staff_client):
    campaign = _campaign(patient)
    scan = pdf_bytes(2)
    services.upload_documents(campaign, patient, DocumentKind.costs, [check_bytes(scan)])
    services.upload_documents(campaign, patient, DocumentKind.medical_record, [check_bytes(scan)])
    assert WARNING in _console(staff_client, campaign)
    services.remove_document(campaign, patient, _documents(campaign)["medical_record"].id)
    assert WARNING not in _console(staff_client, campaign)


def test_documents_from_before_the_hash_was_kept_are_never_flagged(db, patient, staff_client):
    from app.extensions import db as database

    campaign = _campaign(patient)
    scan = pdf_bytes(1)
    for kind in (DocumentKind.costs, DocumentKind.medical_record):
        services.upload_documents(campaign, patient, kind, [check_bytes(scan)])
    for document in services.current_documents(campaign.id):
        document.sha256 = None
    database.session.commit()
    assert WARNING not in _console(staff_client, campaign)


def test_a_file_another_campaign_used_is_flagged_with_a_link_to_it(db, patient, staff_client):
    from tests.factories import UserFactory

    other_organizer = UserFactory(nickname="另一位发起人")
    earlier = _campaign(other_organizer)
    scan = check_bytes(jpeg_bytes((400, 300), color=(33, 66, 99)))
    services.upload_documents(earlier, other_organizer, DocumentKind.diagnosis, [scan])
    campaign = _campaign(patient)
    services.upload_documents(campaign, patient, DocumentKind.diagnosis, [scan])
    services.upload_documents(campaign, patient, DocumentKind.patient_id,
                              [check_bytes(jpeg_bytes((400, 300), color=(99, 66, 33)))])
    html = _console(staff_client, campaign)
    link = f'<a href="/staff/campaigns/{earlier.id}">筹款 #{earlier.id}</a>'
    assert f"此筹款的一个文件也出现在{link} 的诊断证明" in html
    assert html.count('class="doc-missing used-elsewhere"') == 1
    assert WARNING not in html                   # no two kinds within this campaign
    # and the earlier campaign's page points back
    assert f'<a href="/staff/campaigns/{campaign.id}">' in _console(staff_client, earlier)


def test_documents_from_before_the_hash_get_it_from_flask_review_hash_documents(app, db, patient,
                                                                             staff_client):
    from app.extensions import db as database

    campaign = _campaign(patient)
    scan = pdf_bytes(1)
    for kind in (DocumentKind.costs, DocumentKind.medical_record):
        services.upload_documents(campaign, patient, kind, [check_bytes(scan)])
    kept = {d.id: d.sha256 for d in services.current_documents(campaign.id)}
    for document in services.current_documents(campaign.id):
        document.sha256 = None
    database.session.commit()
    assert WARNING not in _console(staff_client, campaign)

    result = app.test_cli_runner().invoke(args=["review", "hash-documents"])
    assert result.exit_code == 0 and "2 个材料已计算 SHA-256" in result.output
    database.session.expire_all()
    assert {d.id: d.sha256 for d in services.current_documents(campaign.id)} == kept
    assert WARNING in _console(staff_client, campaign)
    again = app.test_cli_runner().invoke(args=["review", "hash-documents"])
    assert "0 个材料已计算 SHA-256" in again.output


def test_the_decision_panel_points_to_the_warning(db, patient, staff_client):
    from tests.review.helpers import submitted_ready

    campaign = submitted_ready(patient)          # its helper uploads one JPEG for every kind
    html = _console(staff_client, campaign)
    panel = html[html.index('id="decision"'):]
    assert '<a href="#duplicates">注意：有文件重复使用，通过前请核对</a>' in panel
