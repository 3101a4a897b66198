"""``tierwise evaluate``: schemes graded at a past date against what customers did next."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tierwise.cli.common import console, open_project, parse_date, reported
from tierwise.cli.options import AsOfOpt, ProjectOpt
from tierwise.cli.render import evaluation_tables
from tierwise.errors import SpecError
from tierwise.i18n import _


def evaluate(
    schemes: Annotated[list[str], typer.Argument(help="schemes compared side by side")],
    project: ProjectOpt = Path("."),
    as_of: AsOfOpt = None,
    horizon: Annotated[str, typer.Option(help="future measured after --as-of, e.g. 12m, 39w")]
    = "12m",
    outcome: Annotated[str, typer.Option(
        help="realised value: an aggregate indicator whose window equals the horizon")] = "",
    top_share: Annotated[float, typer.Option(help="share counted as the future top")] = 0.2,
    recency: Annotated[str | None, typer.Option(
        help="days-since-last indicator of the baseline (default: the project's first)")] = None,
    out: Annotated[Path | None, typer.Option(
        help="folder for evaluation.json, .html and .png")] = None,
) -> None:
    """Grade SCHEMES as of --as-of and measure them against the next --horizon.

    Compares each scheme's top tier with the customers who turned out to be the top
    --top-share by --outcome (precision, recall), lift and value share per tier, AUC, Gini and
    rank correlation, always beside a recency baseline.
    """
    from tierwise.reports import evaluation_output
    from tierwise.services.evaluation import evaluate as evaluate_service

    with reported():
        if not outcome:
            raise SpecError(_("name the realised value with --outcome, an aggregate indicator "
                              "whose window equals --horizon (e.g. --outcome spend_12m)"))
        day = parse_date(as_of)
        if day is None:
            raise SpecError(_("give the date to grade at with --as-of YYYY-MM-DD; the data "
                              "must reach --horizon past it"))
        result = evaluate_service(open_project(project), schemes, as_of=day, horizon=horizon,
                                  outcome=outcome, top_share=top_share, recency=recency)
        written = evaluation_output.write(result, out) if out else []
    console.print(evaluation_output.headline(result), soft_wrap=True)
    for table in evaluation_tables(result):
        console.print(table)
    for path in written:
        console.print(_("wrote {path}").format(path=path))
