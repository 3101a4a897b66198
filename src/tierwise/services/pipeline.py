"""The run pipeline: the one sequence of steps every run follows, recorded or not.

``docs/architecture.md`` section 8 describes it with the targets side by side.

A run is a plan of explicit steps over schemes resolved once (:class:`ResolvedScheme`):

1. **features**: read and check the sources and build the feature table, once for all schemes;
2. per scheme, **grade**: fit what the method learns, then grade every customer;
3. **settle**: the stability policy and the overrides in force (a recorded run), or nothing;
4. **count and check**: the grades go to the run's staging folder and are counted there;
   one grade per customer, none without a tier;
5. **analyse**: what the method reports after grading (the rules' conditions met and won);
6. **write**: features, extra tables, exports and ``run.json`` beside the grades; the staging
   folder is renamed into place;
7. **record**: the outcome (a recorded run commits it to the store).

Where the results go is a :class:`Target`: :mod:`tierwise.services.grading` writes to a scratch
folder per scheme and date, :mod:`tierwise.services.recording` to a run's folder and the store.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from tierwise import methods
from tierwise.i18n import _
from tierwise.indicators import CUSTOMER, required_indicators
from tierwise.methods.fitted import FittedModel
from tierwise.services import reading
from tierwise.services.features import Features
from tierwise.services.project import Project
from tierwise.services.resolved import ResolvedScheme, indicators_of
from tierwise.services.run_files import (
    GradeFacts,
    RunFiles,
    closed_columns,
    grade_facts,
    labelled_expr,
    staged,
    write_files,
)
from tierwise.services.training import outcome_training
from tierwise.sources.checks import QualityReport
from tierwise.spec.columns import PREVIOUS_TIER
from tierwise.spec.models import LINKED_RECORDS, SchemeSpec

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from tierwise.engine import Engine
    from tierwise.methods.rules import RuleAnalysis

OutcomeT = TypeVar("OutcomeT")
OutcomeT_co = TypeVar("OutcomeT_co", covariant=True)
#: Called with the name of each step as it starts.
Progress = Callable[[str], None]


class Clock:
    """Laps of a run's steps, in seconds (rounded to 0.1 ms), shared or per scheme."""

    def __init__(self) -> None:
        self._last = time.perf_counter()

    def lap(self, timings: dict[str, float], name: str) -> None:
        """Record the time since the previous lap under ``name``."""
        now = time.perf_counter()
        timings[name] = round(now - self._last, 4)
        self._last = now


@dataclass
class Graded:
    """One scheme's results as the steps fill them in, handed to the target to record.

    Attributes:
        scheme: The scheme.
        folder: The run's folder (the staging folder's name once renamed).
        grades: The final grade table, read from the written ``grades.parquet``.
        facts: Its counts.
        model: What the method fitted (None for methods that learn nothing).
        analysis: The method's post-grade analysis (rules), if any.
        extra: Extra tables the target writes (a recorded run's changes).
        exports: The export files written.
        timings: This scheme's laps.
        tally: What the target counted before the rename (a recorded run's per-tier counts).

    """

    scheme: ResolvedScheme
    folder: Path
    grades: ir.Table | None = None
    facts: GradeFacts | None = None
    model: FittedModel | None = None
    analysis: RuleAnalysis | None = None
    extra: dict[str, ir.Table] = field(default_factory=dict)
    exports: list[Path] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    tally: Any = None


@dataclass(frozen=True)
class Settled:
    """The grades after the target's policies, and how many customers overrides excluded."""

    table: ir.Table
    excluded: int = 0


@dataclass(frozen=True)
class Shared:
    """What every scheme of a run shares: the features, their count and the shared laps."""

    features: ir.Table
    quality: QualityReport
    customers: int
    timings: dict[str, float]


