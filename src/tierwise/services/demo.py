"""The demo: synthetic data for every example project, graded with every scheme."""

from __future__ import annotations

import importlib
import shutil
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from tierwise.errors import NotFoundError
from tierwise.i18n import _

EXAMPLES = ("retail", "bank", "b2b")
#: How to install what the fitted methods, the evaluation and its charts import.
ML_INSTALL = "pip install 'tierwise[ml]'"
#: What each method that fits a model imports (the ``[ml]`` extra); other methods need nothing.
_METHOD_NEEDS = {"clv": ("scipy",), "cluster": ("sklearn", "scipy"), "model": ("sklearn",),
                 "credit": ("optbinning", "sklearn")}
#: The evaluation ranks with scipy; its PNG chart is drawn with matplotlib.
_EVALUATION_NEEDS = ("scipy",)
_CHART_NEEDS = ("matplotlib",)
#: The names people install, for modules whose import name differs.
_PACKAGE = {"sklearn": "scikit-learn"}


@dataclass(frozen=True)
class DemoItem:
    """One step of the demo for an edge to show.

    ``kind`` is ``run`` (payload: the run outcome, its scheme and the project's indicators),
    ``evaluation`` (the evaluation), ``quality`` (a data-quality report) or ``needs_ml`` (a
    :class:`NeedsML`: what was left out because the ``[ml]`` extra is not installed).
    """

    kind: str
    title: str
    payload: Any


@dataclass(frozen=True)
class NeedsML:
    """Steps of the demo left out because packages of the ``[ml]`` extra are missing.

    Attributes:
        project: The example project.
        steps: What was left out, e.g. ``clv (method clv)`` or ``evaluation``.
        missing: The packages missing, as installed by name (``scikit-learn``).
        install: The command that installs them.

    """

    project: str
    steps: list[str]
    missing: list[str]
    install: str = ML_INSTALL


def missing_packages(modules: Iterable[str]) -> list[str]:
    """The packages of ``modules`` that cannot be imported, by the name they are installed as."""
    missing = []
    for module in dict.fromkeys(modules):
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(_PACKAGE.get(module, module))
    return missing


def examples_dir() -> Path:
    """The example projects: the repository's ``examples/`` or the copy packaged in the wheel."""
    here = Path(__file__).resolve()
    for candidate in (here.parents[3] / "examples", here.parents[1] / "_examples"):
        if (candidate / "retail" / "tierwise.yaml").exists():
            return candidate
    raise NotFoundError(
        _("the example projects are missing from this installation; reinstall tierwise (pip "
          "install --force-reinstall tierwise)")
    )


#: Folders of an example copied with its ``tierwise.yaml``: the files compliance maintains.
EXAMPLE_FOLDERS = ("factors", "calendars")


def copy_example(name: str, target: Path) -> Path:
    """Copy example ``name`` into ``target``; returns the project file written.

    The project file comes with the example's factor tables and calendars.
    """
    target.mkdir(parents=True, exist_ok=True)
    dest = target / "tierwise.yaml"
    source = examples_dir() / name
    shutil.copyfile(source / "tierwise.yaml", dest)
    for folder in EXAMPLE_FOLDERS:
        if (source / folder).is_dir():
            shutil.copytree(source / folder, target / folder, dirs_exist_ok=True)
    return dest


def _evaluation(project: Any, schemes: list[str], day: date, folder: Path) -> DemoItem:
    """The retail schemes graded a year before the as-of date, against the year that followed.

    The PNG chart is drawn only when matplotlib is installed; the JSON and HTML always are.
    """
    from dateutil.relativedelta import relativedelta

    from tierwise.reports import evaluation_output
    from tierwise.services.evaluation import evaluate

    result = evaluate(project, schemes, as_of=day - relativedelta(months=12),
                      horizon="12m", outcome="spend_12m")
    evaluation_output.write(result, folder, png=not missing_packages(_CHART_NEEDS))
    return DemoItem("evaluation", _("retail: every scheme against the next 12 months ({folder})").format(
        folder=folder),
                    result)


