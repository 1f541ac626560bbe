"""The funnel: a scripted scenario whose figures are counted by hand, the hooks, the dashboard
(pygal SVG, no script) and the CSV export."""
import csv
import io
import re
from datetime import timedelta

import pytest
from flask import render_template_string
from sqlalchemy import func, select

from app.extensions import db
from app.mutual_aid import funnel
from app.mutual_aid.models import FunnelEvent, Membership
from app.sharing import services as sharing
from app.sharing.models import ShareChannel, ShareLink
from tests.clock import days_ahead, travel_to
from tests.factories import CampaignFactory, UserFactory
from tests.mutual_aid.conftest import id_number

V1, V2, V3, V4 = ("a" * 32, "b" * 32, "c" * 32, "d" * 32)


def share_link(campaign, sharer):
    link = ShareLink(token=sharing.new_token(), campaign_id=campaign.id,
                     sharer_key=f"u:{sharer.id}", sharer_user_id=sharer.id)
    db.session.add(link)
    db.session.commit()
    return link


@pytest.fixture()
def days():
    """The scenario's two (China) days: the day before yesterday and yesterday."""
    return days_ahead(-2), days_ahead(-1)


@pytest.fixture()
def scenario(live_campaign, patient, days):
    other = CampaignFactory(organizer=patient)
    u1, u2 = UserFactory(), UserFactory()
    link = share_link(live_campaign, patient)
    step = funnel.record_step
    # Day 1. v1 arrives through Moments, looks twice, signs in as u2, donates, does not join.
    with travel_to(days[0]):
        sharing.record_visit(link.token, ShareChannel.moments, None, V1)
        step("campaign_view", live_campaign.id, visitor_id=V1)
        step("campaign_view", live_campaign.id, visitor_id=V1)
        sharing.link_visitor(u2.id, V1)
        step("donate_started", live_campaign.id, user_id=u2.id, visitor_id=V1)
        step("donation_paid", live_campaign.id, user_id=u2.id)      # from the notify callback
        step("invitation_shown", live_campaign.id, user_id=u2.id, visitor_id=V1)
        step("invitation_clicked", live_campaign.id, user_id=u2.id, visitor_id=V1)
        # v2 comes straight to the page and leaves.
        step("campaign_view", live_campaign.id, visitor_id=V2)
        # u1 (signed in, cookie v3) arrives from a chat and goes all the way.
        sharing.record_visit(link.token, ShareChannel.chat, u1.id, V3)
        for name in funnel.STEPS:
            step(name, live_campaign.id, user_id=u1.id, visitor_id=V3)
    # Day 2. u1 looks again; v4 opens the other campaign directly.
    with travel_to(days[1]):
        step("campaign_view", live_campaign.id, user_id=u1.id, visitor_id=V3)
        step("campaign_view", other.id, visitor_id=V4)
    return live_campaign, other


def test_the_scripted_scenario_matches_the_hand_count(scenario, days):
    first, other = scenario
    day1, day2 = days
    assert db.session.scalar(select(func.count()).select_from(FunnelEvent)) == 16
    overall = funnel.counts()[None]
    assert overall == {"campaign_view": 4, "donate_started": 2, "donation_paid": 2,
                       "invitation_shown": 2, "invitation_clicked": 2, "join_started": 1,
                       "joined": 1}
    by_channel = funnel.counts(by="channel")
    assert by_channel["moments"] == {"campaign_view": 1, "donate_started": 1, "donation_paid": 1,
                                     "invitation_shown": 1, "invitation_clicked": 1,
                                     "join_started": 0, "joined": 0}
    assert by_channel["chat"] == dict.fromkeys(funnel.STEPS, 1)
    assert by_channel["direct"]["campaign_view"] == 2 and sum(by_channel["direct"].values()) == 2
    by_day = funnel.counts(by="day")
    assert by_day[day1]["campaign_view"] == 3 and by_day[day2]["campaign_view"] == 2
    by_campaign = funnel.counts(by="campaign")
    assert by_campaign[first.id]["campaign_view"] == 3
    assert by_campaign[other.id]["campaign_view"] == 1
    only_day2 = funnel.counts(funnel.Filters(since=day2))[None]
    assert only_day2["campaign_view"] == 2 and only_day2["donation_paid"] == 0
    figures = funnel.figures(overall)
    assert figures[1].from_previous == 0.5 and figures[-1].from_first == 0.25


