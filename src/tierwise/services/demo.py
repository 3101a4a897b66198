"""The demo: synthetic data for every example project, graded with every scheme."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from tierwise.errors import NotFoundError

EXAMPLES = ("retail", "bank", "b2b")


@dataclass(frozen=True)
class DemoItem:
    """One step of the demo for an edge to show: a run result or a data-quality report."""

    kind: str
    title: str
    payload: Any


def examples_dir() -> Path:
    """The example projects: the repository's ``examples/`` or the copy packaged in the wheel."""
    here = Path(__file__).resolve()
    for candidate in (here.parents[3] / "examples", here.parents[1] / "_examples"):
        if (candidate / "retail" / "tierwise.yaml").exists():
            return candidate
    raise NotFoundError(
        "the example projects are missing from this installation; reinstall "
        "tierwise (pip install --force-reinstall tierwise)"
    )


def copy_example(name: str, target: Path) -> Path:
    """Copy example ``name``'s ``tierwise.yaml`` into ``target``; returns the file written."""
    target.mkdir(parents=True, exist_ok=True)
    dest = target / "tierwise.yaml"
    shutil.copyfile(examples_dir() / name / "tierwise.yaml", dest)
    return dest


def _evaluation(project: Any, day: date, folder: Path) -> DemoItem:
    """Every retail scheme graded a year before the as-of date, against the year that followed."""
    from dateutil.relativedelta import relativedelta

    from tierwise.reports import evaluation_output
    from tierwise.services.evaluation import evaluate

    result = evaluate(project, list(project.spec.schemes), as_of=day - relativedelta(months=12),
                      horizon="12m", outcome="spend_12m")
    evaluation_output.write(result, folder)
    return DemoItem("evaluation", f"retail: every scheme against the next 12 months ({folder})",
                    result)


def _writers() -> dict[str, Callable[..., None]]:
    from tierwise.demo import write_b2b, write_bank, write_retail

    return {"retail": write_retail, "bank": write_bank, "b2b": write_b2b}


def run_demo(folder: Path, *, customers: int = 5000) -> Iterator[DemoItem]:
    """Write each example with fresh synthetic data, run all its schemes, then check dirty data.

    Every run is recorded in the example's store. The retail value scheme is also backfilled for
    the six month-ends before the as-of date, so its history and transitions have something to
    show. Yields results as they are ready, so an edge can show progress.
    """
    from tierwise.demo import write_dirty_retail
    from tierwise.services.grading import Project, check
    from tierwise.services.runs import backfill, backfill_dates, run

    writers = _writers()
    for name in EXAMPLES:
        target = folder / name
        copy_example(name, target)
        size = {"customers": customers} if name == "retail" else {}
        writers[name](target / "data", **size)
        project = Project.open(target)
        day = project.as_of(None)
        names = list(project.spec.schemes)
        history = []
        if name == "retail":
            start = date(day.year - (day.month <= 6), (day.month - 7) % 12 + 1, 1)
            history = backfill(project, ["value"], backfill_dates(start, day), force=True,
                               actor="demo")[-1:]
            names.remove("value")
        outcomes = history + run(project, names, force=True, actor="demo")
        for result in sorted(outcomes, key=lambda o: list(project.spec.schemes).index(o.scheme)):
            spec = project.spec.schemes[result.scheme]
            yield DemoItem("run", f"{name}: {result.scheme}", (result, spec))
        if name == "retail":
            yield _evaluation(project, day, target / "evaluation")
    dirty = folder / "retail-dirty"
    copy_example("retail", dirty)
    write_dirty_retail(dirty / "data", customers=min(customers, 500))
    yield DemoItem(
        "quality",
        "retail with dirty rows: what `tierwise check` reports",
        check(Project.open(dirty)),
    )
