"""Server-side SVG charts of the funnel, drawn by pygal (no JavaScript: pygal's script elements
are removed, so nothing is fetched from a CDN; the SVG is inlined in the staff page)."""
from __future__ import annotations

import re

import pygal
from pygal.style import Style

from app.mutual_aid.funnel import CHANNEL_LABELS, STEP_LABELS, STEPS

SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>|<script\b[^>]*/>", re.S)
STYLE = Style(
    background="white", plot_background="white", foreground="#1f2328",
    foreground_strong="#1f2328", foreground_subtle="#6b7078",
    colors=("#0e9f7e", "#f26b3a", "#3a7bd5", "#a05cc7", "#d6a419", "#6b7078", "#d64541"),
    font_family='"PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei", sans-serif',
    label_font_size=13, major_label_font_size=13, legend_font_size=13, title_font_size=15,
    value_font_size=13, tooltip_font_size=13)


def _config(**kwargs) -> dict:
    return {"style": STYLE, "js": [], "disable_xml_declaration": True, "width": 480,
            "height": 320, "explicit_size": False, "print_values": False,
            "legend_at_bottom": True, "truncate_label": -1, "truncate_legend": -1} | kwargs


def _cjk_shortfall(labels, font_size: int) -> int:
    """Pixels pygal's label estimate (0.6 em a character) falls short of the widest label: a
    Chinese character is a full em, so without this the step names are cut off at the edge."""
    def width(text: str) -> float:
        return sum(1.0 if ord(char) >= 0x2E80 else 0.6 for char in text) * font_size
    return int(max((width(t) - 0.6 * font_size * len(t) for t in labels), default=0)) + 8


def _people_ticks(values) -> list[int]:
    """Whole-number ticks for a count of people (pygal would write 0.1 … 0.9 of a person)."""
    top = max([int(v) for v in values if v] or [1])
    step = max(1, -(-top // 8))
    return list(range(0, top + step, step))


def _render(chart) -> str:
    """The SVG without pygal's script elements (an inline config blob even when js=[]): the
    charts are static, and the page runs no third-party code."""
    return SCRIPT.sub("", chart.render(is_unicode=True))


def funnel_bars(step_counts: dict[str, int], title: str = "各步骤人数") -> str:
    labels = [STEP_LABELS[s] for s in reversed(STEPS)]
    chart = pygal.HorizontalBar(**_config(
        title=title, show_legend=False, print_values=True,
        margin_left=_cjk_shortfall(labels, STYLE.label_font_size)))
    chart.x_labels = labels
    counts = [step_counts.get(s, 0) for s in reversed(STEPS)]
    chart.y_labels = _people_ticks(counts)
    chart.add("人数", counts)
    return _render(chart)


def by_day_lines(by_day: dict, steps=("campaign_view", "donation_paid", "joined")) -> str:
    days = sorted(by_day)
    chart = pygal.Line(**_config(title="按天", x_label_rotation=30, show_minor_x_labels=False))
    chart.x_labels = [d.strftime("%m-%d") for d in days]
    chart.x_labels_major = chart.x_labels[:: max(1, len(days) // 10)]
    chart.y_labels = _people_ticks(by_day[d][step] for d in days for step in steps)
    for step in steps:
        chart.add(STEP_LABELS[step], [by_day[d][step] for d in days])
    return _render(chart)


def by_channel_bars(by_channel: dict) -> str:
    channels = sorted(by_channel, key=str)
    chart = pygal.Bar(**_config(title="按转发渠道：捐款成功 → 加入成功"))
    chart.x_labels = [CHANNEL_LABELS.get(c, c) for c in channels]
    chart.y_labels = _people_ticks(by_channel[c][step] for c in channels
                                   for step in ("donation_paid", "joined"))
    chart.add(STEP_LABELS["donation_paid"], [by_channel[c]["donation_paid"] for c in channels])
    chart.add(STEP_LABELS["joined"], [by_channel[c]["joined"] for c in channels])
    return _render(chart)
