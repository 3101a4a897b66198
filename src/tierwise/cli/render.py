"""Rich renderings of service results for the terminal, in the current language. Presentation only."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from tierwise.cli.formats import day, num, pct
from tierwise.i18n import N_, _, ngettext

if TYPE_CHECKING:
    from collections.abc import Mapping

    from tierwise.reports.evaluation import Evaluation
    from tierwise.reports.summary import TierRow
    from tierwise.services.grading import Explanation
    from tierwise.services.recording import RunOutcome
    from tierwise.services.records import RuleAnalysis
    from tierwise.sources.checks import QualityReport
    from tierwise.spec.schemes import TierSpec

#: The data-quality checks by name; English shows the name a script or the docs use.
CHECKS = {"duplicate_id": N_("duplicate_id"), "future_event": N_("future_event"),
          "missing": N_("missing"), "negative": N_("negative"),
          "unknown_customer": N_("unknown_customer"), "unparseable": N_("unparseable"),
          "empty": N_("empty")}


def _check(name: str) -> str:
    known = CHECKS.get(name)
    return _(known) if known else name


def summary_table(title: str, rows: list[TierRow], *, value: str | None, lang: str = "en") -> Table:
    """Customers, share and value per tier.

    The tier key and its label share a cell, so an 80-column terminal fits the table: the label
    wraps under the key rather than being cut. Numbers fold instead of losing digits.
    """
    table = Table(title=title, title_justify="left")
    table.add_column("#", justify="right")
    table.add_column(_("tier"), overflow="fold")
    # Two-line headers leave the width to the tier cell.
    numbers = [_("customers"), _("share")]
    if value:
        numbers += [_("{value}\nsum").format(value=value), _("mean"), _("value\nshare")]
    for col in numbers:
        table.add_column(col, justify="right", overflow="fold")
    for row in rows:
        if lang.startswith("zh"):
            label = row.label(lang)
        elif row.label_zh != row.label_en:
            label = f"{row.label_en} / {row.label_zh}"
        else:
            label = row.label_en
        cells = [num(row.customers), pct(row.share)]
        if value:
            cells += [num(row.value_sum), num(row.value_mean), pct(row.value_share)]
        # A status tier (rank 0) stands outside the value ladder.
        rank = str(row.rank) if row.rank else "-"
        # A tier without a label is labelled by its key: shown once.
        named = ("  ", label) if label != row.key else ()
        table.add_row(rank, Text.assemble((row.key, "bold"), *named), *cells)
    return table


def strategies(tiers: list[TierSpec], lang: str) -> list[Text]:
    """Each tier's strategy (what the business does for it), one line per tier that has one."""
    lines = []
    for tier in tiers:
        strategy = tier.strategy_text(lang)
        if strategy:
            lines.append(Text(_("{tier}: {strategy}").format(tier=tier.label_text(lang),
                                                                strategy=strategy)))
    return lines


def analysis_table(analysis: RuleAnalysis, labels: Mapping[str, str] | None = None) -> Table:
    """What each rule catches, overlaps, gaps and dead rules.

    ``labels``: each tier's label in the reader's language, shown beside its key as in the tier
    summary, and naming the tiers of an overlap (empty in English: the keys).
    """
    names = labels or {}
    table = Table(title=_("Rule-set analysis"), title_justify="left")
    headers = (_("rule"), _("condition holds"), _("graded (first match)"), _("note"))
    for i, col in enumerate(headers):
        # Notes fold rather than end in "…": Chinese text has no spaces to wrap at.
        table.add_column(col, justify="left" if i in (0, 3) else "right",
                         overflow="fold" if i in (0, 3) else "ellipsis")
    for key, wins in analysis.wins.items():
        matches = analysis.matches.get(key)
        note = []
        if key in analysis.unsatisfiable:
            note.append(_("can never match (contradictory condition)"))
        elif key in analysis.never_match:
            note.append(_("matches nobody in this data"))
        if matches is None:
            note.append(ngettext("fallback: {n} customer matches no rule (gap)",
                                 "fallback: {n} customers match no rule (gap)",
                                 analysis.fallback_only).format(n=num(analysis.fallback_only)))
        label = names.get(key, key)
        rule = Text.assemble((key, "bold"), *(("  ", label) if label != key else ()))
        table.add_row(rule, "-" if matches is None else num(matches), num(wins),
                      _("; ").join(note))
    for a, b, count in analysis.overlaps:
        first, second = names.get(a, a), names.get(b, b)
        table.add_row(Text(_("{a} & {b}").format(a=first, b=second)), num(count), "",
                      _("overlap: resolved to {tier} by rule order").format(tier=first))
    return table


