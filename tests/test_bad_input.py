"""Input an attacker would try never gets a 500: ids no column can hold, absurd page numbers,
tampered donate forms and fee quotes. On PostgreSQL these reached the database as
`integer out of range` / `bigint out of range` before they were bounded."""
import itertools
import re
import secrets

import pytest
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

from app.auth.models import StaffRole
from app.core.errors import InvalidParameter
from app.core.params import DB_ID_MAX, MAX_PAGE, IdConverter, id_arg, page_arg, page_arg_or_first
from tests.factories import StaffFactory

HUGE = "99999999999999999999"
OUT_OF_RANGE_IDS = (HUGE, str(2**31), "0", "9" * 5000)
PATHS = ("/c/{}", "/documents/{}", "/payout-files/{}", "/reports/evidence/{}",
         "/mutual-aid/claims/{}", "/mutual-aid/rounds/{}", "/donations/{}/thanks",
         "/c/{}/edit", "/api/v1/campaigns/{}", "/api/v1/campaigns/{}/donations")
PLACEHOLDER = re.compile(r"<([^>]+)>")


@pytest.mark.parametrize("bad_id", OUT_OF_RANGE_IDS[:2])
@pytest.mark.parametrize("path", PATHS)
def test_an_id_no_column_can_hold_is_a_404(donor_client, path, bad_id):
    response = donor_client.get(path.format(bad_id))
    assert response.status_code == 404
    if path.startswith("/api/v1"):
        assert set(response.get_json()["error"]) == {"code", "message"}


@given(st.integers(min_value=-10, max_value=10**12) | st.integers())
def test_the_id_converter_matches_exactly_the_ids_a_column_can_hold(number):
    matches = re.fullmatch(IdConverter.regex, str(number)) is not None
    assert matches == (1 <= number <= DB_ID_MAX)


def test_the_largest_id_still_reaches_the_view(donor_client):
    response = donor_client.get(f"/api/v1/campaigns/{DB_ID_MAX}")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "campaign_not_found"


def test_every_id_in_every_route_is_bounded(app):
    """No rule takes a plain <int:>, and no id rule matches an id past the integer column."""
    adapter = app.url_map.bind("localhost")
    id_rules = [rule for rule in app.url_map.iter_rules()
                if any(isinstance(c, IdConverter) for c in rule._converters.values())]
    for rule in app.url_map.iter_rules():
        assert not any(type(c) is IntegerConverter for c in rule._converters.values()), rule
    for rule, bad_id in itertools.product(id_rules, OUT_OF_RANGE_IDS):
        path = PLACEHOLDER.sub(lambda m: bad_id if m[1].startswith("id:") else "approve",
                               rule.rule)
        with pytest.raises(NotFound):
            adapter.match(path, method=sorted(rule.methods - {"HEAD", "OPTIONS"})[0])
    assert len(id_rules) > 60


# --- ids in query strings and forms ------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [("", None), ("  ", None), ("7", 7),
                                           (str(DB_ID_MAX), DB_ID_MAX)])
def test_id_arguments_in_range(raw, expected):
    assert id_arg(MultiDict({"c": raw}), "c") == expected


@pytest.mark.parametrize("raw", ["0", "-1", "x", "1.5", "1e3", "٣", str(2**31), HUGE, "9" * 5000])
def test_id_arguments_out_of_range_are_refused(raw):
    with pytest.raises(InvalidParameter) as refused:
        id_arg(MultiDict({"campaign": raw}), "campaign", "筹款编号")
    assert refused.value.code == 400 and refused.value.message == "筹款编号有误，请检查后重试"


@pytest.fixture()
def finance_client(app, db):
    return app.test_client(user=StaffFactory(role=StaffRole.finance))


@pytest.mark.parametrize("path", ["/staff/audit?campaign_id={}", "/staff/audit?staff_id={}",
                                  "/staff/mutual-aid/funnel?campaign={}",
                                  "/staff/payments/notices?before={}"])
def test_staff_filters_refuse_an_id_no_row_can_have(finance_client, path):
    response = finance_client.get(path.format(HUGE))
    assert response.status_code == 400
    assert "有误，请检查后重试" in response.get_data(as_text=True)


def test_the_ledger_page_refuses_a_cursor_no_row_can_have(client, live_campaign):
    response = client.get(f"/c/{live_campaign.id}/ledger?before={HUGE}")
    assert response.status_code == 400 and "翻页位置有误" in response.get_data(as_text=True)
    assert client.get(f"/c/{live_campaign.id}/ledger?before={DB_ID_MAX}").status_code == 200


@pytest.mark.parametrize("cursor", [f"1.{HUGE}", f"{HUGE}.1", "999999999999999999.1", "².1",
                                    "1.0"])
