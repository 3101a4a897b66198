"""The ``tierwise`` command line: a thin edge over the services.

Errors print as one red line (the traceback only with ``--debug``). Exit codes, for schedulers:
0 done, 1 failed (bad data, store or engine error), 2 bad usage or spec, 3 skipped (every scheme
named was already done for the date; ``--force`` runs it again).
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from tierwise.errors import DataError, SpecError, TierwiseError

app = typer.Typer(
    help="Customer tiering: grade, explain and report customer tiers.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console()
err = Console(stderr=True)
_debug = False

ProjectOpt = Annotated[Path, typer.Option("--project", "-p", help="project folder")]
AsOfOpt = Annotated[str | None, typer.Option("--as-of", help="as-of date, YYYY-MM-DD")]
LangOpt = Annotated[str, typer.Option("--lang", help="label language: en or zh")]


@app.callback()
def _root(debug: Annotated[bool, typer.Option("--debug", help="show tracebacks")] = False) -> None:
    global _debug
    _debug = debug


def _date(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise SpecError(f"--as-of {text!r} is not a date; write it as YYYY-MM-DD") from None


def _fail(exc: TierwiseError) -> None:
    if _debug:
        raise exc
    if isinstance(exc, DataError) and exc.report is not None:
        from tierwise.cli.render import quality_table

        err.print(quality_table(exc.report))  # type: ignore[arg-type]
    err.print(Text.assemble(("error: ", "red"), str(exc)), soft_wrap=True, highlight=False)
    raise typer.Exit(2 if isinstance(exc, SpecError) else 1)


@app.command()
def init(
    folder: Annotated[Path, typer.Argument(help="folder to create")] = Path("."),
    force: Annotated[bool, typer.Option(help="overwrite an existing tierwise.yaml")] = False,
) -> None:
    """Write a commented starter project with sample data."""
    from tierwise.services.starter import write_starter

    try:
        path = write_starter(folder, force=force)
    except TierwiseError as exc:
        _fail(exc)
    console.print(f"wrote {path} and sample data; next: [bold]tierwise run value -p {folder}[/]")


@app.command()
def validate(project: ProjectOpt = Path(".")) -> None:
    """Check tierwise.yaml and report every problem with file:line."""
    from tierwise.services.grading import Project

    try:
        spec = Project.open(project).spec
    except TierwiseError as exc:
        _fail(exc)
    console.print(
        f"[green]ok[/green]: {len(spec.sources)} sources, {len(spec.indicators)} "
        f"indicators, {len(spec.schemes)} schemes"
    )


@app.command()
def check(project: ProjectOpt = Path("."), as_of: AsOfOpt = None) -> None:
    """Check the data and print a data-quality report (exit 1 when a check fails)."""
    from tierwise.cli.render import quality_table
    from tierwise.services.grading import Project
    from tierwise.services.grading import check as check_service

    try:
        report = check_service(Project.open(project), as_of=_date(as_of))
    except TierwiseError as exc:
        _fail(exc)
    console.print(quality_table(report))
    if report.encodings:
        console.print("encodings: " + ", ".join(f"{k} {v}" for k, v in report.encodings.items()))
    for name, answered in report.by_statistics.items():
        console.print(Text(f"{name}: answered by the Parquet file's statistics, no row read: "
                           + ", ".join(answered)))
    if not report.ok:
        raise typer.Exit(1)


EXIT_SKIPPED = 3


@app.command()
def run(
    schemes: Annotated[list[str] | None, typer.Argument(help="schemes to run")] = None,
    project: ProjectOpt = Path("."),
    as_of: AsOfOpt = None,
    all_schemes: Annotated[bool, typer.Option("--all", help="run every scheme")] = False,
    force: Annotated[bool, typer.Option(help="run again a date that is already done")] = False,
    version: Annotated[int | None, typer.Option(
        help="grade with this version (one scheme); an inactive version makes an unofficial "
             "run that stays out of the history")] = None,
    drop_bad_rows: Annotated[
        bool,
        typer.Option(
            "--drop-bad-rows", help="grade without rows that fail a check (they are counted)"
        ),
    ] = False,
    export: Annotated[list[str] | None, typer.Option(help="also write csv and/or xlsx")] = None,
    lang: LangOpt = "en",
    actor: Annotated[str | None, typer.Option(help="who runs it (default: TIERWISE_USER or "
                                                    "the OS user)")] = None,
) -> None:
    """Grade every customer with SCHEMES (one data load for all), record the runs, summarise.

    Exit code 0 when done, 3 when every scheme was already done for the date (skipped), 1 when
    the run failed, 2 for a bad spec or usage.
    """
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from tierwise.cli.render import analysis_table, model_table, summary_table
    from tierwise.services.grading import Project
    from tierwise.services.runs import run as run_service

    try:
        proj = Project.open(project)
        names = list(proj.spec.schemes) if all_schemes else list(schemes or [])
        if not names:
            raise SpecError(
                "name the scheme(s) to run, or pass --all; schemes: "
                + (", ".join(proj.spec.schemes) or "none")
            )
        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        ) as bar:
            task = bar.add_task("starting", total=None)
            outcomes = run_service(
                proj,
                names,
                as_of=_date(as_of),
                force=force,
                version=version,
                drop_bad_rows=drop_bad_rows,
                export=export,
                actor=actor,
                progress=lambda s: bar.update(task, description=s),
            )
    except TierwiseError as exc:
        _fail(exc)
    done = [o for o in outcomes if o.status == "done"]
    if done and done[0].quality is not None:
        for name, count in done[0].quality.dropped.items():
            console.print(f"[yellow]dropped {count:,} bad rows from {name}[/yellow]")
    for outcome in outcomes:
        for note in outcome.notes:
            console.print(f"[yellow]{note}[/yellow]", highlight=False)
        if outcome.status == "skipped":
            continue
        spec = proj.scheme(outcome.scheme) if outcome.scheme in proj.spec.schemes else None
        kind = "" if outcome.run.official else ", unofficial"
        title = (f"{outcome.scheme} ({spec.method if spec else '?'}) as of {outcome.as_of}: "
                 f"{outcome.run.customers or 0:,} customers; version {outcome.version}, run "
                 f"{outcome.run.id}{kind}")
        console.print(summary_table(title, outcome.tiers, value=spec.value if spec else None,
                                    lang=lang))
        held = sum(c.held for c in outcome.counts)
        overridden = sum(c.overridden for c in outcome.counts)
        if held or overridden:
            console.print(f"held by the stability policy: {held:,}; overridden: {overridden:,}")
        if outcome.analysis:
            console.print(analysis_table(outcome.analysis))
        if outcome.model:
            console.print(model_table(outcome.model))
        if outcome.folder:
            console.print(f"grades: {outcome.folder / 'grades.parquet'}")
        for path in outcome.exports:
            console.print(f"export: {path}")
    if not done:
        raise typer.Exit(EXIT_SKIPPED)


@app.command()
def explain(
    customer: Annotated[str, typer.Argument(help="customer id")],
    scheme: Annotated[str, typer.Option("--scheme", "-s", help="scheme")],
    project: ProjectOpt = Path("."),
    as_of: AsOfOpt = None,
) -> None:
    """Show one customer's grade with its reasons and the gap to the next tier."""
    from tierwise.cli.render import explanation_table
    from tierwise.services.explain_run import explain as explain_service
    from tierwise.services.grading import Project

    try:
        exp = explain_service(Project.open(project), scheme, customer, as_of=_date(as_of))
    except TierwiseError as exc:
        _fail(exc)
    console.print(explanation_table(exp))


