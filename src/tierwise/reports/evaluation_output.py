"""An evaluation as JSON, as a self-contained HTML page (inline SVG charts), and as PNG charts.

The HTML page loads nothing from anywhere: its charts are SVG written here, its style inline.
The PNG needs matplotlib (``pip install 'tierwise[ml]'``).
"""

from __future__ import annotations

import dataclasses
from html import escape
from pathlib import Path
from typing import Any

from tierwise import i18n
from tierwise.errors import TierwiseError
from tierwise.i18n import N_, _
from tierwise.reports import charts
from tierwise.reports.evaluation import BASELINE, Evaluation, SchemeEvaluation

#: How a scheme's customers were put in order for AUC, Gini and Spearman.
ORDERINGS = {"score": N_("score"), "tier rank": N_("tier rank")}
#: Fonts with Chinese glyphs, tried in turn after the default (matplotlib falls back per glyph).
CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK TC", "Source Han Sans SC", "PingFang SC",
             "Microsoft YaHei", "WenQuanYi Zen Hei", "Heiti TC", "SimHei")


def to_json(evaluation: Evaluation) -> dict[str, Any]:
    """Everything measured, as plain JSON types (dates as ISO text)."""
    out = dataclasses.asdict(evaluation)
    out["as_of"] = evaluation.as_of.isoformat()
    out["end"] = evaluation.end.isoformat()
    return out


def _all(evaluation: Evaluation) -> list[SchemeEvaluation]:
    return [*evaluation.schemes, evaluation.baseline]


def _pct(value: float | None) -> str:
    return "" if value is None else i18n.percent(value)


def dec(value: float | None, digits: int = 3) -> str:
    """A ratio or a coefficient with ``digits`` decimals; empty when there is none."""
    return "" if value is None else i18n.number(value, digits)


def scheme_name(name: str) -> str:
    """A scheme's name as people read it: the recency baseline in the current language."""
    return _(BASELINE) if name == BASELINE else name


def _ordered_by(value: str) -> str:
    return _(ORDERINGS[value]) if value in ORDERINGS else value


def headline(evaluation: Evaluation) -> str:
    """One sentence saying what was measured."""
    e = evaluation
    return _("Graded as of {as_of}; realised {outcome} in ({as_of}, {end}] ({horizon}) of "
             "{customers} customers. Future top: the {top} customers ({top_share}) with "
             "{outcome} >= {cut} (top {share}, ties included, zero never).").format(
        as_of=e.as_of.isoformat(), outcome=e.outcome, end=e.end.isoformat(), horizon=e.horizon,
        customers=i18n.number(e.customers), top=i18n.number(e.future_top),
        top_share=i18n.percent(e.future_top / max(1, e.customers)),
        cut=i18n.number(e.cut, 2), share=i18n.percent(e.top_share, 0))


def _comparison(evaluation: Evaluation) -> str:
    """The table comparing the schemes, header row first."""
    heads = (_("scheme"), _("top tier"), _("customers"), _("precision"), _("recall"), _("AUC"),
             _("Gini"), _("Spearman"), _("ordered by"))
    rows = "".join(
        _line([(scheme_name(s.name), False), (s.top_tier, False),
               (i18n.number(s.top_tier_customers), True), (_pct(s.precision), True),
               (_pct(s.recall), True), (dec(s.auc), True), (dec(s.gini), True),
               (dec(s.spearman), True), (_ordered_by(s.ordered_by), False)])
        for s in _all(evaluation))
    return _row("th", heads) + rows


def _row(cell: str, texts: tuple[str, ...]) -> str:
    return "<tr>" + "".join(f"<{cell}>{escape(t)}</{cell}>" for t in texts) + "</tr>"


def _line(cells: list[tuple[str, bool]]) -> str:
    """A table row of ``(text, is_number)`` cells; numbers align right."""
    return "<tr>" + "".join(f"<td class=n>{escape(text)}</td>" if number
                            else f"<td>{escape(text)}</td>" for text, number in cells) + "</tr>"


def _para(text: str) -> str:
    return f"<p>{escape(text)}</p>"


def _heading(level: int, text: str) -> str:
    return f"<h{level}>{escape(text)}</h{level}>"


def _gains_svg(evaluation: Evaluation) -> str:
    curves = {scheme_name(s.name): [y for _x, y in s.gains] for s in _all(evaluation) if s.gains}
    if not curves:
        return _para(_("No realised value in the horizon: no gains curve."))
    n = len(next(iter(curves.values())))
    curves[_("random")] = [i / (n - 1) for i in range(n)]
    labels = [i18n.percent(x, 0) if i % 4 == 0 else "" for i, (x, _y) in
              enumerate(next(s.gains for s in _all(evaluation) if s.gains))]
    return charts.lines(labels, curves, title=_("Cumulative gains"), width=640, height=300,
                        fmt=lambda v: i18n.percent(v, 0))