def quality_table(report: QualityReport) -> Group:
    """A compact table of findings, then each finding's fix and sample rows as indented text.

    The messages and samples go below the table rather than in a column, which a narrow terminal
    would squeeze to a word per line. Everything from the data or the spec is plain ``Text``, so
    brackets in a value are shown, not read as markup.
    """
    table = Table(title=_("Data-quality report"), title_justify="left")
    for i, col in enumerate((_("#"), _("source"), _("check"), _("column"), _("rows affected"))):
        table.add_column(col, justify="right" if i in (0, 4) else "left")
    details: list[RenderableType] = []
    for i, finding in enumerate(report.findings, 1):
        check = _check(finding.check)
        if finding.severity != "error":
            check = _("{check} (info)").format(check=check)
        table.add_row(
            str(i),
            Text(finding.location),
            Text(check),
            Text(finding.column or ""),
            num(finding.count) if finding.count else "-",  # "-": about the whole source
        )
        title = _("{n}. {where}: {check}").format(
            n=i, where=_where(finding.location, finding.column), check=check)
        details.append(Text.assemble((title, "bold"),
                                     _counted(finding.count, report.rows.get(finding.source))))
        details.append(_indented(finding.message, 3))
        details += [_indented(sample, 5) for sample in finding.samples]
    if not report.findings:
        for name, rows in report.rows.items():
            passed = ngettext("all checks passed ({rows} row)", "all checks passed ({rows} rows)",
                              rows).format(rows=num(rows))
            table.add_row("", Text(name), passed, "", "0")
    return Group(table, *details)


def _where(location: str, column: str | None) -> str:
    return _(", ").join(part for part in (location, column) if part)


def _counted(count: int, rows: int | None) -> str:
    """`` (12 of 300 rows)`` after a finding's title; empty when it is about the whole source."""
    if not count:
        return ""
    if rows is None:
        return " " + ngettext("({count} row)", "({count} rows)", count).format(count=num(count))
    return " " + ngettext("({count} of {rows} row)", "({count} of {rows} rows)", rows).format(
        count=num(count), rows=num(rows))


def _indented(text: str, width: int) -> Padding:
    """Plain text indented by ``width``, wrapped lines too, without padding out the line."""
    return Padding(Text(text), (0, 0, 0, width), expand=False)


def explanation_table(exp: Explanation, tier: TierSpec | None = None,
                      indicators: dict[str, str] | None = None, *, lang: str = "en") -> Table:
    """One customer's grade with reasons, gap, what the tier means and the indicator values.

    ``tier`` is the scheme's spec of the customer's tier (its label, description and strategy);
    ``indicators`` names each indicator as people read it (its label).
    """
    table = Table(
        title=_("{customer} in {scheme} as of {day}").format(
            customer=exp.customer_id, scheme=exp.scheme, day=day(exp.as_of)),
        title_justify="left",
        show_header=False,
    )
    table.add_column("field", style="bold")
    # Chinese has no spaces to wrap at: fold long texts (reasons, gaps) instead of cutting them.
    table.add_column("value", overflow="fold")
    g = exp.grade
    label = _grade_label(g, tier, lang)
    # A status (rank 0) stands outside the value ladder: it has no rank to show.
    shown = (_("{tier} ({label}), rank {rank}").format(tier=g["tier"], label=label,
                                                       rank=g["tier_rank"])
             if g["tier_rank"] else
             _("{tier} ({label}), a status outside the value ladder").format(tier=g["tier"],
                                                                            label=label))
    table.add_row(_("tier"), Text(shown))
    if tier is not None and tier.description_text(lang):
        table.add_row(_("what it means"), Text(str(tier.description_text(lang))))
    if tier is not None and tier.strategy_text(lang):
        table.add_row(_("strategy"), Text(str(tier.strategy_text(lang))))
    if g.get("score") is not None:
        table.add_row(_("score"), num(g["score"], 2))
    table.add_row(_("reasons"), Text(str(g.get("reasons") or "-")))
    table.add_row(_("next tier"), Text(str(g.get("gap") or _("no tier above, or no numeric gap"))))
    names = indicators or {}
    for name, value in exp.indicators.items():
        shown = num(value, 2) if isinstance(value, float) else str(value)
        table.add_row(f"  {names.get(name, name)}", Text(shown))
    return table


