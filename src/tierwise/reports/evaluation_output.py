"""An evaluation as JSON, as a self-contained HTML page (inline SVG charts), and as PNG charts.

The HTML page loads nothing from anywhere: its charts are SVG written here, its style inline.
The PNG needs matplotlib (``pip install 'tierwise[ml]'``).
"""

from __future__ import annotations

import dataclasses
from html import escape
from pathlib import Path
from typing import Any

from tierwise.errors import TierwiseError
from tierwise.reports import charts
from tierwise.reports.evaluation import Evaluation, SchemeEvaluation


def to_json(evaluation: Evaluation) -> dict[str, Any]:
    """Everything measured, as plain JSON types (dates as ISO text)."""
    out = dataclasses.asdict(evaluation)
    out["as_of"] = evaluation.as_of.isoformat()
    out["end"] = evaluation.end.isoformat()
    return out


def _all(evaluation: Evaluation) -> list[SchemeEvaluation]:
    return [*evaluation.schemes, evaluation.baseline]


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


def _dec(value: float | None, digits: int = 3) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def headline(evaluation: Evaluation) -> str:
    """One sentence saying what was measured."""
    return (f"Graded as of {evaluation.as_of}; realised {evaluation.outcome} in "
            f"({evaluation.as_of}, {evaluation.end}] ({evaluation.horizon}) of "
            f"{evaluation.customers:,} customers. Future top: the "
            f"{evaluation.future_top:,} customers ({evaluation.future_top / max(1, evaluation.customers):.1%}) "
            f"with {evaluation.outcome} >= {evaluation.cut:,.2f} (top "
            f"{evaluation.top_share:.0%}, ties included, zero never).")


def to_html(evaluation: Evaluation) -> str:
    """A page with the comparison table, gains and lift charts and each scheme's tiers."""
    rows = "".join(
        f"<tr><th>{escape(s.name)}</th><td>{escape(s.top_tier)}</td>"
        f"<td class=n>{s.top_tier_customers:,}</td><td class=n>{_pct(s.precision)}</td>"
        f"<td class=n>{_pct(s.recall)}</td><td class=n>{_dec(s.auc)}</td>"
        f"<td class=n>{_dec(s.gini)}</td><td class=n>{_dec(s.spearman)}</td>"
        f"<td>{escape(s.ordered_by)}</td></tr>" for s in _all(evaluation))
    curves = {s.name: [y for _, y in s.gains] for s in _all(evaluation) if s.gains}
    if curves:
        n = len(next(iter(curves.values())))
        curves["random"] = [i / (n - 1) for i in range(n)]
        labels = [f"{round(x * 100)}%" if i % 4 == 0 else "" for i, (x, _) in
                  enumerate(next(s.gains for s in _all(evaluation) if s.gains))]
        gains_svg = charts.lines(labels, curves, title="Cumulative gains", width=640,
                                 height=300, fmt=lambda v: f"{v:.0%}")
    else:
        gains_svg = "<p>No realised value in the horizon: no gains curve.</p>"
    sections = []
    for s in _all(evaluation):
        tiers = "".join(
            f"<tr><td>{escape(t.tier)}</td><td class=n>{t.customers:,}</td>"
            f"<td class=n>{_pct(t.share)}</td><td class=n>{t.value:,.2f}</td>"
            f"<td class=n>{_pct(t.value_share)}</td><td class=n>{t.mean:,.2f}</td>"
            f"<td class=n>{_dec(t.lift, 2)}</td><td class=n>{_pct(t.top_share)}</td></tr>"
            for t in s.tiers)
        lift = charts.bars([(t.tier, t.lift or 0.0) for t in s.tiers],
                           title=f"Lift per tier: {s.name}", width=560,
                           fmt=lambda v: f"{v:.2f}")
        calibration = ""
        if s.calibration:
            calibration = "<h3>Calibration</h3><table><tr><th>decile</th><th>customers</th>" \
                "<th>mean predicted</th><th>mean realised</th></tr>" + "".join(
                    f"<tr><td class=n>{b.bin}</td><td class=n>{b.customers:,}</td>"
                    f"<td class=n>{b.predicted:,.2f}</td><td class=n>{b.realised:,.2f}</td></tr>"
                    for b in s.calibration) + "</table>"
        sections.append(
            f"<h2>{escape(s.name)}</h2><table><tr><th>tier</th><th>customers</th>"
            "<th>share</th><th>realised value</th><th>value share</th><th>mean</th>"
            f"<th>lift</th><th>future top</th></tr>{tiers}</table>{lift}{calibration}")
    return (
        "<!doctype html><html lang=en><meta charset=utf-8><title>tierwise evaluation</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:1.5rem;max-width:70rem}"
        "table{border-collapse:collapse;margin:.5rem 0 1.2rem}th,td{border:1px solid #ccc;"
        "padding:.25rem .5rem;text-align:left}td.n{text-align:right;font-variant-numeric:"
        "tabular-nums}svg text{font-size:12px}</style>"
        f"<h1>Evaluation: {escape(', '.join(s.name for s in evaluation.schemes))}</h1>"
        f"<p>{escape(headline(evaluation))}</p>"
        "<table><tr><th>scheme</th><th>top tier</th><th>customers</th><th>precision</th>"
        "<th>recall</th><th>AUC</th><th>Gini</th><th>Spearman</th><th>ordered by</th></tr>"
        f"{rows}</table><p>Precision: share of the top tier in the future top. Recall: share "
        "of the future top in the top tier. AUC and Gini: how well the ordering (score, else "
        "tier rank) ranks the future top first. Spearman: rank correlation with realised "
        f"value.</p><h2>Cumulative gains</h2>{gains_svg}{''.join(sections)}</html>")


def to_png(evaluation: Evaluation, path: Path) -> None:
    """Gains curves and the top tier's precision and recall, side by side, as a PNG."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise TierwiseError("PNG charts need matplotlib: pip install 'tierwise[ml]'") from None
    schemes = _all(evaluation)
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    for s in schemes:
        if s.gains:
            left.plot([x for x, _ in s.gains], [y for _, y in s.gains], marker=".",
                      label=f"{s.name} (AUC {_dec(s.auc, 2)})")
    left.plot([0, 1], [0, 1], color="grey", linestyle="--", label="random")
    left.set(xlabel="share of customers, best first", ylabel=f"share of {evaluation.outcome}",
             title="Cumulative gains")
    left.legend(fontsize=8)
    names = [s.name for s in schemes]
    xs = range(len(names))
    right.bar([x - 0.2 for x in xs], [s.precision or 0 for s in schemes], 0.4,
              label="precision")
    right.bar([x + 0.2 for x in xs], [s.recall or 0 for s in schemes], 0.4, label="recall")
    right.set_xticks(list(xs), names, rotation=20, ha="right", fontsize=8)
    right.set(ylim=(0, 1), title="Top tier vs future top")
    right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write(evaluation: Evaluation, folder: Path, *, png: bool = True) -> list[Path]:
    """Write ``evaluation.json``, ``evaluation.html`` and (with matplotlib) ``evaluation.png``."""
    import json

    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / "evaluation.json", folder / "evaluation.html"]
    written[0].write_text(json.dumps(to_json(evaluation), indent=2, ensure_ascii=False),
                          encoding="utf-8")
    written[1].write_text(to_html(evaluation), encoding="utf-8")
    if png:
        to_png(evaluation, folder / "evaluation.png")
        written.append(folder / "evaluation.png")
    return written