def _scheme_section(s: SchemeEvaluation) -> str:
    heads = (_("tier"), _("customers"), _("share"), _("realised value"), _("value share"),
             _("mean"), _("lift"), _("future top"))
    tiers = "".join(
        _line([(t.tier, False), (i18n.number(t.customers), True), (_pct(t.share), True),
               (i18n.number(t.value, 2), True), (_pct(t.value_share), True),
               (i18n.number(t.mean, 2), True), (dec(t.lift, 2), True), (_pct(t.top_share), True)])
        for t in s.tiers)
    lift = charts.bars([(t.tier, t.lift or 0.0) for t in s.tiers],
                       title=_("Lift per tier: {scheme}").format(scheme=scheme_name(s.name)),
                       width=560, fmt=lambda v: i18n.number(v, 2))
    calibration = ""
    if s.calibration:
        calibration = (
            _heading(3, _("Calibration")) + "<table>"
            + _row("th", (_("decile"), _("customers"), _("mean predicted"), _("mean realised")))
            + "".join(_line([(str(b.bin), True), (i18n.number(b.customers), True),
                             (i18n.number(b.predicted, 2), True),
                             (i18n.number(b.realised, 2), True)]) for b in s.calibration)
            + "</table>")
    return (_heading(2, scheme_name(s.name)) + "<table>" + _row("th", heads) + tiers
            + "</table>" + lift + calibration)


def to_html(evaluation: Evaluation) -> str:
    """A page with the comparison table, gains and lift charts and each scheme's tiers."""
    sections = "".join(_scheme_section(s) for s in _all(evaluation))
    title = _("Evaluation: {schemes}").format(
        schemes=_(", ").join(s.name for s in evaluation.schemes))
    legend = _("Precision: share of the top tier in the future top. Recall: share of the future "
               "top in the top tier. AUC and Gini: how well the ordering (score, else tier rank) "
               "ranks the future top first. Spearman: rank correlation with realised value.")
    page_title = _("tierwise evaluation")
    return (
        f"<!doctype html><html lang={i18n.current()}><meta charset=utf-8>"
        f"<title>{escape(page_title)}</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:1.5rem;max-width:70rem}"
        "table{border-collapse:collapse;margin:.5rem 0 1.2rem}th,td{border:1px solid #ccc;"
        "padding:.25rem .5rem;text-align:left}td.n{text-align:right;font-variant-numeric:"
        "tabular-nums}svg text{font-size:12px}</style>"
        + _heading(1, title) + _para(headline(evaluation))
        + f"<table>{_comparison(evaluation)}</table>" + _para(legend)
        + _heading(2, _("Cumulative gains")) + _gains_svg(evaluation) + sections + "</html>")


def to_png(evaluation: Evaluation, path: Path) -> None:
    """Gains curves and the top tier's precision and recall, side by side, as a PNG."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise TierwiseError(_("PNG charts need matplotlib: pip install 'tierwise[ml]'")) from None
    schemes = _all(evaluation)
    with plt.rc_context({"font.family": _families(plt)}):
        fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
        for s in schemes:
            if s.gains:
                left.plot([x for x, _y in s.gains], [y for _x, y in s.gains], marker=".",
                          label=_("{scheme} (AUC {auc})").format(scheme=scheme_name(s.name),
                                                                 auc=dec(s.auc, 2)))
        left.plot([0, 1], [0, 1], color="grey", linestyle="--", label=_("random"))
        left.set(xlabel=_("share of customers, best first"),
                 ylabel=_("share of {outcome}").format(outcome=evaluation.outcome),
                 title=_("Cumulative gains"))
        left.legend(fontsize=8)
        names = [scheme_name(s.name) for s in schemes]
        xs = range(len(names))
        right.bar([x - 0.2 for x in xs], [s.precision or 0 for s in schemes], 0.4,
                  label=_("precision"))
        right.bar([x + 0.2 for x in xs], [s.recall or 0 for s in schemes], 0.4,
                  label=_("recall"))
        right.set_xticks(list(xs), names, rotation=20, ha="right", fontsize=8)
        right.set(ylim=(0, 1), title=_("Top tier vs future top"))
        right.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)


def _families(plt: Any) -> list[str]:
    """The default sans-serif font, then the installed fonts with Chinese glyphs.

    Matplotlib falls back glyph by glyph only along ``font.family``, and only to installed
    fonts; a CJK font that has no regular weight is said once at debug level, not per label.
    """
    import logging

    from matplotlib import font_manager

    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    installed = {f.name for f in font_manager.fontManager.ttflist}
    return [plt.rcParams["font.sans-serif"][0], *(f for f in CJK_FONTS if f in installed)]


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
