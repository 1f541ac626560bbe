"""Property-based check of the whole JSON API from its own OpenAPI document: whatever the
parameters, valid or not, no /api/v1 operation answers 5xx. Schemathesis generates the requests
(data that fits the schema and data that does not) and sends them to the app in-process;
deterministic and bounded, so it is an ordinary part of the suite. Run it on PostgreSQL too:
that is where a value no column can hold used to surface as a 500."""
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from app.api.openapi import API_PREFIX
from tests.factories_plugin import add_cover

EXAMPLES_PER_OPERATION = 40


@pytest.fixture()
def api_schema(app, db, patient, staff, donor):
    """The document as the app serves it, with data behind it: a live campaign with a paid-for
    donation's payment, so some generated ids and trade numbers name real rows."""
    _live_campaign_with_a_payment(patient, staff, donor)
    schema = schemathesis.openapi.from_wsgi(f"{API_PREFIX}/openapi.json", app)
    # allow_x00: a NUL in a string reached PostgreSQL, which cannot store one, as a 500.
    schema.config.generation.update(modes=list(GenerationMode),
                                    max_examples=EXAMPLES_PER_OPERATION, deterministic=True,
                                    allow_x00=True)
    return schema


def _live_campaign_with_a_payment(patient, staff, donor) -> None:
    from app.campaigns.services import approve_campaign, submit_campaign
    from app.donations.services import start_donation
    from tests.factories import CampaignFactory

    campaign = add_cover(CampaignFactory(organizer=patient), patient)
    submit_campaign(campaign, by_user=patient)
    approve_campaign(campaign, by_staff=staff)
    start_donation(campaign_id=campaign.id, user=donor, amount_fen=20_00, blessing="加油",
                   anonymous=False, form_key="fuzz-checkout-key-0001", trade_type="NATIVE",
                   client_ip="127.0.0.1")


@pytest.fixture()
def signed_in(app, donor):
    """The API authenticates with the site's session cookie (GET /payments/{out_trade_no} is
    the payer's own): every generated request is sent signed in as a donor."""
    return app.test_client(user=donor)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_no_input_makes_the_api_answer_5xx(app, case, signed_in):
    # A fresh app context (so a fresh database session) per request, as a real server has:
    # one failed request must not leave an aborted transaction for the next ones.
    with app.app_context():
        case.call_and_validate(session=signed_in, checks=[not_a_server_error])
