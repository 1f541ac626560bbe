"""Real names and ID numbers: validated, encrypted at rest, masked except for reviewers;
payee verified by finance; one campaign at a time per patient across organizers."""
from sqlalchemy import text

from app.auth.models import StaffRole
from app.core.idcard import mask
from app.review import decisions, services
from app.review.models import CampaignIdentity, IdentityStatus
from app.review.services import ReviewError
from tests.factories import CampaignFactory, StaffFactory, UserFactory
from tests.factories_plugin import add_cover
from tests.review.helpers import ORGANIZER_ID, PATIENT_ID, add_documents, ready_campaign


def body(response) -> str:
    return response.get_data(as_text=True)


def test_id_numbers_are_validated(db, patient, patient_client, draft_campaign):
    bad = PATIENT_ID[:-1] + ("0" if PATIENT_ID[-1] != "0" else "1")
    response = patient_client.post(f"/c/{draft_campaign.id}/identity", follow_redirects=True,
                                   data={"patient_name": "王小明", "patient_id": bad,
                                         "organizer_name": "李红", "organizer_id": ORGANIZER_ID})
    assert "校验位不正确" in body(response)
    response = patient_client.post(f"/c/{draft_campaign.id}/identity", follow_redirects=True,
                                   data={"patient_name": "王小明", "patient_id": "12345",
                                         "organizer_name": "李红", "organizer_id": ORGANIZER_ID})
    assert "18 位" in body(response)
    assert db.session.query(CampaignIdentity).count() == 0


def test_id_numbers_are_encrypted_and_masked(app, db, patient, patient_client, staff_client,
                                             draft_campaign):
    response = patient_client.post(f"/c/{draft_campaign.id}/identity", follow_redirects=True,
                                   data={"patient_name": "王小明", "patient_id": PATIENT_ID,
                                         "organizer_name": "李红", "organizer_id": ORGANIZER_ID})
    assert "实名信息已保存" in body(response)
    raw = db.session.execute(text("SELECT * FROM campaign_identities")).mappings().one()
    assert PATIENT_ID not in str(dict(raw)) and "王小明" not in str(raw["patient_name_enc"])
    owner_page = body(patient_client.get(f"/c/{draft_campaign.id}/documents"))
    assert mask(PATIENT_ID) in owner_page and PATIENT_ID not in owner_page
    assert PATIENT_ID in body(staff_client.get(f"/staff/campaigns/{draft_campaign.id}"))
    finance = app.test_client(user=StaffFactory(role=StaffRole.finance))
    finance_page = body(finance.get(f"/staff/campaigns/{draft_campaign.id}"))
    assert PATIENT_ID not in finance_page and mask(PATIENT_ID) in finance_page


def test_the_same_patient_cannot_run_two_campaigns_through_two_organizers(db, patient):
    ready = ready_campaign(patient)
    services.submit_for_review(ready, patient)
    uncle = UserFactory(nickname="舅舅")
    other = add_cover(CampaignFactory(organizer=uncle, patient_name="王 小明"), uncle)
    add_documents(other, uncle)
    services.save_identity(other, uncle, patient_name="王小明", patient_id=PATIENT_ID,
                           organizer_name="张舅", organizer_id=ORGANIZER_ID)
    try:
        services.submit_for_review(other, uncle)
    except ReviewError as error:
        assert "同一患者" in error.message
    else:
        raise AssertionError("second campaign for the same patient was submitted")


def test_payee_is_verified_by_finance_and_shown_as_a_badge(app, db, patient, patient_client,
                                                          staff, client):
    campaign = ready_campaign(patient)
    response = patient_client.post(f"/c/{campaign.id}/payee", follow_redirects=True, data={
        "kind": "hospital", "account_name": "北京儿童医院", "bank_name": "工商银行北京分行",
        "account_number": "6222 0202 0000 1234 567"})
    assert "收款人已保存" in body(response)
    payee = services.payee_of(campaign.id)
    assert payee.account_last4 == "4567" and payee.status == IdentityStatus.pending
    raw = db.session.execute(text("SELECT account_number_enc FROM campaign_payees")).scalar()
    assert "6222" not in raw
    reviewer_page = body(app.test_client(user=staff).get(f"/staff/campaigns/{campaign.id}"))
    assert "**** **** 4567" in reviewer_page and "6222020200001234567" not in reviewer_page
    finance_user = StaffFactory(role=StaffRole.finance)
    finance = app.test_client(user=finance_user)
    assert "6222020200001234567" in body(finance.get(f"/staff/campaigns/{campaign.id}"))
    finance.post(f"/staff/campaigns/{campaign.id}/payee", data={"decision": "ok"})
    assert services.verified_payee(campaign.id) is not None
    try:
        decisions.verify_payee(campaign.id, staff, True)
    except ReviewError as error:
        assert "财务" in error.message
    services.submit_for_review(campaign, patient)
    for document in services.current_documents(campaign.id):
        decisions.decide_document(document.id, staff, True)
    decisions.verify_identity(campaign.id, staff, True)
    decisions.approve_review(campaign.id, staff)
    assert "收款账户已核实" in body(client.get(f"/c/{campaign.id}"))
