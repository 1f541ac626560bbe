"""Every form gives the app's own Chinese message, never the browser's built-in bubble: each form
that takes input says `novalidate` (WTForms renders `required` and `minlength` from validators,
so a template may not show them), no form without it carries `required`, `min=`, `max=` or
`pattern=`, and the server answers an empty form with a Chinese message and changes nothing."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S | re.I)
CONTROL = re.compile(r"<(?:input|select|textarea)\b([^>]*)>", re.I)
NOT_TYPED = re.compile(r'type="(?:hidden|submit|button)"')
BROWSER_CHECKS = re.compile(r"\brequired\b|\bmin=|\bmax=|\bpattern=|\bminlength=|type=\"number\"")
# Fields rendered by WTForms (the campaign macros or form.<field>(…)), which may add required.
WTFORMS_FIELD = re.compile(r"\{\{\s*(?:field|radios|file_field)\(|"
                           r"\{\{\s*[\w.]*form\.(?!csrf_token|hidden_tag)\w+\(")


def forms_of(text: str):
    for match in FORM.finditer(text):
        line = text[:match.start()].count("\n") + 1
        yield line, match.group(1), match.group(2)


def takes_input(body: str) -> bool:
    controls = [attrs for attrs in CONTROL.findall(body) if not NOT_TYPED.search(attrs)]
    return bool(controls or WTFORMS_FIELD.search(body))


def every_form():
    for path in sorted(TEMPLATES.rglob("*.html")):
        for line, head, body in forms_of(path.read_text(encoding="utf-8")):
            yield f"{path.relative_to(TEMPLATES)}:{line}", head, body


def test_there_are_forms_to_check():
    assert sum(1 for _ in every_form()) > 40


def test_no_browser_validation_on_forms_without_novalidate():
    offenders = [f"{where}: {attrs.strip()[:80]}" for where, head, body in every_form()
                 if "novalidate" not in head
                 for attrs in CONTROL.findall(body) if BROWSER_CHECKS.search(attrs)]
    assert offenders == []


def test_every_form_that_takes_input_says_novalidate():
    offenders = [where for where, head, body in every_form()
                 if "novalidate" not in head and takes_input(body)]
    assert offenders == []


def test_no_number_inputs_anywhere():
    # type=number shows 请填写数字-style bubbles and spinners; amounts and ids are text with
    # inputmode, parsed by the server.
    offenders = [str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("*.html")
                 if 'type="number"' in p.read_text(encoding="utf-8")]
    assert offenders == []


def rendered_forms(html: str) -> list[tuple[str, str]]:
    return [(head, body) for _, head, body in forms_of(html)]


def test_rendered_campaign_pages_carry_novalidate(db, app, patient_client, donor_client,
                                                  live_campaign):
    pages = [patient_client.get("/campaigns/new"),
             patient_client.get(f"/c/{live_campaign.id}"),
             donor_client.get(f"/c/{live_campaign.id}")]
    for response in pages:
        assert response.status_code == 200
        for head, body in rendered_forms(response.get_data(as_text=True)):
            if takes_input(body) or BROWSER_CHECKS.search(body):
                assert "novalidate" in head, head


# --- the server's own messages for the forms that relied on `required` -------------------------

@pytest.fixture()
def plan(db):
    from app.mutual_aid import services

    return services.seed_demo_plan()


def join_form(plan, **overrides) -> dict:
    from app.core import idcard
    from tests.clock import years_ago

    data = {"relation": "self", "real_name": "张三丰",
            "id_number": idcard.make_number("110101", years_ago(36), 7),
            "accept_rules": "1", "accept_notice": "1"}
    data.update({f"q{i}": "no" for i in range(len(plan.health_questions))})
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def memberships() -> int:
    from app.extensions import db
    from app.mutual_aid.models import Membership

    return db.session.scalar(select(func.count()).select_from(Membership))


@pytest.mark.parametrize("overrides,message", [
    ({"accept_rules": None}, "请阅读并同意计划规则"),
    ({"accept_notice": None}, "网络互助不是保险"),
    ({"relation": ""}, "请选择与您的关系"),
    ({"real_name": ""}, "姓名"),
    ({"id_number": ""}, "身份证"),
    ({"q0": None}, "健康告知"),
], ids=["rules", "notice", "relation", "name", "id", "question"])
def test_the_join_form_answers_each_missing_field_in_chinese(db, plan, donor_client, overrides,
                                                             message):
    response = donor_client.post(f"/mutual-aid/plans/{plan.slug}/join",
                                 data=join_form(plan, **overrides))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert "novalidate" in page
    assert memberships() == 0


def test_the_empty_join_form_is_answered_in_chinese(db, plan, donor_client):
    response = donor_client.post(f"/mutual-aid/plans/{plan.slug}/join", data={})
    assert response.status_code == 422
    assert "请阅读并同意计划规则" in response.get_data(as_text=True)
    assert memberships() == 0


@pytest.mark.parametrize("data,message", [
    ({}, "请选择您与患者的关系"),
    ({"relation": "friend", "statement": ""}, "请写下您了解的情况"),
    ({"relation": "friend", "statement": "好"}, "证实内容需要 5 到 200 个字"),
])
def test_the_attest_form_answers_in_chinese(db, donor_client, live_campaign, data, message):
    from app.campaigns.trust import Attestation
    from app.extensions import db as _db

    response = donor_client.post(f"/c/{live_campaign.id}/attest", data=data,
                                 follow_redirects=True)
    assert response.status_code in (200, 422)
    assert message in response.get_data(as_text=True)
    assert _db.session.scalar(select(func.count()).select_from(Attestation)) == 0


def test_the_update_form_answers_in_chinese(db, patient_client, live_campaign):
    from app.campaigns.trust import CampaignUpdate
    from app.extensions import db as _db

    response = patient_client.post(f"/c/{live_campaign.id}/updates", data={"body": ""},
                                   follow_redirects=True)
    assert response.status_code in (200, 422)
    assert "请填写动态内容" in response.get_data(as_text=True)
    assert _db.session.scalar(select(func.count()).select_from(CampaignUpdate)) == 0


@pytest.mark.parametrize("action", ["freeze", "terminate"])
def test_a_staff_reason_left_empty_is_asked_for_in_chinese(db, app, live_campaign, action):
    from app.auth.models import StaffRole
    from tests.factories import StaffFactory

    client = app.test_client(user=StaffFactory(role=StaffRole.admin))
    response = client.post(f"/staff/campaigns/{live_campaign.id}/{action}", data={"reason": ""},
                           follow_redirects=True)
    assert response.status_code == 200
    assert "请填写原因" in response.get_data(as_text=True)
    db.session.refresh(live_campaign)
    assert live_campaign.status.value == "live"


@pytest.mark.parametrize("typed,message", [("1.5", "分期数请填写 1 到 60 的整数"),
                                           ("abc", "分期数请填写 1 到 60 的整数"),
                                           ("61", "分期数为 1 到 60 期")])
def test_the_pledge_form_answers_instalments_in_chinese(db, patient_client, live_campaign,
                                                        typed, message):
    from app.campaigns.services import end_campaign
    from app.pledges.models import Pledge
    from app.extensions import db as _db
    from tests.clock import days_ahead

    end_campaign(live_campaign, "筹款期限已到")
    page = patient_client.get(f"/c/{live_campaign.id}/pledge").get_data(as_text=True)
    assert 'type="number"' not in page
    response = patient_client.post(f"/c/{live_campaign.id}/pledge", data={
        "total": "100", "schedule": "monthly", "instalments": typed,
        "first_due": days_ahead(30).isoformat(), "destination": "donors", "words": ""})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page and "Not a valid" not in page
    assert _db.session.scalar(select(func.count()).select_from(Pledge)) == 0


def test_the_audit_logs_campaign_number_is_text_checked_by_the_server(db, app):
    from app.auth.models import StaffRole
    from tests.factories import StaffFactory

    client = app.test_client(user=StaffFactory(role=StaffRole.admin))
    response = client.get("/staff/audit?campaign_id=abc")
    assert response.status_code == 400
    assert "筹款编号有误" in response.get_data(as_text=True)


# --- a value no option offers gets a Chinese message, never WTForms' "Not a valid choice." ------

def _chinese_refusal(response, message: str) -> None:
    page = response.get_data(as_text=True)
    assert message in page
    assert "Not a valid" not in page


def test_an_unknown_relation_on_the_attest_form(db, donor_client, live_campaign):
    response = donor_client.post(f"/c/{live_campaign.id}/attest",
                                 data={"relation": "boss", "statement": "我认识患者，情况属实"},
                                 follow_redirects=True)
    _chinese_refusal(response, "请选择您与患者的关系")


@pytest.mark.parametrize("field,value,message", [("schedule", "weekly", "请选择还款方式"),
                                                 ("destination", "me", "请选择还款去向")])
def test_an_unknown_choice_on_the_pledge_form(db, patient_client, live_campaign, field, value,
                                              message):
    from app.campaigns.services import end_campaign
    from tests.clock import days_ahead

    end_campaign(live_campaign, "筹款期限已到")
    data = {"total": "100", "schedule": "monthly", "instalments": "12",
            "first_due": days_ahead(30).isoformat(), "destination": "donors", field: value}
    response = patient_client.post(f"/c/{live_campaign.id}/pledge", data=data)
    assert response.status_code == 422
    _chinese_refusal(response, message)


def test_an_unknown_document_kind(db, patient_client, draft_campaign):
    response = patient_client.post(f"/c/{draft_campaign.id}/documents",
                                   data={"kind": "raise_bills"}, follow_redirects=True)
    _chinese_refusal(response, "请选择材料类型")


def test_an_unknown_report_category(db, donor_client, live_campaign):
    response = donor_client.post(f"/c/{live_campaign.id}/report",
                                 data={"category": "boring", "details": "我觉得这个筹款的情况不太对"})
    _chinese_refusal(response, "请选择举报类型")


# --- every form field of the app has a Chinese message for every way it can be refused ----------

def _app_forms():
    import importlib
    import pkgutil

    import app as package
    from flask_wtf import FlaskForm

    for module in pkgutil.walk_packages(package.__path__, "app."):
        importlib.import_module(module.name)

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    return sorted({cls for cls in subclasses(FlaskForm) if cls.__module__.startswith("app.")},
                  key=lambda cls: f"{cls.__module__}.{cls.__name__}")


def _fields(form_class):
    for name in dir(form_class):
        unbound = getattr(form_class, name, None)
        if hasattr(unbound, "field_class"):
            validators = list(unbound.kwargs.get("validators") or [])
            if len(unbound.args) > 1:
                validators += list(unbound.args[1] or [])
            yield name, unbound, validators


def test_every_form_field_refuses_in_chinese(app):
    from wtforms import DateField, DecimalField, FloatField, IntegerField
    from wtforms.fields.choices import SelectFieldBase
    from wtforms.validators import DataRequired, InputRequired

    problems = []
    forms = _app_forms()
    assert len(forms) > 20
    for form_class in forms:
        for name, unbound, validators in _fields(form_class):
            where = f"{form_class.__module__}.{form_class.__name__}.{name}"
            kind = unbound.field_class
            for validator in validators:
                if hasattr(validator, "message") and validator.message is None:
                    problems.append(f"{where}: {type(validator).__name__} without a message")
            if issubclass(kind, SelectFieldBase) and unbound.kwargs.get("validate_choice", True):
                problems.append(f"{where}: WTForms' own choice check (English)")
            for numeric in (IntegerField, DecimalField, FloatField):
                if issubclass(kind, numeric) and kind.process_formdata is numeric.process_formdata:
                    problems.append(f"{where}: {numeric.__name__}'s English parse error")
            if issubclass(kind, DateField) and not any(
                    isinstance(v, (DataRequired, InputRequired)) for v in validators):
                problems.append(f"{where}: DateField's English parse error")
    assert problems == []
