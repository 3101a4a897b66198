"""Rich renderings of service results for the terminal. Presentation only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from tierwise.methods.rules import RuleAnalysis
    from tierwise.reports.summary import TierRow
    from tierwise.services.grading import Explanation
    from tierwise.sources.checks import QualityReport


def _num(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def summary_table(title: str, rows: list[TierRow], *, value: str | None, lang: str = "en") -> Table:
    """Customers, share and value per tier."""
    table = Table(title=title, title_justify="left")
    for col in ("#", "tier", "label", "customers", "share"):
        table.add_column(col, justify="right" if col in ("#", "customers", "share") else "left")
    if value:
        for col in (f"{value} sum", "mean", "value share"):
            table.add_column(col, justify="right")
    for row in rows:
        label = (
            row.label_zh
            if lang == "zh"
            else f"{row.label_en} / {row.label_zh}"
            if (row.label_zh != row.label_en)
            else row.label_en
        )
        cells = [str(row.rank), row.key, label, f"{row.customers:,}", _pct(row.share)]
        if value:
            cells += [_num(row.value_sum), _num(row.value_mean), _pct(row.value_share)]
        table.add_row(*cells)
    return table


def analysis_table(analysis: RuleAnalysis) -> Table:
    """What each rule catches, overlaps, gaps and dead rules."""
    table = Table(title="Rule-set analysis", title_justify="left")
    for col in ("rule", "condition holds", "graded (first match)", "note"):
        table.add_column(col, justify="left" if col in ("rule", "note") else "right")
    for key, wins in analysis.wins.items():
        matches = analysis.matches.get(key)
        note = []
        if key in analysis.unsatisfiable:
            note.append("can never match (contradictory condition)")
        elif key in analysis.never_match:
            note.append("matches nobody in this data")
        if matches is None:
            note.append(f"fallback: {analysis.fallback_only:,} customers match no rule (gap)")
        table.add_row(key, "-" if matches is None else f"{matches:,}", f"{wins:,}", "; ".join(note))
    for a, b, count in analysis.overlaps:
        table.add_row(f"{a} & {b}", f"{count:,}", "", f"overlap: resolved to {a} by rule order")
    return table


def quality_table(report: QualityReport) -> Table:
    """Counts per problem with sample rows."""
    table = Table(title="Data-quality report", title_justify="left", show_lines=True)
    for col in ("source", "rows", "check", "column", "count", "samples / fix"):
        table.add_column(col, justify="right" if col in ("rows", "count") else "left")
    for finding in report.findings:
        severity = "" if finding.severity == "error" else " (info)"
        table.add_row(
            finding.location,
            f"{report.rows.get(finding.source, 0):,}",
            finding.check + severity,
            finding.column or "",
            f"{finding.count:,}",
            Text("\n".join([*finding.samples, finding.message])),
        )
    if not report.findings:
        for name, rows in report.rows.items():
            table.add_row(name, f"{rows:,}", "all checks passed", "", "0", "")
    return table


def explanation_table(exp: Explanation) -> Table:
    """One customer's grade with reasons, gap and indicator values."""
    table = Table(
        title=f"{exp.customer_id} in {exp.scheme} as of {exp.as_of}",
        title_justify="left",
        show_header=False,
    )
    table.add_column("field", style="bold")
    table.add_column("value")
    g = exp.grade
    label = g.get("tier_label_en", "")
    if g.get("tier_label_zh") and g.get("tier_label_zh") != label:
        label += f" / {g['tier_label_zh']}"
    table.add_row("tier", f"{g['tier']} ({label}), rank {g['tier_rank']}")
    if g.get("score") is not None:
        table.add_row("score", f"{g['score']:,.2f}")
    table.add_row("reasons", Text(str(g.get("reasons") or "-")))
    table.add_row("next tier", Text(str(g.get("gap") or "no tier above, or no numeric gap")))
    for name, value in exp.indicators.items():
        shown = f"{value:,.2f}" if isinstance(value, float) else str(value)
        table.add_row(f"  {name}", shown)
    return table
