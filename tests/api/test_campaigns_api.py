"""The JSON API: shape, money in fen, ISO times, JSON errors, search, and the OpenAPI document."""
import re
from datetime import datetime

from app.api.openapi import PATHS, build_document
from tests.factories import CampaignFactory
from tests.factories_plugin import add_cover

REQUIRED = {"id", "title", "status", "target_fen", "raised_fen", "donation_count", "ends_at",
            "cover_url"}


def test_public_campaign(db, client, live_campaign):
    response = client.get(f"/api/v1/campaigns/{live_campaign.id}")
    assert response.status_code == 200 and response.mimetype == "application/json"
    data = response.get_json()
    assert REQUIRED <= data.keys()
    assert data["id"] == live_campaign.id and data["status"] == "live"
    assert data["target_fen"] == 300_000_00 and isinstance(data["target_fen"], int)
    assert data["raised_fen"] == 0 and data["donation_count"] == 0
    ends_at = datetime.fromisoformat(data["ends_at"])
    assert ends_at.tzinfo is not None
    assert data["cover_url"].endswith(f"/photos/{live_campaign.cover.storage_key}.jpg")
    assert data["patient_name"] == "王**"
    assert "王小明" not in response.get_data(as_text=True)
    assert data["days_left"] == 30 and data["accepts_donations"] is True


def test_non_public_and_missing_campaigns_are_json_404(db, client, draft_campaign, patient_client):
    for c, campaign_id in ((client, draft_campaign.id), (patient_client, draft_campaign.id),
                           (client, 99999)):
        response = c.get(f"/api/v1/campaigns/{campaign_id}")
        assert response.status_code == 404
        error = response.get_json()["error"]
        assert error["code"] == "campaign_not_found" and error["message"]


def test_unknown_api_path_is_json(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404 and set(response.get_json()["error"]) == {"code", "message"}


def test_list_search_and_pages(db, client, patient, live_campaign):
    CampaignFactory(organizer=patient, title="草稿不出现在列表", patient_name="乙")
    data = client.get("/api/v1/campaigns").get_json()
    assert [item["id"] for item in data["items"]] == [live_campaign.id]
    assert (data["page"], data["total"], data["pages"]) == (1, 1, 1)
    assert REQUIRED <= data["items"][0].keys()
    assert client.get("/api/v1/campaigns?q=北京儿童").get_json()["total"] == 1
    assert client.get("/api/v1/campaigns?q=上海").get_json()["total"] == 0
    assert client.get("/api/v1/campaigns?page=2").get_json()["items"] == []


def test_bad_parameters_are_400(client, db):
    for query in ("page=0", "page=x", "per_page=500", "page=-1"):
        response = client.get(f"/api/v1/campaigns?{query}")
        assert response.status_code == 400, query
        assert response.get_json()["error"]["code"] == "invalid_parameter"


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def test_openapi_document(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.get_json()
    assert doc["openapi"] == "3.1.0" and doc["info"]["title"]
    assert doc["servers"][0]["url"].endswith("/api/v1")
    assert {"/campaigns", "/campaigns/{campaign_id}", "/openapi.json"} <= doc["paths"].keys()
    campaign = doc["components"]["schemas"]["CampaignSummary"]
    assert REQUIRED <= set(campaign["required"])
    for ref in _refs(doc):
        name = ref.removeprefix("#/components/schemas/")
        assert name in doc["components"]["schemas"], ref
    for path, item in doc["paths"].items():
        for operation in item.values():
            assert operation["responses"], path


def test_openapi_is_extensible():
    PATHS["/things"] = {"get": {"responses": {"200": {"description": "ok"}}}}
    try:
        assert "/things" in build_document()["paths"]
    finally:
        del PATHS["/things"]
    assert "/things" not in build_document()["paths"]


def test_document_matches_the_api(db, client, patient, staff):
    """Every property the API returns is described in the schema."""
    from app.campaigns.services import approve_campaign, submit_campaign

    campaign = add_cover(CampaignFactory(organizer=patient), patient)
    submit_campaign(campaign, by_user=patient)
    approve_campaign(campaign, by_staff=staff)
    doc = client.get("/api/v1/openapi.json").get_json()
    schemas = doc["components"]["schemas"]
    described = set(schemas["CampaignSummary"]["properties"])
    for part in schemas["Campaign"]["allOf"]:
        described |= set(part.get("properties", {}))
    data = client.get(f"/api/v1/campaigns/{campaign.id}").get_json()
    assert set(data) <= described
    summary = client.get("/api/v1/campaigns").get_json()["items"][0]
    assert set(summary) <= set(schemas["CampaignSummary"]["properties"])


def test_every_api_route_is_documented(app):
    documented = {(path, method) for path, item in build_document()["paths"].items()
                  for method in item}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method.lower()) in documented, f"{method} {rule.rule} is not documented"


def test_payment_quote_matches_its_schema(client):
    schema = build_document()["components"]["schemas"]["PaymentQuote"]
    response = client.get("/api/v1/payments/quote", query_string={"amount_fen": 20000})
    assert response.status_code == 200
    data = response.get_json()
    assert set(schema["required"]) <= set(data) <= set(schema["properties"])
    assert all(isinstance(data[name], int) for name in data)
    assert data["service_fee_fen"] == 0
    assert data["net_fen"] == data["amount_fen"] - data["channel_fee_fen"]
    for bad in ("", "0", "-5", "1.5", str(10_000_000_00 + 1)):
        refused = client.get("/api/v1/payments/quote", query_string={"amount_fen": bad})
        assert refused.status_code == 400
        assert refused.get_json()["error"]["code"] == "amount_invalid"
