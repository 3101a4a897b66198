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
#: What record linkage imports (the ``[linkage]`` extra).
_LINKAGE_NEEDS = ("splink", "pypinyin", "phonenumbers", "opencc")
LINKAGE_INSTALL = "pip install 'tierwise[linkage]'"
#: The people of the linked example's three systems (fewer when the demo has fewer customers).
LINKED_PEOPLE = 2000
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
    yield from _linked(folder / "linked", people=max(200, min(LINKED_PEOPLE, customers)))
    dirty = folder / "retail-dirty"
    copy_example("retail", dirty)
    write_dirty_retail(dirty / "data", customers=min(customers, 500))
    yield DemoItem(
        "quality",
        _("retail with dirty rows: what `tierwise check` reports"),
        check(Project.open(dirty)),
    )


@dataclass(frozen=True)
class LinkedExample:
    """One customer of the linked example: its grade, from its records in three systems."""

    link: Any  # the linkage run (services.linkage.LinkRun)
    explanation: Any  # the customer's grade (services.texts.Explanation)
    accuracy: Any  # the linkage against the planted truth (sources.linkage.Accuracy)


def _linked(target: Path, *, people: int) -> Iterator[DemoItem]:
    """Three systems' members linked into customers, each graded once on every system's orders.

    Shows a customer whose records in the shop, the app and the stores together make a VIP,
    where each system's orders alone would not.
    """
    lacking = missing_packages(_LINKAGE_NEEDS)
    if lacking:
        yield DemoItem("needs_ml", _("linked: left out, needs the [linkage] extra"), NeedsML(
            "linked", ["tierwise link run", "value"], lacking, LINKAGE_INSTALL))
        return
    from tierwise.demo import AS_OF, write_linked
    from tierwise.services import linkage
    from tierwise.services.explain_run import explain
    from tierwise.services.grading import Project
    from tierwise.services.runs import open_store, run

    copy_example("linked", target)
    planted = write_linked(target / "data", people=people, as_of=AS_OF)
    project = Project.open(target)
    store = open_store(project)
    try:
        done = linkage.run(project, store, actor="demo")
        outcome = run(project, ["value"], force=True, actor="demo")[0]
        yield DemoItem("run", "linked: value", (outcome, project.spec.schemes["value"],
                                                project.spec.indicators))
        chosen = _three_systems_vip(Path(outcome.folder or ""))
        if chosen is not None:
            yield DemoItem("linked", _("linked: one customer across three systems"),
                           LinkedExample(done, explain(project, "value", chosen, store=store),
                                         _accuracy(done.folder, planted.truth)))
    finally:
        store.close()


def _accuracy(folder: Path, truth: Any) -> Any:
    """The linkage's pairwise precision and recall against the people planted in the data."""
    import pyarrow.parquet as pq

    from tierwise.sources.linkage import accuracy, record_id

    people = {record_id(s, i): p for s, i, p in zip(
        *(truth[c].to_pylist() for c in ("system", "source_id", "person")), strict=True)}
    return accuracy(pq.read_table(folder / "mapping.parquet"), people)


def _three_systems_vip(folder: Path) -> str | None:
    """The first VIP whose records are in all three systems and who no system alone makes VIP."""
    import pyarrow.parquet as pq

    grades = {r["customer_id"]: r["tier"] for r in
              pq.read_table(folder / "grades.parquet", columns=["customer_id", "tier"]).to_pylist()}
    rows = pq.read_table(folder / "features.parquet").to_pylist()
    for row in sorted(rows, key=lambda r: r["customer_id"]):
        if grades.get(row["customer_id"]) != "vip" or str(row["source_ids"]).count(",") != 2:
            continue
        if all(row[f"{s}_orders_12m"] < 12 or row[f"{s}_spend_12m"] < 3000
               for s in ("shop", "app", "store")):
            return str(row["customer_id"])
    return None