def test_csv_export_and_dashboard(scenario, days, staff_client, donor_client):
    window = f"since={days[0] - timedelta(days=30)}&until={days[1] + timedelta(days=29)}"
    response = staff_client.get(f"/staff/mutual-aid/funnel.csv?by=channel&{window}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:8] == ["channel", *funnel.STEPS]
    table = {row[0]: row[1:8] for row in rows[1:]}
    assert table["chat"] == ["1"] * 7 and table["direct"][0] == "2"
    assert table["moments"][-1] == "0" and rows[1][-1] in ("", "0.0000", "1.0000")
    page = staff_client.get(f"/staff/mutual-aid/funnel?{window}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and html.count("<svg") == 3
    assert "kozea" not in html and "<script" not in html.split("<main", 1)[1]
    assert "加入成功" in html and "朋友圈" in html
    assert donor_client.get("/staff/mutual-aid/funnel").status_code == 403


def test_the_invitation_path_records_each_step_and_the_source(app, plan, live_campaign,
                                                               donor_client, donor):
    with app.test_request_context():
        partial = render_template_string('{% include "mutual_aid/_invitation.html" %}',
                                         campaign=live_campaign)
    assert "网络互助不是保险" in partial and f"/mutual-aid/invite/{live_campaign.id}" in partial
    response = donor_client.get(f"/mutual-aid/invite/{live_campaign.id}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/plans/{plan.slug}")
    page = donor_client.get(f"/mutual-aid/plans/{plan.slug}/join").get_data(as_text=True)
    assert "网络互助不是保险" in page and page.count('value="no"') == 4
    form = {"relation": "self", "real_name": "赵六", "id_number": id_number(), "accept_rules": "1",
            "accept_notice": "1"} | {f"q{i}": "no" for i in range(4)}
    response = donor_client.post(f"/mutual-aid/plans/{plan.slug}/join", data=form)
    assert response.status_code == 302
    membership = db.session.scalars(select(Membership)).one()
    assert membership.source_campaign_id == live_campaign.id
    steps = db.session.execute(select(FunnelEvent.step, FunnelEvent.campaign_id,
                                      FunnelEvent.user_id).order_by(FunnelEvent.id)).all()
    assert steps == [(s, live_campaign.id, donor.id)
                     for s in ("invitation_clicked", "join_started", "joined")]


def test_track_hook_counts_anonymous_visitors_once_a_cookie_is_minted(app, live_campaign, client):
    from app.mutual_aid.hooks import track

    with app.test_request_context(f"/c/{live_campaign.id}"):
        track("campaign_view", live_campaign.id)
        from flask import g

        minted = g.new_visitor_id
    event = db.session.scalars(select(FunnelEvent)).one()
    assert (event.visitor_id, event.user_id, event.channel) == (minted, None, "direct")
    assert re.fullmatch(r"[0-9a-f]{32}", minted)


def test_an_unknown_step_is_a_programming_error(db):
    with pytest.raises(ValueError):
        funnel.add_step("bought_insurance", None)


def test_a_paid_donation_is_a_funnel_step(live_campaign, donor, client, standin, run_jobs):
    from tests.payments.helpers import acknowledged, notice_for, post_notice, start

    payment = start(live_campaign, donor)
    assert acknowledged(post_notice(client, notice_for(payment)))
    run_jobs()  # the step is recorded by a job, off the notify request
    event = db.session.scalars(select(FunnelEvent)).one()
    assert (event.step, event.campaign_id, event.user_id) == ("donation_paid", live_campaign.id,
                                                              donor.id)
