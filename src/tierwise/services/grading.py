"""The grading use cases: check the data, run a scheme, explain one customer's grade.

A run loads and checks the sources, computes the scheme's indicators as of a date, grades, and
writes the grades and the indicator values as Parquet into ``<output>/<scheme>/<as_of>/``. The files
are written under temporary names and moved into place last, so a failed run leaves no output.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter

from tierwise import methods
from tierwise.engine import Engine, compile_sql, connect, run_sql
from tierwise.errors import DataError, NotFoundError, SpecError
from tierwise.indicators import CUSTOMER, feature_table, required_indicators
from tierwise.methods import rules as rules_method
from tierwise.methods.fitted import FittedModel
from tierwise.reports.summary import TierRow, summary_from_counts
from tierwise.services.sheets import write_csv, write_xlsx
from tierwise.sources.checks import QualityReport, check_sources
from tierwise.sources.read import load_source
from tierwise.spec import load_project
from tierwise.spec.limits import check_as_of
from tierwise.spec.models import (
    AggregateIndicatorSpec,
    ModelSchemeSpec,
    ProjectSpec,
    RulesSchemeSpec,
    SchemeSpec,
    TierSpec,
)
from tierwise.spec.names import check_scheme_name

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pyarrow as pa

Progress = Callable[[str], None]
_SCHEME: TypeAdapter[SchemeSpec] = TypeAdapter(SchemeSpec)


@dataclass(frozen=True)
class Project:
    """A loaded project: its spec and the folder its relative paths start from."""

    spec: ProjectSpec
    root: Path

    @classmethod
    def open(cls, path: str | Path = ".") -> Project:
        """Load and validate ``tierwise.yaml`` from a folder (or the file itself)."""
        spec, root = load_project(path)
        return cls(spec, root)

    def scheme(self, name: str) -> SchemeSpec:
        """The scheme called ``name``.

        Raises:
            SpecError: ``name`` breaks the scheme-name rule (:mod:`tierwise.spec.names`).
            NotFoundError: the project has no such scheme.

        """
        check_scheme_name(name)
        try:
            return self.spec.schemes[name]
        except KeyError:
            known = ", ".join(self.spec.schemes) or "none"
            raise NotFoundError(
                f"no scheme {name!r} in {self.root / 'tierwise.yaml'}; schemes: {known}"
            ) from None

    def as_of(self, given: date | None) -> date:
        """The as-of date: the one given, else the project's, else today.

        Raises:
            SpecError: the date is outside the dates tierwise grades
                (:data:`~tierwise.spec.limits.EARLIEST_AS_OF` to ``LATEST_AS_OF``).

        """
        return check_as_of(given or self.spec.as_of or date.today())

    def output_dir(self, scheme: str, as_of: date) -> Path:
        """Where a run of ``scheme`` as of ``as_of`` writes."""
        return self.root / self.spec.output / scheme / as_of.isoformat()


@dataclass
class RunResult:
    """What a run produced."""

    scheme: str
    as_of: date
    folder: Path
    customers: int
    tiers: list[TierRow]
    quality: QualityReport
    analysis: rules_method.RuleAnalysis | None = None
    timings: dict[str, float] = field(default_factory=dict)
    exports: list[Path] = field(default_factory=list)


@contextmanager
def _engine(project: Project) -> Iterator[Engine]:
    engine = connect(project.spec.engine, base=project.root)
    try:
        yield engine
    finally:
        engine.close()


def load_inputs(
    project: Project,
    engine: Engine,
    *,
    as_of: date,
    drop_bad_rows: bool = False,
    sources: list[str] | None = None,
) -> tuple[dict[str, ir.Table], QualityReport]:
    """Read and check the sources (all, or the named ones plus customers) into ``engine``."""
    names = sources or list(project.spec.sources)
    if "customers" not in names:
        names = ["customers", *names]
    loaded = {n: load_source(n, project.spec.sources[n], engine, base=project.root) for n in names}
    return check_sources(loaded, engine, as_of=as_of, drop_bad_rows=drop_bad_rows)


def prepare_features(
    project: Project,
    engine: Engine,
    *,
    as_of: date,
    indicators: list[str],
    drop_bad_rows: bool = False,
) -> tuple[ir.Table, QualityReport]:
    """Load and check the sources the indicators need, and build the feature table.

    Without ``drop_bad_rows`` the checks, the indicators of each event source and the join to
    the customers are one statement (:func:`~tierwise.sources.checks.check_and_build`), and the
    feature table returned is already materialized in the engine. Dropping bad rows must know
    which rows are bad before aggregating, so it checks first and aggregates the clean rows after.
    """
    from tierwise.indicators import features as feature_module
    from tierwise.sources.checks import check_and_build

    if drop_bad_rows:
        tables, quality = load_inputs(
            project, engine, as_of=as_of, drop_bad_rows=True,
            sources=_sources_for(project, indicators),
        )
        return feature_table(project.spec, tables, as_of=as_of, indicators=indicators), quality
    names = _sources_for(project, indicators)
    loaded = {n: load_source(n, project.spec.sources[n], engine, base=project.root)
              for n in ["customers", *[n for n in names if n != "customers"]]}
    members: dict[str, list[str]] = {}
    for name in required_indicators(project.spec, indicators):
        spec = project.spec.indicators[name]
        if isinstance(spec, AggregateIndicatorSpec):
            members.setdefault(spec.source, []).append(name)
    plans: dict[str, feature_module.AggregatePlan] = {}

    def metrics_of(source: str) -> Callable[[ir.Table], dict[str, Any]]:
        def build(table: ir.Table) -> dict[str, Any]:
            plans[source] = feature_module.plan(
                project.spec, source, table, members[source], as_of=as_of)
            return plans[source].metrics
        return build

    def build(tables: dict[str, ir.Table], grouped: dict[str, ir.Table], outer: bool
              ) -> ir.Table:
        aggregates = {
            s: feature_module.finish(
                project.spec, plans[s], grouped[s], tables[s], as_of=as_of,
                keep=[c for c in grouped[s].columns if c.startswith("__")] if outer else ())
            for s in members
        }
        return feature_table(project.spec, tables, as_of=as_of, indicators=indicators,
                             aggregates=aggregates, outer=outer)

    # The checks, the indicators and the join to the customers in one statement.
    _, features, quality = check_and_build(
        loaded, engine, as_of=as_of, metrics={s: metrics_of(s) for s in members}, build=build
    )
    return features, quality


def prepare_features_many(
    project: Project,
    engine: Engine,
    *,
    dates: list[date],
    indicators: list[str],
) -> dict[date, tuple[ir.Table, QualityReport]]:
    """The feature tables of several as-of dates from one read, one check and one scan.

    Each event source is grouped by customer once, with every date's windowed aggregates side by
    side (a backfill of eight month-ends costs about a third per date of eight separate scans).
    The checks run as of the latest date; events after an earlier date simply fall outside its
    windows, as they would in a run of that date with ``future_events: ignore``.
    """
    from tierwise.indicators import features as feature_module
    from tierwise.sources.checks import check_and_aggregate

    days = sorted(set(dates))
    names = _sources_for(project, indicators)
    loaded = {n: load_source(n, project.spec.sources[n], engine, base=project.root)
              for n in ["customers", *[n for n in names if n != "customers"]]}
    members: dict[str, list[str]] = {}
    for name in required_indicators(project.spec, indicators):
        spec = project.spec.indicators[name]
        if isinstance(spec, AggregateIndicatorSpec):
            members.setdefault(spec.source, []).append(name)
    plans: dict[tuple[str, date], feature_module.AggregatePlan] = {}

    def metrics_of(source: str) -> Callable[[ir.Table], dict[str, Any]]:
        def build(table: ir.Table) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for i, day in enumerate(days):
                planned = feature_module.plan(project.spec, source, table, members[source],
                                              as_of=day)
                plans[(source, day)] = planned
                out.update({f"{k}__d{i}": v for k, v in planned.metrics.items()})
            return out
        return build

    tables, grouped, quality = check_and_aggregate(
        loaded, engine, as_of=days[-1], metrics={s: metrics_of(s) for s in members}
    )
    result = {}
    for i, day in enumerate(days):
        aggregates = {}
        for source in members:
            planned = plans[(source, day)]
            g = grouped[source]
            one = g.select("_key", **{k: g[f"{k}__d{i}"] for k in planned.metrics})
            aggregates[source] = feature_module.finish(project.spec, planned, one,
                                                       tables[source], as_of=day)
        result[day] = (feature_table(project.spec, tables, as_of=day, indicators=indicators,
                                     aggregates=aggregates), quality)
    return result


def check(project: Project, *, as_of: date | None = None) -> QualityReport:
    """The data-quality report of every source; never raises for bad rows."""
    with _engine(project) as engine:
        try:
            _, report = load_inputs(project, engine, as_of=project.as_of(as_of))
        except DataError as exc:
            if isinstance(exc.report, QualityReport):
                return exc.report
            raise
        return report


def _sources_for(project: Project, indicators: list[str]) -> list[str]:
    from tierwise.indicators import required_indicators
    from tierwise.spec.models import AggregateIndicatorSpec

    out = []
    for name in required_indicators(project.spec, indicators):
        spec = project.spec.indicators[name]
        if isinstance(spec, AggregateIndicatorSpec) and spec.source not in out:
            out.append(spec.source)
    return out


def run(
    project: Project,
    scheme_name: str,
    *,
    as_of: date | None = None,
    drop_bad_rows: bool = False,
    export: list[str] | None = None,
    progress: Progress | None = None,
) -> RunResult:
    """Grade every customer with one scheme and write the results.

    Args:
        project: the project.
        scheme_name: the scheme to run.
        as_of: the as-of date (default: the project's, else today).
        drop_bad_rows: grade without rows that fail a check (counted in the report) instead of
            refusing to grade.
        export: extra formats to write beside the Parquet file: ``csv`` and/or ``xlsx``.
        progress: called with the name of each step as it starts.

    Raises:
        DataError: when a source fails its checks (and bad rows are kept).

    """
    return run_schemes(project, [scheme_name], as_of=as_of, drop_bad_rows=drop_bad_rows,
                       export=export, progress=progress)[0]


def run_schemes(
    project: Project,
    scheme_names: list[str],
    *,
    as_of: date | None = None,
    drop_bad_rows: bool = False,
    export: list[str] | None = None,
    progress: Progress | None = None,
) -> list[RunResult]:
    """Grade every customer with several schemes from one load, one check and one feature table.

    The sources are read and checked once and the union of the schemes' indicators is computed
    once; each scheme then grades the same feature table and writes its own results. Arguments
    are those of :func:`run`.
    """
    step = progress or (lambda _: None)
    if not scheme_names:
        raise SpecError("name at least one scheme to run")
    schemes = {name: project.scheme(name) for name in dict.fromkeys(scheme_names)}
    day = project.as_of(as_of)
    for fmt_name in export or []:
        if fmt_name not in ("csv", "xlsx"):
            raise SpecError(f"unknown export format {fmt_name!r}; use csv or xlsx")
    shared: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(timings: dict[str, float], name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = now - clock
        clock = now

    wanted = list(dict.fromkeys(n for scheme in schemes.values()
                                for n in methods.scheme_indicators(scheme)))
    results = []
    # Schemes that use the same indicators share one features file, written once and linked.
    written: dict[tuple[str, ...], Path] = {}
    with _engine(project) as engine:
        step("loading and checking sources, computing indicators")
        features, quality = prepare_features(
            project, engine, as_of=day, indicators=wanted, drop_bad_rows=drop_bad_rows
        )
        if drop_bad_rows:  # else the feature table is already held by the engine
            features = engine.materialize("features", features)
        customers = int(engine.execute(features.count()))
        lap(shared, "check_and_indicators")
        for name, scheme in schemes.items():
            timings: dict[str, float] = {}
            step(f"grading {name}")
            # A method that learns fits on the feature table first; a run without the store
            # has no previous run to keep cluster identities (or a model artifact) from.
            graded, model = grade_scheme(project, engine, scheme, features, as_of=day)
            folder = project.output_dir(name, day)
            with _staged(folder) as staging:
                # The grades are computed while their file is written and counted from the
                # file: holding 10M grades in the engine first cost 1.3 s more at 100M rows.
                engine.write_parquet(labelled_expr(graded, methods.scheme_tiers(scheme)),
                                     staging / "grades.parquet")
                grades = engine.read_parquet(f"grades_{name}", staging / "grades.parquet")
                facts = grade_facts(engine, grades, value=scheme.value is not None)
                _check_one_grade(facts, customers=customers)
                lap(timings, "grade")
                analysis = None
                if isinstance(scheme, RulesSchemeSpec):
                    step(f"analysing the rules of {name}")
                    analysis = _analyse(engine, scheme, features, facts.wins(), as_of=day)
                    lap(timings, "analysis")
                step(f"writing {name}")
                used = required_indicators(project.spec, methods.scheme_indicators(scheme))
                info: dict[str, Any] = {"customers": facts.rows}
                if model is not None:
                    info["model"] = model
                columns = (CUSTOMER, *used)
                exports = _write(staging, folder, engine, features.select(*columns), scheme,
                                 name, day, export or [], info=info,
                                 features_file=written.get(columns))
            written.setdefault(columns, folder / "features.parquet")
            lap(timings, "write")
            summary = summary_from_counts(facts.by_tier, methods.scheme_tiers(scheme),
                                          value=scheme.value)
            results.append(RunResult(name, day, folder, facts.rows, summary, quality,
                                     analysis, {**shared, **timings}, exports))
    return results


@dataclass(frozen=True)
class GradeFacts:
    """What a grade table holds, counted in the engine: rows, gaps, customers per tier.

    Attributes:
        rows: grades.
        missing_ids: grades without a customer id.
        missing_tiers: grades without a tier.
        by_tier: customers and the sum of the value indicator per tier key.
        by_source: customers per (tier, source) where grades say how the tier was reached.

    """

    rows: int
    missing_ids: int
    missing_tiers: int
    by_tier: dict[str, tuple[int, float | None]]
    by_source: dict[tuple[str, str], int]

    def wins(self) -> dict[str, int]:
        """Customers per tier."""
        return {k: n for k, (n, _) in self.by_tier.items()}


def grade_facts(engine: Engine, grades: ir.Table, *, value: bool) -> GradeFacts:
    """Count a grade table in the engine, in one grouped query over its tiers."""
    keys = ["tier", *(["source"] if "source" in grades.columns else [])]
    aggs: dict[str, Any] = {"_n": grades.count(),
                            "_no_id": grades.count(where=grades[CUSTOMER].isnull())}
    if value:
        aggs["_v"] = grades.value.sum()
    rows = engine.to_arrow(grades.group_by(keys).aggregate(**aggs)).to_pylist()
    by_tier: dict[str, tuple[int, float | None]] = {}
    by_source: dict[tuple[str, str], int] = {}
    missing_tiers = 0
    for row in rows:
        n = int(row["_n"])
        if row["tier"] is None:
            missing_tiers += n
            continue
        count, total = by_tier.get(row["tier"], (0, 0.0 if value else None))
        by_tier[row["tier"]] = (count + n, (total or 0.0) + float(row["_v"] or 0.0)
                                if value else None)
        if "source" in row:
            by_source[(row["tier"], row["source"])] = n
    return GradeFacts(sum(int(r["_n"]) for r in rows), sum(int(r["_no_id"]) for r in rows),
                      missing_tiers, by_tier, by_source)


def _check_one_grade(facts: GradeFacts, *, customers: int) -> None:
    """One grade per customer: as many grades as customers, none without an id or a tier.

    The customers are unique (a checked source), so equal counts mean one grade each; counting
    distinct ids of millions of customers would cost a second per scheme to say the same.
    """
    if facts.rows != customers or facts.missing_ids or facts.missing_tiers:
        raise DataError(
            f"grading produced {facts.rows} grades ({facts.missing_ids} without a customer, "
            f"{facts.missing_tiers} without a tier) for {customers} customers; this is a "
            "bug in tierwise, please report it with the scheme"
        )


def _analyse(
    engine: Engine, scheme: RulesSchemeSpec, features: ir.Table, wins: dict[str, int], *,
    as_of: date
) -> rules_method.RuleAnalysis:
    counts_expr, conds = rules_method.analysis_expr(scheme, features, as_of=as_of)
    row = engine.execute(counts_expr).iloc[0]
    counts = {k: int(row[k]) for k in row.index}
    return rules_method.analyse(scheme, counts, wins, conds)


def labelled_expr(grades: ir.Table, tiers: list[TierSpec]) -> ir.Table:
    """The grade table with the tier labels in English and Chinese beside the tier key."""
    import ibis

    def label(lang: str) -> ir.Value:
        if all(t.label_text(lang) == t.key for t in tiers):  # no labels given: the keys
            return grades.tier.cast("string")
        return grades.tier.cases(*((t.key, t.label_text(lang)) for t in tiers),
                                 else_=ibis.null("string"))

    columns: list[Any] = []
    for name in grades.columns:
        columns.append(grades[name])
        if name == "tier":
            columns += [label("en").name("tier_label_en"), label("zh").name("tier_label_zh")]
    return grades.select(*columns)


def labelled(grades: pa.Table, tiers: list[TierSpec]) -> pa.Table:
    """The grade table with the tier labels in English and Chinese beside the tier key."""
    import pyarrow as pa
    import pyarrow.compute as pc

    keys = pa.array([t.key for t in tiers])
    index = pc.index_in(grades["tier"], value_set=keys).combine_chunks()
    # Dictionary-encoded: a handful of labels repeated for millions of customers.
    en = pa.DictionaryArray.from_arrays(index, pa.array([t.label_text("en") for t in tiers]))
    zh = pa.DictionaryArray.from_arrays(index, pa.array([t.label_text("zh") for t in tiers]))
    at = grades.schema.get_field_index("tier") + 1
    return grades.add_column(at, "tier_label_zh", zh).add_column(at, "tier_label_en", en)


@contextmanager
def _staged(folder: Path) -> Iterator[Path]:
    """A staging folder beside ``folder``, renamed into its place when the block succeeds.

    It is removed when the block fails: a run's folder is whole or absent, never half-written.
    """
    staging = folder.with_name(f".{folder.name}.tmp-{os.getpid()}")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    try:
        yield staging
        if folder.exists():
            shutil.rmtree(folder)
        staging.rename(folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _write(
    staging: Path,
    folder: Path,
    engine: Engine,
    features: ir.Table,
    scheme: SchemeSpec,
    name: str,
    as_of: date,
    export: list[str],
    *,
    extra: dict[str, ir.Table] | None = None,
    info: dict[str, Any] | None = None,
    fault: Callable[[str], None] | None = None,
    features_file: Path | None = None,
) -> list[Path]:
    """Add a run's other files to ``staging``, which already holds its ``grades.parquet``.

    ``staging`` is the folder of the caller's :func:`_staged` block, renamed to ``folder`` when
    the block ends. The engine computes and encodes each file (the features, and ``extra``
    tables by file name, written in row groups of 64k rows in their own order), so no table of
    millions of rows passes through Python. ``info`` adds facts to ``run.json`` (``model``: what
    a learning method fitted, read back by the next recorded run); ``fault`` is called between
    the files with the name of the point reached (crash tests). ``features_file`` is a features
    file this run already wrote with the same columns (another scheme's): it is hard-linked (or
    copied) instead of written again.

    Returns:
        The export files, at their place in ``folder``.

    """
    import pyarrow.parquet as pq

    point = fault or (lambda _: None)
    if features_file is None or not _share(features_file, staging / "features.parquet"):
        engine.write_parquet(features, staging / "features.parquet")
    point(f"written_grades:{name}")
    for file_name, table in (extra or {}).items():
        engine.write_parquet(table, staging / file_name, row_group_size=65_536)
        point(f"written_{file_name}:{name}")
    names = ["grades.parquet", "features.parquet", *(extra or {})]
    if export:
        # Exports are for people: they carry the rendered reasons and gaps.
        readable = render_texts(scheme, pq.read_table(staging / "grades.parquet"),
                                pq.read_table(staging / "features.parquet"), as_of=as_of)
        if "csv" in export:
            write_csv(readable, staging / "grades.csv")
            names.append("grades.csv")
        if "xlsx" in export:
            write_xlsx(readable, staging / "grades.xlsx", name)
            names.append("grades.xlsx")
    info = dict(info or {})
    model = info.get("model")
    if isinstance(model, FittedModel):
        # A fitted model's binary artifact lies beside run.json, which names it.
        artifact = model.artifact
        if artifact is not None:
            (staging / ARTIFACT).write_bytes(artifact)
            names.append(ARTIFACT)
        info["model"] = model.to_json(artifact_file=ARTIFACT if artifact is not None else None)
    (staging / "run.json").write_text(
        json.dumps(
            {
                "scheme": name,
                "as_of": as_of.isoformat(),
                **info,
                # The spec as graded, so its texts render the same after the YAML changes.
                "spec": _SCHEME.dump_python(scheme, mode="json", by_alias=True),
            },
            ensure_ascii=False,
            indent=2,
        ),
        encoding="utf-8",
    )
    point(f"before_rename:{name}")
    return [folder / n for n in names if not n.endswith(".parquet")]


def _share(source: Path, target: Path) -> bool:
    """Put the file ``source`` at ``target`` too: a hard link, else a copy; False when neither.

    Run files are never changed in place (a rerun writes a new folder and renames it), so two
    folders may hold one file: removing either folder leaves the other's intact.
    """
    try:
        os.link(source, target)
        return True
    except OSError:
        pass
    try:
        shutil.copyfile(source, target)
        return True
    except OSError:
        target.unlink(missing_ok=True)
        return False


ARTIFACT = "model.artifact"


def grade_scheme(project: Project, engine: Engine, scheme: SchemeSpec, features: ir.Table, *,
                 as_of: date, previous_model: FittedModel | None = None
                 ) -> tuple[ir.Table, FittedModel | None]:
    """Fit what the scheme's method learns, then grade: how every service grades a scheme.

    A ``model`` scheme with an outcome target is trained here on the features as of
    T - horizon (the outcome's window) labelled with who reached the outcome's top share by T.
    Returns the grades and the fitted model (None for methods that learn nothing).
    """
    training = None
    if isinstance(scheme, ModelSchemeSpec) and scheme.target.outcome:
        training = _outcome_training(project, engine, scheme, as_of)
    model = methods.fit(scheme, features, as_of=as_of, previous_model=previous_model,
                        training=training)
    return methods.grade(scheme, features, as_of=as_of, model=model), model


def _outcome_training(project: Project, engine: Engine, scheme: ModelSchemeSpec, as_of: date
                      ) -> ir.Table:
    """Features as of T - horizon with ``_label``, the outcome by T in 1 or 0.

    1: the customer reached the outcome's top share (or, for ``event: none``, had none of the
    outcome over the window: a churn).
    """
    import ibis
    import numpy as np
    import pyarrow as pa

    from tierwise.indicators import window_bounds
    from tierwise.reports.evaluation import future_top

    outcome = str(scheme.target.outcome)
    spec = project.spec.indicators[outcome]
    assert isinstance(spec, AggregateIndicatorSpec) and spec.window is not None  # validated
    start, _ = window_bounds(spec.window, as_of)
    assert start is not None
    sources = {name: source.model_copy(update={"future_events": "ignore"}) if source.time
               else source for name, source in project.spec.sources.items()}
    past_project = Project(project.spec.model_copy(update={"sources": sources}), project.root)
    tables = prepare_features_many(past_project, engine, dates=[start, as_of],
                                   indicators=list(dict.fromkeys([*scheme.features, outcome])))
    then = tables[start][0]
    now = engine.to_arrow(tables[as_of][0].select(CUSTOMER, outcome).order_by(CUSTOMER))
    values = np.nan_to_num(now.column(outcome).to_numpy(zero_copy_only=False)
                           .astype(np.float64), nan=0.0)
    if scheme.target.event == "none":  # churn: nothing at all over the window
        top = values <= 0
    else:
        top, _ = future_top(values, scheme.target.top_share)
    labels = ibis.memtable(pa.table({"_lid": now.column(CUSTOMER).combine_chunks(),
                                     "_label": pa.array(top.astype(np.int64))}))
    joined = then.join(labels, then[CUSTOMER] == labels._lid)
    return engine.materialize(f"training_{id(scheme)}",
                              joined.select(CUSTOMER, *scheme.features, "_label"))


_TEXT_SQL: dict[str, str] = {}
_TEXT_SQL_LOCK = threading.Lock()


def render_texts(scheme: SchemeSpec, grades: pa.Table, features: pa.Table, *, as_of: date
                 ) -> pa.Table:
    """``grades`` with the ``reasons`` and ``gap`` texts, rendered on an embedded DuckDB.

    Rendering happens here, not in the engine that graded, so the texts read the same whatever
    engine ran and cost nothing for the customers nobody reads about. The text query is compiled
    once per scheme, date and table layout and kept: compiling it took about 0.3 s of Python,
    far more than running it for one customer on a customer page.
    """
    extra = [c for c in features.column_names if c not in grades.column_names]
    feats = features.select([CUSTOMER, *extra])
    key = json.dumps([_SCHEME.dump_python(scheme, mode="json", by_alias=True),
                      as_of.isoformat(), str(grades.schema), str(feats.schema)],
                     sort_keys=True, default=str)
    with _TEXT_SQL_LOCK:
        sql = _TEXT_SQL.get(key)
    if sql is None:
        sql = _text_sql(scheme, grades, feats, as_of=as_of)
        with _TEXT_SQL_LOCK:
            if len(_TEXT_SQL) > 256:
                _TEXT_SQL.clear()
            _TEXT_SQL[key] = sql
    return run_sql(sql, {"tw_grades": grades, "tw_features": feats})


def _text_sql(scheme: SchemeSpec, grades: pa.Table, features: pa.Table, *, as_of: date) -> str:
    import ibis

    g = ibis.table(ibis.Schema.from_pyarrow(grades.schema), name="tw_grades")
    f = ibis.table(ibis.Schema.from_pyarrow(features.schema), name="tw_features")
    table = methods.with_texts(scheme, g.join(f, CUSTOMER), as_of=as_of)
    if "policy" in grades.column_names:
        # A tier held by the stability policy says so first: "held in Gold: grace ...".
        from tierwise.policies.stability import policy_texts

        held = policy_texts(table, methods.scheme_tiers(scheme))
        table = table.mutate(reasons=ibis.coalesce(
            held.concat(" (computed: ", table.computed_tier.fill_null(""), "); ",
                        table.reasons.fill_null("")),
            table.reasons))
    expr = table.select(*grades.column_names, "reasons", "gap").order_by(CUSTOMER)
    return compile_sql(expr)


@dataclass(frozen=True)
class Explanation:
    """One customer's grade: tier, score, reasons, gap and the indicator values."""

    scheme: str
    as_of: date
    customer_id: str
    grade: dict[str, Any]
    indicators: dict[str, Any]
