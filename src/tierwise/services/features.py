"""The read-and-check step of a run: load the sources, check them, build the feature table.

:class:`FeaturePlan` decides once which sources a set of indicators reads and which aggregate
indicators each event source computes; the checks of :mod:`tierwise.sources.checks` call it
back while they scan (one scan computes the checks and the indicators).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from tierwise.errors import DataError
from tierwise.indicators import feature_table, increments, required_indicators
from tierwise.indicators import features as feature_module
from tierwise.services import reading
from tierwise.services.project import Project, open_engine
from tierwise.sources.checks import (
    QualityReport,
    check_and_aggregate,
    check_and_build,
    check_sources,
)
from tierwise.sources.facts import ColumnFacts
from tierwise.sources.read import LoadedSource
from tierwise.spec.models import LINKED_RECORDS, AggregateIndicatorSpec

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from tierwise.engine import Engine


@dataclass(frozen=True)
class Features:
    """A feature table (one row per customer) and the data-quality report it was built with.

    ``held``: the table is already materialized in the engine, so reading it twice costs no
    second scan.
    """

    table: ir.Table
    quality: QualityReport
    held: bool = False


@dataclass
class FeaturePlan:
    """Which sources and aggregates a set of indicators needs, planned once per run.

    ``dates``: the as-of dates computed side by side from one scan (one date for a run; a
    backfill's batch or an evaluation's two dates for several). ``kept``: per event source
    whose indicators are kept as state (one date only), the indicators the state holds: its
    scan computes their state columns (:mod:`tierwise.indicators.increments`) instead.
    """

    project: Project
    indicators: list[str]
    dates: list[date]
    kept: dict[str, list[str]] = field(default_factory=dict)
    members: dict[str, list[str]] = field(init=False)
    sources: list[str] = field(init=False)
    _plans: dict[tuple[str, date], feature_module.AggregatePlan] = field(
        init=False, default_factory=dict)
    _scales: dict[str, dict[str, float]] = field(init=False, default_factory=dict)
    _times: dict[str, ColumnFacts] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.dates = sorted(set(self.dates))
        linkage = self.project.spec.linkage
        if linkage is not None and linkage.grades_linked:  # every grade names its records
            self.indicators = list(dict.fromkeys([*self.indicators, LINKED_RECORDS]))
        self.members = {}
        for name in required_indicators(self.project.spec, self.indicators):
            spec = self.project.spec.indicators[name]
            if isinstance(spec, AggregateIndicatorSpec):
                self.members.setdefault(spec.source, []).append(name)
        self.sources = list(self.members)

    def load(self, engine: Engine) -> dict[str, LoadedSource]:
        """The customers and the event sources the indicators read, loaded into ``engine``."""
        names = ["customers", *[n for n in self.sources if n != "customers"]]
        loaded = {n: reading.read(self.project, n, engine) for n in names}
        self.know(loaded)
        return loaded

    def know(self, loaded: Mapping[str, LoadedSource]) -> None:
        """Keep what each event source's file footer proves about its time column.

        A source whose every event is on or before a window's end needs no per-row test of
        that end (:func:`~tierwise.indicators.features.plan`). The facts hold for any subset of
        the file's rows, and the read fails if the file changes during the run.
        """
        for name, source in loaded.items():
            column = source.spec.time
            fact = source.facts.get(column) if column else None
            if fact is not None and fact.no_nulls():  # a null time is in no window
                self._times[name] = fact
            else:  # a read again (a retried state build) proves nothing of the file before
                self._times.pop(name, None)

    def _none_after(self, source: str) -> Callable[[date], bool] | None:
        """Whether ``source`` is proven to hold no event after a given day."""
        fact = self._times.get(source)
        if fact is None:
            return None
        if isinstance(fact.high, datetime):  # a timestamp on the day itself is within it
            return lambda day: fact.never_after(datetime.combine(day + timedelta(days=1), time()))
        return fact.never_after

    def metrics(self, source: str, table: ir.Table) -> dict[str, Any]:
        """The aggregates of ``source`` for every date, named ``<metric>__d<i>`` past one date."""
        out: dict[str, Any] = {}
        for i, day in enumerate(self.dates):
            planned = feature_module.plan(self.project.spec, source, table,
                                          self.members[source], as_of=day,
                                          none_after=self._none_after(source))
            self._plans[(source, day)] = planned
            if source in self.kept:
                assert len(self.dates) == 1
                self._scales[source] = increments.scales(self.project.spec, self.kept[source],
                                                         table)
                return increments.state_metrics(self.project.spec, table,
                                                self.kept[source], as_of=day)
            suffix = f"__d{i}" if len(self.dates) > 1 else ""
            out.update({f"{k}{suffix}": v for k, v in planned.metrics.items()})
        return out

    def metric_builders(self) -> dict[str, Any]:
        """``metrics`` bound per event source, as the checks take them."""
        return {s: (lambda table, s=s: self.metrics(s, table)) for s in self.members}

    def features(self, tables: dict[str, ir.Table], grouped: dict[str, ir.Table], *,
                 day: date, outer: bool = False) -> ir.Table:
        """The feature table as of ``day`` from the clean tables and the grouped aggregates."""
        i = self.dates.index(day)
        spec = self.project.spec
        aggregates = {}
        for source in self.members:
            planned = self._plans[(source, day)]
            g = grouped[source]
            if source in self.kept:
                g = g.mutate(**increments.finished(spec, self.members[source], g,
                                                   self._scales[source]))
            if len(self.dates) > 1:
                g = g.select("_key", **{k: g[f"{k}__d{i}"] for k in planned.metrics})
            keep = [c for c in g.columns if c.startswith("__")] if outer else ()
            aggregates[source] = feature_module.finish(spec, planned, g, tables[source],
                                                       as_of=day, keep=keep)
        return feature_table(spec, tables, as_of=day, indicators=self.indicators,
                             aggregates=aggregates, outer=outer)


def load_inputs(
    project: Project,
    engine: Engine,
    *,
    as_of: date,
    drop_bad_rows: bool = False,
    sources: list[str] | None = None,
) -> tuple[dict[str, ir.Table], QualityReport]:
    """Read and check the sources (all, or the named ones plus customers) into ``engine``.

    All: every source but the linkage systems' member tables, whose ids are no customer's
    (``tierwise link run`` checks them).
    """
    linkage = project.spec.linkage
    members = {s.source for s in linkage.systems.values()} if linkage else set()
    names = sources or [n for n in project.spec.sources if n not in members]
    if "customers" not in names:
        names = ["customers", *names]
    loaded = {n: reading.read(project, n, engine) for n in names}
    return check_sources(loaded, engine, as_of=as_of, drop_bad_rows=drop_bad_rows)


def prepare_features(
    project: Project,
    engine: Engine,
    *,
    as_of: date,
    indicators: list[str],
    drop_bad_rows: bool = False,
    keep_state: bool = False,
) -> Features:
    """Load and check the sources the indicators need, and build the feature table.

    ``keep_state``: a run's features, which use and keep per-customer state when the project
    says ``incremental: true`` (:mod:`tierwise.services.state`).

    Without ``drop_bad_rows`` the checks, the indicators of each event source and the join to
    the customers are one statement (:func:`~tierwise.sources.checks.check_and_build`), and the
    feature table returned is already materialized in the engine. Dropping bad rows must know
    which rows are bad before aggregating, so it checks first and aggregates the clean rows after.
    """
    plan = FeaturePlan(project, indicators, [as_of])
    if keep_state and project.spec.incremental and not drop_bad_rows:
        from tierwise.services import state

        return state.prepare(project, engine, plan, as_of=as_of)
    if drop_bad_rows:
        tables, quality = load_inputs(project, engine, as_of=as_of, drop_bad_rows=True,
                                      sources=plan.sources)
        return Features(feature_table(project.spec, tables, as_of=as_of,
                                      indicators=plan.indicators), quality)

    def build(tables: dict[str, ir.Table], grouped: dict[str, ir.Table], outer: bool
              ) -> ir.Table:
        return plan.features(tables, grouped, day=as_of, outer=outer)

    # The checks, the indicators and the join to the customers in one statement.
    _, table, quality = check_and_build(plan.load(engine), engine, as_of=as_of,
                                        metrics=plan.metric_builders(), build=build)
    return Features(table, quality, held=True)


def prepare_features_many(
    project: Project,
    engine: Engine,
    *,
    dates: list[date],
    indicators: list[str],
    checked: date | None = None,
    events_upto: date | None = None,
) -> dict[date, Features]:
    """The feature tables of several as-of dates from one read, one check and one scan.

    Each event source is grouped by customer once, with every date's windowed aggregates side by
    side (a backfill of eight month-ends costs about a third per date of eight separate scans).
    The checks run as of ``checked`` (default: the latest date); events after an earlier date
    simply fall outside its windows, as they would in a run of that date with
    ``future_events: ignore``. ``events_upto``: read only the events on or before this date
    (see :func:`events_until`).
    """
    plan = FeaturePlan(project, indicators, dates)
    loaded = plan.load(engine)
    if events_upto is not None:
        loaded = events_until(loaded, events_upto)
    tables, grouped, quality = check_and_aggregate(
        loaded, engine, as_of=max([*plan.dates, checked or plan.dates[-1]]),
        metrics=plan.metric_builders())
    return {day: Features(plan.features(tables, grouped, day=day), quality)
            for day in plan.dates}


def events_until(loaded: dict[str, LoadedSource], day: date) -> dict[str, LoadedSource]:
    """Every timed event source cut to its events on or before ``day``.

    For features that need nothing later (a model's training date a horizon back): a Parquet
    file sorted by time is then read up to ``day`` only, its later row groups skipped. The
    rows cut are not checked here; the run that asks has checked every row already.
    """
    import dataclasses
    from datetime import datetime, time, timedelta

    import ibis

    out: dict[str, LoadedSource] = {}
    for name, source in loaded.items():
        column = source.spec.time
        if name != "customers" and column and column in source.typed.columns:
            when = source.typed[column]
            keep = (when <= ibis.date(day) if when.type().is_date() else
                    when < ibis.timestamp(datetime.combine(day + timedelta(days=1), time())))
            source = dataclasses.replace(source, typed=source.typed.filter(keep))
        out[name] = source
    return out


def check(project: Project, *, as_of: date | None = None) -> QualityReport:
    """The data-quality report of every source; never raises for bad rows."""
    with open_engine(project) as engine:
        try:
            _, report = load_inputs(project, engine, as_of=project.as_of(as_of))
        except DataError as exc:
            if isinstance(exc.report, QualityReport):
                return exc.report
            raise
        return report
