"""Commands over a project folder: init, validate, check, explain, demo."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from tierwise import i18n
from tierwise.cli.common import console, open_project, parse_date, reported, speak
from tierwise.cli.formats import indicator, tiers_of
from tierwise.cli.options import AsOfOpt, LangOpt, ProjectOpt
from tierwise.cli.run_command import print_fitted, print_summary
from tierwise.i18n import _, ngettext

if TYPE_CHECKING:
    from tierwise.services.demo import LinkedExample, NeedsML


def init(
    folder: Annotated[Path, typer.Argument(help="folder to create")] = Path("."),
    force: Annotated[bool, typer.Option(help="overwrite an existing tierwise.yaml")] = False,
) -> None:
    """Write a commented starter project with sample data (--lang zh: in Chinese)."""
    from tierwise.services.starter import write_starter

    with reported():
        made = write_starter(folder, force=force, lang=i18n.current())
    console.print(_("wrote {path} and sample data: {customers} customers, {orders} orders and "
                    "refunds").format(path=made.path, customers=i18n.number(made.customers),
                                      orders=i18n.number(made.orders)), highlight=False)
    console.print(_("next: {run}, then {explain}").format(
        run=f"tierwise run value -p {folder}",
        explain=f"tierwise explain C000001 -s value -p {folder}"), highlight=False)


def validate(project: ProjectOpt = Path(".")) -> None:
    """Check tierwise.yaml and report every problem with file:line."""
    with reported():
        spec = open_project(project).spec
    counts = _("{sources}, {indicators}, {schemes}").format(
        sources=ngettext("{n} source", "{n} sources", len(spec.sources)).format(
            n=len(spec.sources)),
        indicators=ngettext("{n} indicator", "{n} indicators", len(spec.indicators)).format(
            n=len(spec.indicators)),
        schemes=ngettext("{n} scheme", "{n} schemes", len(spec.schemes)).format(
            n=len(spec.schemes)))
    console.print(Text(_("ok: {counts}").format(counts=counts), style="green"))


def check(project: ProjectOpt = Path("."), as_of: AsOfOpt = None) -> None:
    """Check the data and print a data-quality report (exit 1 when a check fails)."""
    from tierwise.cli.render import quality_table
    from tierwise.services.grading import check as check_service

    with reported():
        report = check_service(open_project(project), as_of=parse_date(as_of))
    console.print(quality_table(report))
    if report.encodings:
        console.print(Text(_("encodings: {list}").format(
            list=_(", ").join(f"{k} {v}" for k, v in report.encodings.items()))))
    for name in report.by_statistics:
        console.print(Text(_("{source}: answered by the Parquet file's statistics, no row read: "
                             "{checks}").format(source=name,
                                                checks=_(", ").join(report.answered(name)))))
    if not report.ok:
        raise typer.Exit(1)


def explain(
    customer: Annotated[str, typer.Argument(help="customer id")],
    scheme: Annotated[str, typer.Option("--scheme", "-s", help="scheme")],
    project: ProjectOpt = Path("."),
    as_of: AsOfOpt = None,
) -> None:
    """Show one customer's grade with its reasons and the gap to the next tier."""
    from tierwise.cli.render import explanation_table
    from tierwise.services.explain_run import explain as explain_service
    from tierwise.services.runs import open_store, scheme_spec

    with reported():
        proj = open_project(project)
        store = open_store(proj)
        try:
            exp = explain_service(proj, scheme, customer, as_of=parse_date(as_of), store=store)
            spec = scheme_spec(proj, store, scheme)  # tierwise.yaml's, or the store's
        finally:
            store.close()
    tier = next((t for t in tiers_of(spec) if t.key == exp.grade["tier"]), None)
    names = {name: indicator(proj.spec.indicators, name) for name in exp.indicators}
    console.print(explanation_table(exp, tier, names, lang=i18n.current()))