class Target(Protocol, Generic[OutcomeT_co]):
    """Where a run's results go, and the steps that differ between recorded and unrecorded runs.

    Every method is called by :func:`execute` in the order of the module docstring.
    """

    project: Project
    export: list[str]

    def engine(self) -> AbstractContextManager[Engine]:
        """The engine to compute in (a backfill shares one across dates)."""
        ...

    def features(self, engine: Engine, indicators: list[str]) -> Features:
        """Step 1: the feature table of the run's as-of date."""
        ...

    def folder(self, scheme: ResolvedScheme) -> Path:
        """Where the scheme's files go."""
        ...

    def previous_model(self, scheme: ResolvedScheme) -> FittedModel | None:
        """The model a learning method fitted in the previous official run, if any."""
        ...

    def previous_tiers(self, engine: Engine, scheme: ResolvedScheme) -> ir.Table | None:
        """``customer_id, tier`` held in the scheme's previous official run; None without one."""
        ...

    def settle(self, engine: Engine, scheme: ResolvedScheme, raw: ir.Table,
               features: ir.Table) -> Settled:
        """Step 3: the stability policy and the overrides (or the grades as they are)."""
        ...

    def extra(self, engine: Engine, scheme: ResolvedScheme, grades: ir.Table
              ) -> dict[str, ir.Table]:
        """More tables to write beside the grades, by file name."""
        ...

    def info(self, scheme: ResolvedScheme) -> dict[str, Any]:
        """Facts for ``run.json``, before the customers and the model."""
        ...

    def fault(self, point: str) -> None:
        """A named point between steps (the crash tests stop the process there)."""
        ...

    def tally(self, engine: Engine, graded: Graded) -> Any:
        """Count what the record needs, inside the staging block (before the rename)."""
        ...

    def record(self, graded: Graded, shared: Shared) -> OutcomeT_co:
        """Step 7: the scheme's outcome, recorded where the target keeps them."""
        ...


def execute(target: Target[OutcomeT], schemes: list[ResolvedScheme], day: date,
            step: Progress) -> list[OutcomeT]:
    """Run the pipeline's steps for ``schemes`` as of ``day`` into ``target``."""
    clock = Clock()
    outcomes: list[OutcomeT] = []
    with target.engine() as engine:
        step(_("loading and checking sources, computing indicators"))
        built = target.features(engine, indicators_of(schemes))
        with engine.scope():
            features = built.table if built.held else engine.materialize("features",
                                                                         built.table)
            target.fault("after_features")
            timings: dict[str, float] = {}
            clock.lap(timings, "check_and_indicators")
            shared = Shared(features, built.quality, int(engine.execute(features.count())),
                            timings)
            written: dict[tuple[str, ...], Path] = {}  # features files, by their columns
            for scheme in schemes:
                with engine.scope():  # this scheme's tables go when it is recorded
                    outcomes.append(_one(target, engine, scheme, day, shared, clock, step,
                                         written))
    return outcomes


def _one(target: Target[OutcomeT], engine: Engine, scheme: ResolvedScheme, day: date, shared: Shared,
         clock: Clock, step: Progress, written: dict[tuple[str, ...], Path]) -> OutcomeT:
    """Steps 2 to 7 for one scheme."""
    graded = Graded(scheme, target.folder(scheme))
    step(_("grading {scheme}").format(scheme=scheme.name))
    shared = _with_previous_tier(target, engine, scheme, shared)
    with staged(graded.folder) as staging:
        _grade(target, engine, graded, shared, day, staging / "grades.parquet")
        clock.lap(graded.timings, "grade")
        assert graded.grades is not None and graded.facts is not None
        grades, facts = graded.grades, graded.facts
        graded.analysis = analyse(engine, scheme.spec, shared.features,
                                  lambda: _computed_wins(engine, grades, facts), as_of=day)
        if graded.analysis is not None:
            clock.lap(graded.timings, "analysis")
        graded.extra = target.extra(engine, scheme, graded.grades)
        step(_("writing {scheme}").format(scheme=scheme.name))
        columns = (CUSTOMER, *required_indicators(target.project.spec, list(scheme.indicators)),
                   *([PREVIOUS_TIER] if PREVIOUS_TIER in shared.features.columns else []),
                   *_linked_records(target.project, shared.features))
        info = {**target.info(scheme), "customers": graded.facts.rows}
        if shared.quality.state_record:  # how each source was read: from kept state, or in full
            info["sources_read"] = dict(shared.quality.state_record)
        if reading.grades_linked(target.project):  # whose linked customers were graded
            info["linkage_version"] = reading.linked_version(target.project)
        if graded.model is not None:
            info["model"] = graded.model
        files = RunFiles(shared.features.select(*columns), target.export,
                         {n: t.order_by(CUSTOMER) for n, t in graded.extra.items()}, info,
                         written.get(_shared_key(scheme, columns)))
        graded.exports = write_files(engine, staging, graded.folder, scheme, day, files,
                                     fault=target.fault)
        graded.tally = target.tally(engine, graded)
    written.setdefault(_shared_key(scheme, columns), graded.folder / "features.parquet")
    target.fault(f"after_write:{scheme.name}")
    clock.lap(graded.timings, "write")
    return target.record(graded, shared)


def _linked_records(project: Project, features: ir.Table) -> list[str]:
    """The column naming a linked customer's records, for a project graded over them."""
    return ([LINKED_RECORDS] if reading.grades_linked(project)
            and LINKED_RECORDS in features.columns else [])


