"""Every staff page has the console's layout: the wide column and the one staff tab bar (with
the page's tab current); the plan's pages add their own row below it."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.auth.models import StaffRole
from app.extensions import db
from app.mutual_aid.models import Claim
from tests.factories import StaffFactory
from tests.mutual_aid.conftest import announce, members, owe, plan  # noqa: F401 (fixture)
from tests.mutual_aid.test_claims import submit

NOT_PAGES = {"funnel.csv", "job.json", "/file", "standin-statement"}   # files and JSON
CURRENT = re.compile(r'<nav class="staff-nav".*?</nav>', re.S)


def _current_tab(html: str) -> str:
    nav = CURRENT.search(html)
    assert nav, "no staff tab bar"
    tabs = re.findall(r'aria-current="page">([^<]+)</a>', nav.group())
    assert len(tabs) == 1, tabs
    return tabs[0]


@pytest.fixture()
def admin_client(app, db):
    return app.test_client(user=StaffFactory(role=StaffRole.admin))


def test_every_staff_page_without_an_id_has_the_layout_and_one_current_tab(app, admin_client):
    pages = [rule.rule for rule in app.url_map.iter_rules()
             if rule.rule.startswith("/staff") and "GET" in rule.methods and not rule.arguments
             and not any(part in rule.rule for part in NOT_PAGES)]
    assert "/staff/mutual-aid/" in pages and "/staff/audit" in pages
    for url in pages:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        assert 'class="staff-wide' in html, url
        _current_tab(html)


def test_the_plans_pages_have_the_staff_tab_bar_and_their_own_row(app, plan, staff, run_jobs,  # noqa: F811
                                                                 admin_client):
    first = members(plan, 1)[0]
    submit(app, first)
    claim = db.session.scalar(select(Claim))
    owe(plan, 500_00, membership=first)
    members(plan, 2)
    round_ = announce(plan, run_jobs)
    rows = {
        "/staff/mutual-aid/": ("互助", "申请与分摊"),
        f"/staff/mutual-aid/claims/{claim.id}": ("互助", "申请与分摊"),
        f"/staff/mutual-aid/members/{first.id}": ("互助", "申请与分摊"),
        f"/staff/mutual-aid/rounds/{round_.id}": ("互助", "申请与分摊"),
        "/staff/mutual-aid/audit": ("互助", "操作记录"),
        "/staff/mutual-aid/payouts/": ("互助", "互助金打款"),
        "/staff/mutual-aid/funnel": ("转化漏斗", None),
    }
    for url, (tab, row) in rows.items():
        html = admin_client.get(url).get_data(as_text=True)
        assert _current_tab(html) == tab, url
        subnav = re.search(r'<nav class="staff-subnav".*?</nav>', html, re.S)
        if row is None:
            assert subnav is None, url
        else:
            assert re.search(rf'aria-current="page">{row}</a>', subnav.group()), url
    # the plan's 操作记录 reads money in yuan, as everywhere else in the console
    audit = admin_client.get("/staff/mutual-aid/audit").get_data(as_text=True)
    assert re.search(r"3 名会员，合计 ¥[\d,.]+", audit) and " 分" not in audit


def test_a_reviewer_is_not_offered_the_finance_row(app, plan, staff_client):  # noqa: F811
    html = staff_client.get("/staff/mutual-aid/").get_data(as_text=True)
    assert "申请与分摊" in html and "互助金打款" not in html


def test_the_funnels_charts_count_whole_people():
    from app.mutual_aid import charts

    for svg in (charts.funnel_bars({"campaign_view": 3, "donation_paid": 1}),
                charts.by_channel_bars({"chat": {"donation_paid": 1, "joined": 1}})):
        ticks = re.findall(r'<text[^>]*>([\d.]+)</text>', svg)
        assert ticks and all("." not in tick for tick in ticks), ticks