@app.command()
def demo(
    folder: Annotated[Path, typer.Option(help="where to write the demo projects")] = Path(
        "tierwise-demo"
    ),
    customers: Annotated[int, typer.Option(help="retail customers")] = 5000,
    lang: LangOpt = "en",
) -> None:
    """Generate synthetic data, run every example project and print its tier summaries."""
    from tierwise.cli.render import (
        analysis_table,
        evaluation_tables,
        model_table,
        quality_table,
        summary_table,
    )
    from tierwise.reports.evaluation_output import headline
    from tierwise.services.demo import run_demo

    try:
        for item in run_demo(folder, customers=customers):
            if item.kind == "evaluation":
                console.rule(f"[bold]{item.title}")
                console.print(headline(item.payload), soft_wrap=True)
                console.print(evaluation_tables(item.payload)[0])
            elif item.kind == "quality":
                console.rule(f"[bold]{item.title}")
                console.print(quality_table(item.payload))
            else:
                result, spec = item.payload
                console.rule(f"[bold]{item.title}")
                title = (
                    f"{result.scheme} ({spec.method}) as of {result.as_of}: "
                    f"{result.run.customers or 0:,} customers; version {result.version}, run "
                    f"{result.run.id}"
                )
                console.print(summary_table(title, result.tiers, value=spec.value, lang=lang))
                if result.analysis:
                    console.print(analysis_table(result.analysis))
                if result.model:
                    console.print(model_table(result.model))
    except TierwiseError as exc:
        _fail(exc)
    console.print(
        f"demo projects in {folder}; try: tierwise explain C000001 -s value -p {folder / 'retail'}"
    )


# The store commands register themselves on ``app``.
from tierwise.cli import serve as _serve  # noqa: E402, F401
from tierwise.cli import store_commands as _store_commands  # noqa: E402, F401
from tierwise.cli import users as _users  # noqa: E402, F401


def main() -> None:
    """Entry point of the ``tierwise`` script."""
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
from tierwise.cli import evaluate as _evaluate  # noqa: E402, F401