def _shared_key(scheme: ResolvedScheme, columns: tuple[str, ...]) -> tuple[str, ...]:
    """Which features files schemes share.

    Those of the same columns; but a file with the previous tier is the scheme's own: another
    scheme's previous tiers differ.
    """
    return (*columns, scheme.name) if PREVIOUS_TIER in columns else columns


def _with_previous_tier(target: Target[OutcomeT], engine: Engine, scheme: ResolvedScheme,
                       shared: Shared) -> Shared:
    """``shared`` with :data:`PREVIOUS_TIER` in its features when the scheme's conditions read it.

    The tier each customer held in the scheme's previous official run (null for a customer it
    did not grade, and on a first or unrecorded run); it is kept in the run's features file, so
    explaining a grade later reads the same value.
    """
    if PREVIOUS_TIER not in methods.method_of(scheme.spec).reads(scheme.spec):
        return shared
    import dataclasses

    import ibis

    features = shared.features
    before = target.previous_tiers(engine, scheme)
    if before is None:
        features = features.mutate(**{PREVIOUS_TIER: ibis.null("string")})
    else:
        before = before.select(_pid=before[CUSTOMER], **{PREVIOUS_TIER: before.tier})
        features = features.left_join(before, features[CUSTOMER] == before._pid).drop("_pid")
    return dataclasses.replace(shared, features=features)


def _grade(target: Target[OutcomeT], engine: Engine, graded: Graded, shared: Shared, day: date,
           path: Path) -> None:
    """Steps 2 to 4: grade, settle, write the grades to ``path`` and count them there.

    The grades are computed while their file is written and counted from the file: holding 10M
    grades in the engine first cost 1.3 s more at 100M rows.
    """
    scheme = graded.scheme
    raw, graded.model = grade_scheme(target.project, engine, scheme.spec, shared.features,
                                     as_of=day, previous_model=target.previous_model(scheme),
                                     outcome_from=shared.features)
    settled = target.settle(engine, scheme, raw, shared.features)
    engine.write_parquet(labelled_expr(settled.table, scheme.tiers), path,
                         closed=closed_columns(scheme))
    graded.grades = engine.read_parquet(f"grades_{id(graded)}", path)
    target.fault(f"after_policy:{scheme.name}")
    graded.facts = grade_facts(engine, graded.grades, value=scheme.has_value)
    target.fault(f"after_grade:{scheme.name}")
    graded.facts.check_one_grade(customers=shared.customers - settled.excluded)


def _computed_wins(engine: Engine, grades: ir.Table, facts: GradeFacts) -> dict[str, int]:
    """Customers per tier the method computed (before any policy or override)."""
    if "computed_tier" not in grades.columns:
        return facts.wins()
    wins = engine.to_arrow(grades.group_by("computed_tier").aggregate(n=grades.count()))
    return {w["computed_tier"]: int(w["n"]) for w in wins.to_pylist()}


def grade_scheme(project: Project, engine: Engine, scheme: SchemeSpec, features: ir.Table, *,
                 as_of: date, previous_model: FittedModel | None = None,
                 outcome_from: ir.Table | None = None) -> tuple[ir.Table, FittedModel | None]:
    """Fit what the scheme's method learns, then grade: how every service grades a scheme.

    A method that asks for outcome training (a ``model`` scheme with an outcome target) is
    trained on the features as of T - horizon (the outcome's window) labelled with who reached
    the outcome's top share by T. ``outcome_from``: the run's own feature table of every
    customer as of T; when it holds the outcome, the training reads it from there instead of
    aggregating T again (a filtered table, such as an evaluation's, must not be given).
    Returns the grades and the fitted model (None for methods that learn nothing).
    """
    need = methods.method_of(scheme).training_need(scheme)
    training = (outcome_training(project, engine, need, as_of, current=outcome_from)
                if need is not None else None)
    model = methods.fit(scheme, features, as_of=as_of, previous_model=previous_model,
                        training=training)
    return methods.grade(scheme, features, as_of=as_of, model=model), model


def analyse(engine: Engine, scheme: SchemeSpec, features: ir.Table,
            wins: Callable[[], dict[str, int]], *, as_of: date) -> Any:
    """The method's analysis after grading (rules: which conditions hold and win), if any.

    ``wins`` counts the customers per computed tier, asked only by a method that analyses.
    """
    analysis = methods.method_of(scheme).analysis(scheme, features, as_of=as_of)
    if analysis is None:
        return None
    row = engine.execute(analysis.query).iloc[0]
    return analysis.finish({k: int(row[k]) for k in row.index}, wins())

