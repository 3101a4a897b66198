"""Rich renderings of service results for the terminal. Presentation only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from tierwise.reports.evaluation import Evaluation
    from tierwise.reports.summary import TierRow
    from tierwise.services.grading import Explanation
    from tierwise.services.records import RuleAnalysis
    from tierwise.sources.checks import QualityReport


def _num(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def summary_table(title: str, rows: list[TierRow], *, value: str | None, lang: str = "en") -> Table:
    """Customers, share and value per tier.

    The tier key and its label share a cell, so an 80-column terminal fits the table: the label
    wraps under the key rather than being cut. Numbers fold instead of losing digits.
    """
    table = Table(title=title, title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("tier", overflow="fold")
    # Two-line headers leave the width to the tier cell.
    numbers = ["customers", "share"] + ([f"{value}\nsum", "mean", "value\nshare"] if value else [])
    for col in numbers:
        table.add_column(col, justify="right", overflow="fold")
    for row in rows:
        label = (
            row.label_zh
            if lang.startswith("zh")
            else f"{row.label_en} / {row.label_zh}"
            if (row.label_zh != row.label_en)
            else row.label_en
        )
        cells = [f"{row.customers:,}", _pct(row.share)]
        if value:
            cells += [_num(row.value_sum), _num(row.value_mean), _pct(row.value_share)]
        # A status tier (rank 0) stands outside the value ladder.
        rank = str(row.rank) if row.rank else "-"
        table.add_row(rank, Text.assemble((row.key, "bold"), "  ", label), *cells)
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


def quality_table(report: QualityReport) -> Group:
    """A compact table of findings, then each finding's fix and sample rows as indented text.

    The messages and samples go below the table rather than in a column, which a narrow terminal
    would squeeze to a word per line. Everything from the data or the spec is plain ``Text``, so
    brackets in a value are shown, not read as markup.
    """
    table = Table(title="Data-quality report", title_justify="left")
    for col in ("#", "source", "check", "column", "rows affected"):
        table.add_column(col, justify="right" if col in ("#", "rows affected") else "left")
    details: list[RenderableType] = []
    for i, finding in enumerate(report.findings, 1):
        check = finding.check + ("" if finding.severity == "error" else " (info)")
        table.add_row(
            str(i),
            Text(finding.location),
            Text(check),
            Text(finding.column or ""),
            f"{finding.count:,}" if finding.count else "-",  # "-": about the whole source
        )
        rows = report.rows.get(finding.source)
        of = f" of {rows:,}" if rows is not None else ""
        counted = f" ({finding.count:,}{of} rows)" if finding.count else ""
        where = ", ".join(part for part in (finding.location, finding.column) if part)
        details.append(Text.assemble((f"{i}. {where}: {check}", "bold"), counted))
        details.append(_indented(finding.message, 3))
        details += [_indented(sample, 5) for sample in finding.samples]
    if not report.findings:
        for name, rows in report.rows.items():
            table.add_row("", Text(name), f"all checks passed ({rows:,} rows)", "", "0")
    return Group(table, *details)


def _indented(text: str, width: int) -> Padding:
    """Plain text indented by ``width``, wrapped lines too, without padding out the line."""
    return Padding(Text(text), (0, 0, 0, width), expand=False)


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
    place = f"rank {g['tier_rank']}" if g["tier_rank"] else "a status, off the value ladder"
    table.add_row("tier", Text(f"{g['tier']} ({label}), {place}"))
    if g.get("score") is not None:
        table.add_row("score", f"{g['score']:,.2f}")
    table.add_row("reasons", Text(str(g.get("reasons") or "-")))
    table.add_row("next tier", Text(str(g.get("gap") or "no tier above, or no numeric gap")))
    for name, value in exp.indicators.items():
        shown = f"{value:,.2f}" if isinstance(value, float) else str(value)
        table.add_row(f"  {name}", Text(shown))
    return table


def model_table(lines: list[tuple[str, str]]) -> Table:
    """What a learning method fitted (``RunOutcome.model``), one labelled line each."""
    table = Table(title="Fitted model", show_header=False)
    table.add_column("", style="bold", no_wrap=True)
    table.add_column("")
    for label, text in lines:
        table.add_row(label, text)
    return table


def evaluation_tables(result: Evaluation) -> list[Table]:
    """The comparison of the schemes, then each scheme's tiers against the realised outcome."""
    def pct(value: float | None) -> str:
        return "" if value is None else f"{value * 100:.1f}%"

    def dec(value: float | None, digits: int = 3) -> str:
        return "" if value is None else f"{value:.{digits}f}"

    schemes = [*result.schemes, result.baseline]
    table = Table(title="Schemes against the future (precision and recall of the top tier; "
                        "AUC, Gini and Spearman's rho of the ordering)")
    for name in ("scheme", "top tier", "in top", "prec.", "recall", "AUC", "Gini", "rho"):
        text = name in ("scheme", "top tier")
        table.add_column(name, justify="left" if text else "right", no_wrap=not text)
    for s in schemes:
        table.add_row(s.name, s.top_tier, f"{s.top_tier_customers:,}", pct(s.precision),
                      pct(s.recall), dec(s.auc), dec(s.gini), dec(s.spearman))
    out = [table]
    for s in schemes:
        tiers = Table(title=f"{s.name}: realised {result.outcome} per tier")
        for name in ("tier", "customers", "value share", "mean", "lift", "future top"):
            tiers.add_column(name, justify="left" if name == "tier" else "right")
        for t in s.tiers:
            tiers.add_row(t.tier, f"{t.customers:,}", pct(t.value_share), f"{t.mean:,.2f}",
                          dec(t.lift, 2), pct(t.top_share))
        out.append(tiers)
    return out


def listing_table(title: str, *columns: str) -> Table:
    """An empty table titled at the left with ``columns``, for a listing's rows."""
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column)
    return table
