"""Small SVG charts rendered on the server: horizontal bars and lines, no JavaScript.

Every text that reaches the SVG (titles, category names, labels) is XML-escaped, so a tier
label or scheme name can never inject markup into the page.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from html import escape

# A colour-blind-safe palette (Okabe & Ito, 2008), cycled per series.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
           "#000000")


def _text(value: object) -> str:
    return escape(str(value), quote=True)


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def bars(items: Sequence[tuple[str, float]], *, title: str, width: int = 480,
         fmt: Callable[[float], str] = _number) -> str:
    """A horizontal bar chart of ``(label, value)`` pairs, largest scale from the data.

    Args:
        items: the bars, top to bottom.
        title: the chart's accessible title.
        width: the SVG width in pixels.
        fmt: how a value is written at the end of its bar.

    """
    row, left, right = 24, 120, 70
    height = row * len(items) + 10
    top = max((v for _, v in items), default=0.0) or 1.0
    span = width - left - right
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
             f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
             f"<title>{_text(title)}</title>"]
    for i, (label, value) in enumerate(items):
        y = 5 + i * row
        w = max(0.0, value) / top * span
        colour = PALETTE[i % len(PALETTE)]
        parts += [
            f'<text x="{left - 6}" y="{y + 16}" text-anchor="end">{_text(label)}</text>',
            f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="{row - 6}" '
            f'fill="{colour}"/>',
            f'<text x="{left + w + 4:.1f}" y="{y + 16}">{_text(fmt(value))}</text>',
        ]
    parts.append("</svg>")
    return "".join(parts)


#: The font size of chart texts in SVG pixels (app.css sets the same for `svg.chart text`).
FONT = 12


def text_width(text: str, size: float = FONT) -> float:
    """A generous estimate of ``text``'s width in pixels at font ``size``.

    Wide (CJK, full-width) characters take about a whole em, Latin letters and digits about
    0.62 em in the sans-serif fonts browsers pick; an over-estimate only thins ticks further.
    """
    em = sum(1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.62 for ch in text)
    return em * size


def ticks(x_labels: Sequence[str], step: float, *, gap: float = 8.0) -> list[int]:
    """Which of evenly spaced labels (``step`` pixels apart) to draw so none overlap.

    Every ``k``-th label is drawn, counted back from the last (the latest run is always
    labelled), with ``k`` the smallest whole number that leaves ``gap`` pixels between the
    widest two neighbours.
    """
    n = len(x_labels)
    if n <= 1:
        return list(range(n))
    widest = max(text_width(label) for label in x_labels)
    every = max(1, math.ceil((widest + gap) / step)) if step > 0 else n
    return sorted(range(n - 1, -1, -every))


def lines(x_labels: Sequence[str], series: Mapping[str, Sequence[float]], *, title: str,
          width: int = 480, height: int = 220, fmt: Callable[[float], str] = _number,
          colours: Mapping[str, str] | None = None) -> str:
    """A line chart: one line per series over the same x labels, with a legend.

    The x labels are thinned so that no two overlap (:func:`ticks`); every point keeps a
    tooltip with its label and value.

    Args:
        x_labels: the points' labels, left to right (e.g. as-of dates).
        series: name -> one value per x label.
        title: the chart's accessible title.
        width: the SVG width in pixels.
        height: the SVG height in pixels.
        fmt: how the axis' top value and the tooltips write a value.
        colours: series name -> colour; series not named take the palette by position.

    """
    widest = max((text_width(label) for label in x_labels), default=0.0)
    # Room for half of the first and the last label beside the plot.
    left, right, top_pad, bottom = max(50, math.ceil(widest / 2) + 4), 130, 10, 30
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    top = max((v for vs in series.values() for v in vs), default=0.0) or 1.0
    n = len(x_labels)

    def x(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top_pad + plot_h - v / top * plot_h

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
             f'font-size="{FONT}" width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
             f"<title>{_text(title)}</title>",
             f'<line x1="{left}" y1="{y(0):.1f}" x2="{left + plot_w}" y2="{y(0):.1f}" '
             'stroke="#888"/>',
             f'<text x="{left - 6}" y="{y(top) + 4:.1f}" text-anchor="end">'
             f"{_text(fmt(top))}</text>",
             f'<text x="{left - 6}" y="{y(0) + 4:.1f}" text-anchor="end">0</text>']
    for i in ticks(x_labels, plot_w / (n - 1) if n > 1 else float(plot_w)):
        parts.append(f'<text class="tick" x="{x(i):.1f}" y="{height - 10}" '
                     f'font-size="{FONT}" text-anchor="middle">{_text(x_labels[i])}</text>')
    for k, (name, values) in enumerate(series.items()):
        colour = (colours or {}).get(name) or PALETTE[k % len(PALETTE)]
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" '
                     f'points="{points}"/>')
        parts += [f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3" fill="{colour}">'
                  f"<title>{_text(name)} · {_text(x_labels[i])}: {_text(fmt(v))}</title>"
                  "</circle>" for i, v in enumerate(values)]
        ly = top_pad + 14 + k * 18
        parts += [f'<rect x="{width - right + 10}" y="{ly - 9}" width="10" height="10" '
                  f'fill="{colour}"/>',
                  f'<text x="{width - right + 24}" y="{ly}">{_text(name)}</text>']
    parts.append("</svg>")
    return "".join(parts)


@dataclass(frozen=True)
class TierBar:
    """One tier in the distribution chart: its share of customers and of value, and a link.

    Attributes:
        label: the tier's label.
        colour: the tier's colour (:mod:`tierwise.reports.colours`).
        share: its share of the customers (0..1).
        share_text: what is written at the end of the customers' bar.
        value_share: its share of the value (0..1); None when nothing is valued.
        value_text: what is written at the end of the value's bar.
        href: where a click on the tier leads (its customers), or None.

    """

    label: str
    colour: str
    share: float
    share_text: str
    value_share: float | None = None
    value_text: str = ""
    href: str | None = None


def tier_bars(rows: Sequence[TierBar], *, title: str, legend: tuple[str, str],
              width: int = 640) -> str:
    """Horizontal bars per tier: the share of customers and, beside it, the share of value.

    Both bars of a tier use its colour; the value's is hatched lighter, and the legend names
    them (``legend``: the customers' and the value's names), so colour is never the only
    signal. A tier with an ``href`` is a link around its label and bars.
    """
    valued = any(r.value_share is not None for r in rows)
    bar = 14
    row = bar * (2 if valued else 1) + 14
    left = min(220, max(80, math.ceil(max((text_width(r.label) for r in rows), default=0)) + 12))
    right = max(90, math.ceil(max((text_width(t) for r in rows
                                   for t in (r.share_text, r.value_text)), default=0)) + 10)
    span = width - left - right
    top = max([r.share for r in rows] + [r.value_share or 0.0 for r in rows]) or 1.0
    height = 24 + row * len(rows)
    # An image has no interactive parts: with links inside, the chart is a group of them.
    role = "group" if any(r.href for r in rows) else "img"
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="{role}" '
             f'aria-label="{_text(title)}" font-size="{FONT}" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}">',
             f"<title>{_text(title)}</title>",
             '<defs><pattern id="tw-hatch" width="4" height="4" patternUnits="userSpaceOnUse">'
             '<path d="M0,4 L4,0" stroke="#fff" stroke-width="1.2"/></pattern></defs>',
             f'<rect x="{left}" y="4" width="10" height="10" fill="#555"/>'
             f'<text x="{left + 14}" y="13" font-size="{FONT}">{_text(legend[0])}</text>']
    if valued:
        parts.append(f'<rect x="{left + 140}" y="4" width="10" height="10" fill="#555" '
                     'opacity="0.55"/>'
                     f'<text x="{left + 154}" y="13" font-size="{FONT}">{_text(legend[1])}</text>')
    for i, r in enumerate(rows):
        y = 24 + i * row
        w = max(0.0, r.share) / top * span
        group = [f"<title>{_text(r.label)}: {_text(r.share_text)}"
                 + (f" · {_text(r.value_text)}" if r.value_share is not None else "")
                 + "</title>",
                 # The whole row takes the click, not only the painted bars and texts.
                 f'<rect x="0" y="{y - 4}" width="{width}" height="{row}" fill="transparent"/>',
                 f'<text x="{left - 6}" y="{y + bar - 3}" text-anchor="end">{_text(r.label)}</text>',
                 f'<rect class="bar" x="{left}" y="{y}" width="{w:.1f}" height="{bar}" '
                 f'fill="{r.colour}"/>',
                 f'<text x="{left + w + 4:.1f}" y="{y + bar - 3}">{_text(r.share_text)}</text>']
        if r.value_share is not None:
            v = max(0.0, r.value_share) / top * span
            group += [f'<rect class="bar value" x="{left}" y="{y + bar}" width="{v:.1f}" '
                      f'height="{bar}" fill="{r.colour}" opacity="0.55"/>',
                      f'<rect x="{left}" y="{y + bar}" width="{v:.1f}" height="{bar}" '
                      'fill="url(#tw-hatch)"/>',
                      f'<text x="{left + v + 4:.1f}" y="{y + 2 * bar - 3}">'
                      f"{_text(r.value_text)}</text>"]
        body = "".join(group)
        parts.append(f'<a href="{_text(r.href)}">{body}</a>' if r.href else f"<g>{body}</g>")
    parts.append("</svg>")
    return "".join(parts)
