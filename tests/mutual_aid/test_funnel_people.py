"""The funnel counts people, each once, as far as they got: no step has more people than the one
before it, and the tables by campaign and by channel add up to the totals even though the join
steps carry no campaign or channel of their own."""
import re

from app.mutual_aid import charts, funnel
from tests.factories import UserFactory


def test_tables_agree_and_no_step_passes_the_one_before(db, live_campaign, staff_client):
    donor, joiner, shown_again = UserFactory(), UserFactory(), UserFactory()
    step = funnel.record_step
    for name in funnel.STEPS[:3]:
        step(name, live_campaign.id, "chat", donor.id)
    # Paid through Moments, then joined from the plan's own page: no campaign, no share channel.
    for name in funnel.STEPS[:3]:
        step(name, live_campaign.id, "moments", joiner.id)
    for name in funnel.STEPS[3:]:
        step(name, None, None, joiner.id)
    # One person shown the invitation four times, their page view lost: one person, every step
    # before the invitation included.
    for _ in range(4):
        step("invitation_shown", live_campaign.id, "chat", shown_again.id)

    overall = funnel.counts()[None]
    assert overall == {"campaign_view": 3, "donate_started": 3, "donation_paid": 3,
                       "invitation_shown": 2, "invitation_clicked": 1, "join_started": 1,
                       "joined": 1}
    figures = funnel.figures(overall)
    assert all(f.from_previous is None or f.from_previous <= 1 for f in figures)
    for by in ("campaign", "channel"):
        groups = funnel.counts(by=by)
        totals = {s: sum(row[s] for row in groups.values()) for s in funnel.STEPS}
        assert totals == overall, by
    assert funnel.counts(by="campaign")[live_campaign.id]["joined"] == 1
    assert funnel.counts(by="channel")["moments"]["joined"] == 1
    assert funnel.counts(funnel.Filters(campaign_id=live_campaign.id))[None] == overall

    html = staff_client.get("/staff/mutual-aid/funnel").get_data(as_text=True)
    campaign_table = html.split("按筹款", 1)[1]
    assert f"<td>#{live_campaign.id}</td>" in campaign_table and "合计" in campaign_table


def test_the_step_chart_leaves_room_for_its_chinese_labels():
    svg = charts.funnel_bars(dict.fromkeys(funnel.STEPS, 3))
    plot_left = int(re.search(r'translate\((\d+(?:\.\d+)?)', svg).group(1).split(".")[0])
    widest = max(len(label) for label in funnel.STEP_LABELS.values())
    # Right-aligned 5 px left of the plot, a Chinese character a full em (13 px) wide.
    assert plot_left - 5 >= widest * charts.STYLE.label_font_size
