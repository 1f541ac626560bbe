"""Private documents: the owner and staff only, never cached; everyone else gets 404."""
from app.auth.models import StaffRole
from tests.factories import StaffFactory, UserFactory
from tests.review.helpers import add_documents


def test_document_urls_are_private(app, db, client, patient, patient_client, donor_client,
                                   staff_client, draft_campaign):
    document = add_documents(draft_campaign, patient)[0]
    url = f"/documents/{document.id}"
    owner = patient_client.get(url)
    assert owner.status_code == 200
    assert "no-store" in owner.headers["Cache-Control"]
    assert owner.headers["X-Content-Type-Options"] == "nosniff"
    assert staff_client.get(url).status_code == 200
    finance = app.test_client(user=StaffFactory(role=StaffRole.finance))
    assert finance.get(url).status_code == 200
    assert donor_client.get(url).status_code == 404
    assert client.get(url).status_code == 404
    assert client.get("/documents/99999").status_code == 404


def test_a_removed_document_is_gone(db, patient, patient_client, draft_campaign):
    document = add_documents(draft_campaign, patient)[0]
    response = patient_client.post(f"/c/{draft_campaign.id}/documents/{document.id}/remove",
                                   follow_redirects=True)
    assert "材料已删除" in response.get_data(as_text=True)
    assert patient_client.get(f"/documents/{document.id}").status_code == 404


def test_documents_page_is_the_organizers_own(db, patient_client, donor_client, staff_client,
                                              draft_campaign, client):
    url = f"/c/{draft_campaign.id}/documents"
    assert patient_client.get(url).status_code == 200
    assert donor_client.get(url).status_code == 404
    assert staff_client.get(url).status_code == 403
    assert client.get(url).status_code == 302
    other = UserFactory()
    assert donor_client.post(url, data={"kind": "diagnosis"}).status_code == 404
    assert other is not None


def test_staff_pages_redirect_the_public_and_refuse_the_wrong_role(app, db, client, patient_client,
                                                                   submitted_campaign):
    cid = submitted_campaign.id
    for url in ["/staff/", f"/staff/campaigns/{cid}", "/staff/reports", "/staff/audit",
                "/staff/accounts"]:
        response = client.get(url)
        assert response.status_code == 302 and "/auth/staff/login" in response.headers["Location"]
        assert patient_client.get(url).status_code == 403
    finance = app.test_client(user=StaffFactory(role=StaffRole.finance))
    reviewer = app.test_client(user=StaffFactory(role=StaffRole.reviewer))
    for url in [f"/staff/campaigns/{cid}/approve", f"/staff/campaigns/{cid}/reject",
                f"/staff/campaigns/{cid}/identity", f"/staff/campaigns/{cid}/freeze",
                f"/staff/campaigns/{cid}/documents/1", "/staff/reports/1/dismiss"]:
        assert finance.post(url).status_code == 403, url
    assert finance.get("/staff/reports").status_code == 403
    for url in [f"/staff/campaigns/{cid}/payee", f"/staff/campaigns/{cid}/terminate",
                "/staff/accounts", "/staff/accounts/1/role", "/staff/reports/1/terminate"]:
        assert reviewer.post(url).status_code == 403, url
    assert reviewer.get("/staff/accounts").status_code == 403
    assert finance.get("/staff/").status_code == 200
    assert finance.get(f"/staff/campaigns/{cid}").status_code == 200