def _left_out(name: str, project: Any) -> tuple[list[str], NeedsML | None]:
    """The schemes of ``project`` that can run here, and what needs the ``[ml]`` extra."""
    runnable, steps, missing = [], [], []
    for scheme, spec in project.spec.schemes.items():
        lacking = missing_packages(_METHOD_NEEDS.get(spec.method, ()))
        if lacking:
            steps.append(f"{scheme} (method {spec.method})")
            missing += lacking
        else:
            runnable.append(scheme)
    if name == "retail":
        lacking = missing_packages(_EVALUATION_NEEDS)
        if lacking:
            steps.append("evaluation")
            missing += lacking
        elif missing_packages(_CHART_NEEDS):
            steps.append("evaluation.png")
            missing += missing_packages(_CHART_NEEDS)
    if not steps:
        return runnable, None
    return runnable, NeedsML(name, steps, list(dict.fromkeys(missing)))


def _reviews(project: Any, name: str, outcomes: list[Any], day: date) -> Iterator[DemoItem]:
    """The reviews due in each risk scheme just run (by the data's as-of date)."""
    from tierwise.policies.reviews import plan_of
    from tierwise.services import reviews
    from tierwise.services.runs import open_store

    rated = [o.scheme for o in outcomes if plan_of(project.spec.schemes[o.scheme]) is not None]
    if not rated:
        return
    store = open_store(project)
    try:
        for scheme in rated:
            yield DemoItem("reviews", _("{name}: {scheme} reviews due").format(
                name=name, scheme=scheme), reviews.due(project, store, scheme, today=day,
                                                       limit=10))
    finally:
        store.close()


def _tasks(project: Any, name: str, day: date) -> Iterator[DemoItem]:
    """The open follow-ups the example's actions set (by the data's as-of date)."""
    from tierwise.services import tasks
    from tierwise.services.runs import open_store

    if not any(a.follow_up is not None for a in project.spec.actions.values()):
        return
    store = open_store(project)
    try:
        yield DemoItem("tasks", _("{name}: follow-ups per owner").format(name=name),
                       tasks.open_tasks(project, store, today=day))
    finally:
        store.close()


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
    from tierwise.demo.generate import graded_month_ends
    from tierwise.services.grading import Project, check
    from tierwise.services.runs import backfill, run

    writers = _writers()
    for name in EXAMPLES:
        target = folder / name
        copy_example(name, target)
        size = {"customers": customers} if name == "retail" else {}
        writers[name](target / "data", **size)
        project = Project.open(target)
        day = project.as_of(None)
        names, needs = _left_out(name, project)
        history = []
        if name == "retail":  # the month ends the data's win-back effect was planted on
            history = backfill(project, ["value"], graded_month_ends(day), force=True,
                               actor="demo")[-1:]
            names.remove("value")
        outcomes = history + run(project, names, force=True, actor="demo")
        for result in sorted(outcomes, key=lambda o: list(project.spec.schemes).index(o.scheme)):
            spec = project.spec.schemes[result.scheme]
            yield DemoItem("run", f"{name}: {result.scheme}",
                           (result, spec, project.spec.indicators))
        yield from _reviews(project, name, outcomes, day)
        yield from _tasks(project, name, day)
        if needs is not None:
            yield DemoItem("needs_ml", _("{name}: left out, needs the [ml] extra").format(
                name=name), needs)
        if name == "retail" and not missing_packages(_EVALUATION_NEEDS):
            graded = {o.scheme for o in outcomes}
            yield _evaluation(project, [s for s in project.spec.schemes if s in graded], day,
                              target / "evaluation")
    dirty = folder / "retail-dirty"
    copy_example("retail", dirty)
    write_dirty_retail(dirty / "data", customers=min(customers, 500))
    yield DemoItem(
        "quality",
        _("retail with dirty rows: what `tierwise check` reports"),
        check(Project.open(dirty)),
    )