def test_the_donations_list_refuses_an_impossible_cursor(client, live_campaign, cursor):
    response = client.get(f"/api/v1/campaigns/{live_campaign.id}/donations",
                          query_string={"cursor": cursor})
    assert response.status_code == 400 and set(response.get_json()["error"]) == {"code",
                                                                                 "message"}


# --- page numbers ------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [("", 1), ("1", 1), (" 3 ", 3),
                                           (str(MAX_PAGE), MAX_PAGE)])
def test_page_numbers_in_range(raw, expected):
    assert page_arg(MultiDict({"page": raw})) == expected == page_arg_or_first(
        MultiDict({"page": raw}))


@pytest.mark.parametrize("raw", ["0", "-1", "x", "2.5", "٣", str(MAX_PAGE + 1), HUGE,
                                 "9" * 5000])
def test_impossible_page_numbers(raw):
    with pytest.raises(InvalidParameter) as refused:
        page_arg(MultiDict({"page": raw}))
    assert refused.value.message == "页码须为 1 至 10,000 的整数"
    assert page_arg_or_first(MultiDict({"page": raw})) == 1


@pytest.mark.parametrize("page", [HUGE, "0", "-1", "x", str(MAX_PAGE + 1)])
def test_the_api_refuses_an_impossible_page(client, db, page):
    response = client.get(f"/api/v1/campaigns?page={page}")
    assert response.status_code == 400
    assert response.get_json()["error"] == {"code": "invalid_parameter",
                                            "message": "页码须为 1 至 10,000 的整数"}


def test_the_api_answers_the_last_possible_page_empty(client, live_campaign):
    data = client.get(f"/api/v1/campaigns?page={MAX_PAGE}&per_page=50").get_json()
    assert (data["page"], data["items"], data["total"]) == (MAX_PAGE, [], 1)


@pytest.mark.parametrize("per_page", [HUGE, "0", "51", "x", "9" * 5000])
def test_the_api_refuses_an_impossible_page_size(client, db, per_page):
    response = client.get(f"/api/v1/campaigns?per_page={per_page}")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_parameter"


@pytest.mark.parametrize("path", ["/campaigns?page={}", "/staff/audit?page={}"])
def test_pages_people_follow_show_the_first_page_for_an_impossible_page(
        app, live_campaign, admin, path):
    response = app.test_client(user=admin).get(path.format(HUGE))
    assert response.status_code == 200


# --- the donate form and the fee quote ---------------------------------------------------------

@pytest.mark.parametrize("form, message", [
    (dict(preset="-10", amount=""), "请填写正确的金额"),
    (dict(preset="-1e3", amount=""), "请填写正确的金额"),
    (dict(preset=HUGE, amount=""), "单笔捐款金额为 1 元至 50,000 元"),
    (dict(preset="0.5"), "单笔捐款金额为 1 元至 50,000 元"),
    (dict(preset="20", amount="-3"), "请填写正确的金额"),
])
def test_a_tampered_preset_shows_the_form_again(donor_client, live_campaign, form, message):
    response = donor_client.post(f"/c/{live_campaign.id}/donate",
                                 data={"checkout_key": secrets.token_hex(16)} | form)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and "data-donate-form" in html
    assert "<strong data-fee-amount>按金额计</strong>" in html


def test_a_refused_form_quotes_the_fee_of_what_it_would_have_paid(donor_client, live_campaign):
    response = donor_client.post(f"/c/{live_campaign.id}/donate",
                                 data={"preset": "50", "checkout_key": "short"})
    assert response.status_code == 422
    assert "<strong data-fee-amount>¥0.30</strong>" in response.get_data(as_text=True)


@pytest.mark.parametrize("amount", ["-1", "0", "-0", HUGE, "1000000001", "abc", "1e3", "1.5",
                                    "²", "１２", "9" * 5000, ""])
def test_the_fee_quote_refuses_what_is_not_an_amount(client, amount):
    response = client.get("/api/v1/payments/quote", query_string={"amount_fen": amount})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "amount_invalid"


# --- text PostgreSQL cannot store --------------------------------------------------------------

@pytest.mark.parametrize("url", ["/api/v1/payments/a%00b", "/api/v1/campaigns?q=a%00b",
                                 "/api/v1/campaigns?a%00=1", "/pay/a%00b", "/campaigns?q=%00"])
def test_a_nul_character_is_refused(donor_client, db, url):
    response = donor_client.get(url)
    assert response.status_code == 400
    assert "提交的内容含有无效字符" in response.get_data(as_text=True)
    if url.startswith("/api/v1"):
        assert response.get_json()["error"]["code"] == "invalid_parameter"


def test_a_nul_character_in_a_form_is_refused(donor_client, live_campaign):
    response = donor_client.post(f"/c/{live_campaign.id}/donate",
                                 data={"preset": "20", "blessing": "加油\x00",
                                       "checkout_key": secrets.token_hex(16)})
    assert response.status_code == 400
    assert "提交的内容含有无效字符" in response.get_data(as_text=True)
