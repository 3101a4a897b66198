"""``tierwise run``: grade with one or more schemes, record the runs, print their summaries.

The command only declares its options; :func:`run_schemes` does the work from one
:class:`RunRequest`, so the command stays a thin declaration over the run service.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from tierwise import i18n
from tierwise.cli.common import (
    EXIT_SKIPPED,
    console,
    err,
    open_project,
    parse_date,
    reported,
    speak,
)
from tierwise.cli.formats import day, indicator, num, tiers_of
from tierwise.cli.options import AsOfOpt, LangOpt, ProjectOpt
from tierwise.errors import SpecError
from tierwise.i18n import _, ngettext


@dataclass(frozen=True)
class RunRequest:
    """What ``tierwise run`` was asked to do, as typed on the command line."""

    schemes: list[str]
    project: Path
    as_of: str | None
    all_schemes: bool
    force: bool
    version: int | None
    drop_bad_rows: bool
    export: list[str] | None
    lang: str | None
    actor: str | None
    show_strategies: bool = False


# Typer makes one parameter of each argument and option: the command takes ten because
# ``tierwise run`` has ten (the scheme names and nine options), and they are its public interface.
def run(
    schemes: Annotated[list[str] | None, typer.Argument(help="schemes to run")] = None,
    project: ProjectOpt = Path("."),
    as_of: AsOfOpt = None,
    all_schemes: Annotated[bool, typer.Option("--all", help="run every scheme")] = False,
    force: Annotated[bool, typer.Option(help="run again a date that is already done")] = False,
    version: Annotated[int | None, typer.Option(
        help="grade with this version (one scheme); an inactive version makes an unofficial "
             "run that stays out of the history")] = None,
    drop_bad_rows: Annotated[bool, typer.Option(
        "--drop-bad-rows", help="grade without rows that fail a check (they are counted)")
    ] = False,
    export: Annotated[list[str] | None, typer.Option(help="also write csv and/or xlsx")] = None,
    lang: LangOpt = None,
    actor: Annotated[str | None, typer.Option(help="who runs it (default: TIERWISE_USER or "
                                                    "the OS user)")] = None,
    show_strategies: Annotated[bool, typer.Option(
        "--strategies", help="print each tier's strategy under the summary")] = False,
) -> None:
    """Grade every customer with SCHEMES (one data load for all), record the runs, summarise.

    Exit code 0 when done, 3 when every scheme was already done for the date (skipped), 1 when
    the run failed, 2 for a bad spec or usage.
    """
    run_schemes(RunRequest(list(schemes or []), project, as_of, all_schemes, force, version,
                           drop_bad_rows, export, lang, actor, show_strategies))


def run_schemes(request: RunRequest) -> None:
    """Run the schemes of ``request`` with a progress line, then print each outcome."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from tierwise.services.runs import run as run_service
    from tierwise.services.runs import runnable_schemes

    speak(request.lang)
    with reported():
        proj = open_project(request.project)
        names = runnable_schemes(proj) if request.all_schemes else request.schemes
        if not names:
            raise SpecError(_("name the scheme(s) to run, or pass --all; schemes: {schemes}")
                            .format(schemes=_(", ").join(proj.spec.schemes) or _("none")))
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                      console=err, transient=True) as bar:
            task = bar.add_task(_("starting"), total=None)
            outcomes = run_service(
                proj, names, as_of=parse_date(request.as_of), force=request.force,
                version=request.version, drop_bad_rows=request.drop_bad_rows,
                export=request.export, actor=request.actor,
                progress=lambda s: bar.update(task, description=s))
    done = [o for o in outcomes if o.status == "done"]
    if done and done[0].quality is not None:
        for line in done[0].quality.state.values():
            console.print(Text(line, style="dim"))
        for name, count in done[0].quality.dropped.items():
            console.print(Text(ngettext("dropped {count} bad row from {source}",
                                        "dropped {count} bad rows from {source}", count)
                               .format(count=num(count), source=name), style="yellow"))
    for outcome in outcomes:
        for note in outcome.notes:
            console.print(f"[yellow]{note}[/yellow]", highlight=False)
        if outcome.status == "skipped":
            continue
        spec = proj.scheme(outcome.scheme) if outcome.scheme in proj.spec.schemes else None
        print_summary(outcome, spec, lang=i18n.current(), official=outcome.run.official,
                      indicators=proj.spec.indicators)
        if request.show_strategies and spec is not None:
            print_strategies(spec)
        held = sum(c.held for c in outcome.counts)
        overridden = sum(c.overridden for c in outcome.counts)
        if held or overridden:
            console.print(_("held by the stability policy: {held}; overridden: {overridden}")
                          .format(held=num(held), overridden=num(overridden)))
        print_fitted(outcome)
        if outcome.folder:
            console.print(_("grades: {path}").format(path=outcome.folder / "grades.parquet"),
                          soft_wrap=True)
        for path in outcome.exports:
            console.print(_("export: {path}").format(path=path), soft_wrap=True)
    if not done:
        raise typer.Exit(EXIT_SKIPPED)


def print_summary(outcome: Any, spec: Any, *, lang: str, official: bool = True,
                  indicators: Mapping[str, Any] | None = None) -> None:
    """The tier summary of a recorded run, titled with its scheme, date, version and run id.

    ``indicators`` (the project's) name the value column by the value indicator's label.
    """
    from tierwise.cli.render import summary_table

    customers = outcome.run.customers or 0
    values = {"scheme": outcome.scheme, "method": spec.method if spec else "?",
              "as_of": day(outcome.as_of), "customers": num(customers),
              "version": outcome.version, "run": outcome.run.id}
    if official:
        title = ngettext("{scheme} ({method}) as of {as_of}: {customers} customer; version "
                         "{version}, run {run}",
                         "{scheme} ({method}) as of {as_of}: {customers} customers; version "
                         "{version}, run {run}", customers).format(**values)
    else:
        title = ngettext("{scheme} ({method}) as of {as_of}: {customers} customer; version "
                         "{version}, run {run}, unofficial",
                         "{scheme} ({method}) as of {as_of}: {customers} customers; version "
                         "{version}, run {run}, unofficial", customers).format(**values)
    value = spec.value if spec else None
    console.print(summary_table(title, outcome.tiers, lang=lang,
                                value=indicator(indicators or {}, value) if value else None))


def print_strategies(spec: Any) -> None:
    """What the business does for each tier of ``spec`` (``--strategies``), under its summary."""
    from tierwise.cli.render import strategies

    lines = strategies(tiers_of(spec), i18n.current())
    console.print(Text(_("Strategies:"), style="bold") if lines
                  else Text(_("No tier of this scheme has a strategy (`strategy:` in tierwise.yaml).")))
    for line in lines:
        console.print(Text("  ").append_text(line))


def print_fitted(outcome: Any) -> None:
    """What a run's method analysed or fitted (rule coverage, a model's estimates), if any.

    The rules are named by the graded version's tier labels in the reader's language, as the
    summary above names the tiers (the keys in English, which --tier and scripts use).
    """
    from tierwise.cli.render import analysis_table, model_table

    if outcome.analysis:
        lang = i18n.current()
        labels = {} if lang == "en" else {row.key: row.label(lang) for row in outcome.tiers}
        console.print(analysis_table(outcome.analysis, labels))
    if outcome.model:
        console.print(model_table(outcome.model))
