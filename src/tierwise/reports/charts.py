"""Small SVG charts rendered on the server: horizontal bars and lines, no JavaScript.

Every text that reaches the SVG (titles, category names, labels) is XML-escaped, so a tier
label or scheme name can never inject markup into the page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
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


def lines(x_labels: Sequence[str], series: Mapping[str, Sequence[float]], *, title: str,
          width: int = 480, height: int = 220, fmt: Callable[[float], str] = _number) -> str:
    """A line chart: one line per series over the same x labels, with a legend.

    Args:
        x_labels: the points' labels, left to right (e.g. as-of dates).
        series: name -> one value per x label.
        title: the chart's accessible title.
        width: the SVG width in pixels.
        height: the SVG height in pixels.
        fmt: how the axis' top value is written.

    """
    left, right, top_pad, bottom = 50, 110, 10, 30
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    top = max((v for vs in series.values() for v in vs), default=0.0) or 1.0
    n = len(x_labels)

    def x(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top_pad + plot_h - v / top * plot_h

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
             f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
             f"<title>{_text(title)}</title>",
             f'<line x1="{left}" y1="{y(0):.1f}" x2="{left + plot_w}" y2="{y(0):.1f}" '
             'stroke="#888"/>',
             f'<text x="{left - 6}" y="{y(top) + 4:.1f}" text-anchor="end">'
             f"{_text(fmt(top))}</text>",
             f'<text x="{left - 6}" y="{y(0) + 4:.1f}" text-anchor="end">0</text>']
    for i, label in enumerate(x_labels):
        parts.append(f'<text x="{x(i):.1f}" y="{height - 10}" text-anchor="middle">'
                     f"{_text(label)}</text>")
    for k, (name, values) in enumerate(series.items()):
        colour = PALETTE[k % len(PALETTE)]
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" '
                     f'points="{points}"/>')
        parts += [f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3" fill="{colour}"/>'
                  for i, v in enumerate(values)]
        ly = top_pad + 14 + k * 18
        parts += [f'<rect x="{width - right + 10}" y="{ly - 9}" width="10" height="10" '
                  f'fill="{colour}"/>',
                  f'<text x="{width - right + 24}" y="{ly}">{_text(name)}</text>']
    parts.append("</svg>")
    return "".join(parts)
