"""Charts: axis labels never overlap, bars link to their customers, texts are escaped."""

from __future__ import annotations

import re
from datetime import date, timedelta
from itertools import pairwise

import pytest

from tierwise import i18n
from tierwise.reports import charts

TICK = re.compile(r'<text class="tick" x="([\d.]+)"[^>]*>([^<]*)</text>')
WIDTH = 640


def _month_ends(n: int, start: tuple[int, int]) -> list[date]:
    """``n`` month-end dates from the end of month ``start`` (year, month) on."""
    y, m = start
    out = []
    for _i in range(n):
        y, m = y + (m == 12), m % 12 + 1
        out.append(date(y, m, 1) - timedelta(days=1))
    return out


@pytest.mark.parametrize("lang", ["en", "zh-Hans", "zh-Hant"])
@pytest.mark.parametrize("start", [(2022, 1), (2026, 1)])
def test_axis_labels_never_overlap(lang: str, start: tuple[int, int]) -> None:
    with i18n.use(lang):
        for n in range(1, 61):
            days = _month_ends(n, start)
            labels = i18n.short_dates(days)
            svg = charts.lines(labels, {"gold": [1.0] * n}, title="t", width=WIDTH)
            drawn = [(float(x), text) for x, text in TICK.findall(svg)]
            assert drawn, n
            assert drawn[-1][1] == labels[-1]  # the latest run is always labelled
            spans = sorted((x - charts.text_width(t) / 2, x + charts.text_width(t) / 2)
                           for x, t in drawn)
            assert spans[0][0] >= 0 and spans[-1][1] <= WIDTH, (n, spans)
            for (_a, end), (begin, _b) in pairwise(spans):
                assert end <= begin, (lang, n, spans)


def test_short_dates_use_short_month_names_in_the_language() -> None:
    days = [date(2026, 5, 31), date(2026, 6, 30)]
    with i18n.use("en"):
        assert i18n.short_dates(days) == ["May 31", "Jun 30"]
        assert i18n.short_dates([date(2025, 12, 31), date(2026, 1, 31)]) == ["Dec 2025",
                                                                            "Jan 2026"]
    with i18n.use("zh-Hans"):
        assert i18n.short_dates(days) == ["5月31日", "6月30日"]
        assert i18n.short_dates([date(2025, 12, 31), date(2026, 1, 31)]) == ["2025年12月",
                                                                            "2026年1月"]


def test_tier_bars_link_each_tier_and_escape_texts() -> None:
    svg = charts.tier_bars(
        [charts.TierBar("<b>Gold</b>", "#0072B2", 0.2, "1 · 20%", 0.9, "900 · 90%",
                        href="/customers?scheme=s&tier=gold"),
         charts.TierBar("Bronze", "#E69F00", 0.8, "4 · 80%", 0.1, "100 · 10%")],
        title="mix", legend=("Customers", "Value"))
    assert '<a href="/customers?scheme=s&amp;tier=gold">' in svg
    assert "&lt;b&gt;Gold" in svg and "<b>" not in svg
    assert svg.count('class="bar value"') == 2 and svg.count("<a ") == 1
    assert 'fill="#0072B2"' in svg and "900 · 90%" in svg
    # Links inside: a named group (an image's parts cannot be interactive, axe nested-interactive).
    assert 'role="group" aria-label="mix"' in svg
    plain = charts.tier_bars([charts.TierBar("Bronze", "#E69F00", 1.0, "5 · 100%")],
                             title="mix", legend=("Customers", "Value"))
    assert 'role="img" aria-label="mix"' in plain and "<a " not in plain