def demo(
    folder: Annotated[Path, typer.Option(help="where to write the demo projects")] = Path(
        "tierwise-demo"
    ),
    customers: Annotated[int, typer.Option(help="retail customers")] = 5000,
    lang: LangOpt = None,
) -> None:
    """Generate synthetic data, run every example project and print its tier summaries."""
    speak(lang)
    from tierwise.cli.render import evaluation_tables, quality_table
    from tierwise.cli.review_commands import print_reviews
    from tierwise.cli.task_commands import print_tasks
    from tierwise.reports.evaluation_output import headline
    from tierwise.services.demo import run_demo

    left_out = []
    linked_record: str | None = None
    with reported():
        for item in run_demo(folder, customers=customers):
            console.rule(Text(item.title, style="bold"))
            if item.kind == "evaluation":
                console.print(headline(item.payload), soft_wrap=True)
                console.print(evaluation_tables(item.payload)[0])
            elif item.kind == "quality":
                console.print(quality_table(item.payload))
            elif item.kind == "reviews":
                print_reviews(item.payload, limit=10)
            elif item.kind == "tasks":
                print_tasks(item.payload, limit=3)
            elif item.kind == "linked":
                print_linked(item.payload, folder / "linked")
                records = str(item.payload.explanation.indicators.get("source_ids") or "")
                linked_record = records.split(", ")[0] or None
            elif item.kind == "needs_ml":
                left_out.append(item.payload)
                console.print(needs_ml_text(item.payload), soft_wrap=True)
            else:
                result, spec, indicators = item.payload
                print_summary(result, spec, lang=i18n.current(), indicators=indicators)
                print_fitted(result)
    for install in dict.fromkeys(n.install for n in left_out):
        console.print(Text(_("Some steps need packages that are not installed; install them "
                             "with {command}, then run `tierwise demo` again.").format(
            command=install), style="yellow"), soft_wrap=True)
    console.print(_("demo projects in {folder}; try: {command}").format(
        folder=folder, command=f"tierwise explain C000001 -s value -p {folder / 'retail'}"),
        soft_wrap=True, highlight=False)
    console.print(_("the retail tiers' actions and what the win-back email changed: {command}")
                  .format(command=f"tierwise kpi value -p {folder / 'retail'}"),
                  soft_wrap=True, highlight=False)
    if linked_record is not None:
        console.print(_("one customer across three systems, found by one of its records: "
                        "{command}").format(command=f"tierwise explain {linked_record} -s value "
                                                    f"-p {folder / 'linked'}"),
                      soft_wrap=True, highlight=False)


def print_linked(linked: LinkedExample, folder: Path) -> None:
    """The linked example: how many records became customers, and one customer's grade."""
    from tierwise.cli.link_commands import print_link_run
    from tierwise.cli.render import explanation_table
    from tierwise.services.grading import Project

    project = Project.open(folder)
    print_link_run(project, linked.link)
    console.print(_("against the people planted in the data: precision {precision:.3f}, "
                    "recall {recall:.3f} (pairs of records)").format(
        precision=linked.accuracy.precision, recall=linked.accuracy.recall), highlight=False)
    exp = linked.explanation
    console.print(_("{customer} is one customer with records in three systems ({records}), "
                    "graded once on all their orders:").format(
        customer=exp.customer_id, records=exp.indicators.get("source_ids")),
        soft_wrap=True, highlight=False)
    tier = next((t for t in tiers_of(project.spec.schemes["value"])
                 if t.key == exp.grade["tier"]), None)
    names = {n: indicator(project.spec.indicators, n) for n in exp.indicators}
    console.print(explanation_table(exp, tier, names, lang=i18n.current()))


def needs_ml_text(needs: NeedsML) -> Text:
    """What a demo project left out, what is missing and how to install it."""
    return Text(_("{project}: not run, they need {packages}: {steps}; install with "
                  "{command}").format(project=needs.project, packages=_(", ").join(needs.missing),
                                      steps=_(", ").join(needs.steps), command=needs.install),
                style="yellow")