def _grade_label(grade: dict[str, Any], tier: TierSpec | None, lang: str) -> str:
    """The tier's label in ``lang``; in English the Chinese label beside it, as the run wrote."""
    if lang != "en":
        return tier.label_text(lang) if tier is not None else str(grade.get("tier_label_zh")
                                                                   or grade["tier"])
    label = str(grade.get("tier_label_en", ""))
    if grade.get("tier_label_zh") and grade.get("tier_label_zh") != label:
        label += f" / {grade['tier_label_zh']}"
    return label


def model_table(lines: list[tuple[str, str]]) -> Table:
    """What a learning method fitted (``RunOutcome.model``), one labelled line each."""
    table = Table(title=_("Fitted model"), show_header=False)
    table.add_column("", style="bold", no_wrap=True)
    table.add_column("")
    for label, text in lines:
        table.add_row(label, text)
    return table


def evaluation_tables(result: Evaluation) -> list[Table]:
    """The comparison of the schemes, then each scheme's tiers against the realised outcome."""
    from tierwise.reports.evaluation_output import dec, scheme_name

    schemes = [*result.schemes, result.baseline]
    table = Table(title=_("Schemes against the future (precision and recall of the top tier; "
                          "AUC, Gini and Spearman's rho of the ordering)"))
    names = (_("scheme"), _("top tier"), _("in top"), _("prec."), _("recall"), _("AUC"),
             _("Gini"), _("rho"))
    for i, name in enumerate(names):
        table.add_column(name, justify="left" if i < 2 else "right", no_wrap=i >= 2)
    for s in schemes:
        table.add_row(scheme_name(s.name), s.top_tier, num(s.top_tier_customers),
                      pct(s.precision, ""), pct(s.recall, ""), dec(s.auc), dec(s.gini),
                      dec(s.spearman))
    out = [table]
    for s in schemes:
        tiers = Table(title=_("{scheme}: realised {outcome} per tier").format(
            scheme=scheme_name(s.name), outcome=result.outcome))
        heads = (_("tier"), _("customers"), _("value share"), _("mean"), _("lift"),
                 _("future top"))
        for i, name in enumerate(heads):
            tiers.add_column(name, justify="left" if i == 0 else "right")
        for t in s.tiers:
            tiers.add_row(t.tier, num(t.customers), pct(t.value_share, ""), num(t.mean, 2),
                          dec(t.lift, 2), pct(t.top_share, ""))
        out.append(tiers)
    return out


def listing_table(title: str, *columns: str) -> Table:
    """An empty table titled at the left with ``columns``, for a listing's rows."""
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column)
    return table


def backfill_summary(outcomes: list[RunOutcome]) -> list[str]:
    """Per scheme, the dates graded and the dates skipped because a run had done them already.

    Counted per scheme and date, so a date one scheme graded is never reported as skipped
    because another scheme had done it.
    """
    lines = []
    for name in dict.fromkeys(o.scheme for o in outcomes):
        graded = [o for o in outcomes if o.scheme == name and o.status == "done"]
        skipped = [o for o in outcomes if o.scheme == name and o.status == "skipped"]
        if graded:
            days = [o.as_of.isoformat() for o in graded]
            lines.append(ngettext("{scheme}: {n} date graded: {dates}",
                                  "{scheme}: {n} dates graded: {dates}", len(graded)).format(
                scheme=name, n=len(graded),
                dates=_(", ").join(days) if len(days) <= 4 else _("{first} to {last}").format(
                    first=days[0], last=days[-1])))
        if skipped:
            runs = _(", ").join(_("{date} (run {id})").format(date=o.as_of.isoformat(), id=o.run.id)
                             for o in skipped)
            lines.append(ngettext(
                "{scheme}: {n} date skipped, already done: {runs}; --force runs it again",
                "{scheme}: {n} dates skipped, already done: {runs}; --force runs them again",
                len(skipped)).format(scheme=name, n=len(skipped), runs=runs))
    return lines
