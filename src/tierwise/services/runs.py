"""Recorded runs: grade schemes as of a date and record them in the store, atomically.

A recorded run:

1. saves each scheme of the project as a version (a new one only when its grading content
   changed) and picks the version to grade: the one active on the as-of date, or the one asked for;
2. skips a date already done (unless forced) and refuses to run beside a live run of the same date;
3. inserts its ``running`` rows, invisible to every reader;
4. loads, checks and computes the indicators once for all schemes, grades each scheme (a method
   that learns, ``cluster``, first fits its model, matching the previous official run's model),
   applies its stability policy against the previous official run, then the overrides in force;
5. writes grades, features and tier changes as Parquet into a staging folder renamed into place,
   with ``run.json`` (the spec as graded and any fitted model);
6. commits ``done`` with the per-tier counts in one transaction, superseding an earlier run of the
   same date.

A run killed anywhere before step 6 commits leaves only a ``running`` row and perhaps a folder
that no reader looks at; the next run marks the row abandoned and starts afresh.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import signal
import time
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from tierwise import methods
from tierwise.errors import ConflictError, SpecError, TierwiseError
from tierwise.indicators import CUSTOMER, required_indicators
from tierwise.methods.fitted import FittedModel
from tierwise.methods.margin import within_margin
from tierwise.policies.overrides import apply_overrides
from tierwise.policies.stability import apply_stability
from tierwise.reports.summary import TierRow, summary_from_counts
from tierwise.services import versions as version_service
from tierwise.services.grading import (
    GradeFacts,
    Project,
    _analyse,
    _check_one_grade,
    _engine,
    _staged,
    _write,
    grade_facts,
    grade_scheme,
    labelled_expr,
    prepare_features,
    prepare_features_many,
)
from tierwise.services.history_files import compact
from tierwise.sources.checks import QualityReport
from tierwise.spec.limits import check_as_of
from tierwise.spec.models import AggregateIndicatorSpec, RulesSchemeSpec, SchemeSpec
from tierwise.store import Store, default_url
from tierwise.store import overrides as store_overrides
from tierwise.store import runs as store_runs
from tierwise.store import schemes as store_schemes
from tierwise.store.runs import Run, TierCount
from tierwise.store.schemes import Version

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from tierwise.engine import Engine
    from tierwise.methods.rules import RuleAnalysis

Progress = Callable[[str], None]
FAULT_ENV = "TIERWISE_FAULT_POINT"


def fault_point(name: str) -> None:
    """Kill this process at the named point when ``TIERWISE_FAULT_POINT`` names it.

    This is how the crash tests prove atomicity: a run is killed with SIGKILL at each point in
    turn, and nothing of it may be visible afterwards.
    """
    if os.environ.get(FAULT_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def actor_name(given: str | None = None) -> str:
    """Who acts: the name given, else ``TIERWISE_USER``, else the operating-system user."""
    if given:
        return given
    try:
        return os.environ.get("TIERWISE_USER") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def open_store(project: Project) -> Store:
    """The project's store, migrated to the current schema."""
    return Store.open(default_url(project.root, project.spec.store))


@dataclass
class RunOutcome:
    """What a recorded run of one scheme did."""

    scheme: str
    as_of: date
    status: Literal["done", "skipped"]
    run: Run
    version: int
    folder: Path | None
    tiers: list[TierRow] = field(default_factory=list)
    counts: list[TierCount] = field(default_factory=list)
    quality: QualityReport | None = None
    analysis: RuleAnalysis | None = None
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    exports: list[Path] = field(default_factory=list)
    #: What a learning method fitted, as (label, text) lines (``methods.describe_model``).
    model: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class _Plan:
    name: str
    version: Version
    scheme: SchemeSpec
    official: bool
    notes: list[str]
    previous: Run | None = None
    run_id: int = 0


def run(
    project: Project,
    scheme_names: list[str],
    *,
    as_of: date | None = None,
    force: bool = False,
    version: int | None = None,
    drop_bad_rows: bool = False,
    export: list[str] | None = None,
    progress: Progress | None = None,
    actor: str | None = None,
    store: Store | None = None,
    allow_past: bool = False,
) -> list[RunOutcome]:
    """Grade ``scheme_names`` as of a date and record the runs in the store.

    Args:
        project: the project.
        scheme_names: the schemes to run; they share one load, check and feature table.
        as_of: the as-of date (default: the project's, else today).
        force: run again a date that is already done; the new run supersedes the old one.
        version: grade with this version number (one scheme only). A version that is not active
            on the date makes an unofficial run, which answers "what would it have given" and
            does not enter the history.
        drop_bad_rows: grade without the rows that fail a check.
        export: ``csv`` and/or ``xlsx`` files beside the Parquet files.
        progress: called with each step's name.
        actor: who runs it (default: ``TIERWISE_USER`` or the OS user).
        store: an open store (default: the project's).
        allow_past: let an official run come before the latest official run (backfill rebuilds).

    Returns:
        One outcome per scheme: ``done`` or ``skipped`` (date already done, not forced).

    Raises:
        ConflictError: a run of the same scheme and date is in progress, or an official run
            would come before the history's latest date.

    """
    step = progress or (lambda _: None)
    who = actor_name(actor)
    own_store = store is None
    st = store or open_store(project)
    try:
        return _run(project, list(dict.fromkeys(scheme_names)), project.as_of(as_of), force,
                    version, drop_bad_rows, export or [], step, who, st, allow_past)
    finally:
        if own_store:
            st.close()


def _plan(project: Project, st: Store, name: str, day: date, version: int | None, who: str
          ) -> _Plan:

    saved, created = version_service.save(st, project, name, actor=who, update_texts=False)
    notes = [f"saved tierwise.yaml's {name} as version {saved.number}"] if created else []
    if not created and version_service.texts_differ(saved, project, name):
        notes.append(f"{name}: tierwise.yaml's labels or texts differ from version "
                     f"{saved.number}'s; a run leaves them alone: record them with "
                     f"`tierwise scheme save {name}`")
    with st.connect() as conn:
        # save() activates a first version for every date, unless the scheme was first saved
        # elsewhere (an edit) and activated from a go-live date after ``day``.
        active = version_service.active_on(conn, name, day)
        chosen = store_schemes.version(conn, name, version) if version is not None else active
    if version is None and saved.number != active.number:
        notes.append(
            f"{name}: tierwise.yaml is version {saved.number}, but version {active.number} is "
            f"active on {day} and grades; preview with `tierwise scheme preview {name}` and "
            f"activate with `tierwise scheme activate {name} {saved.number}`"
        )
    return _Plan(name, chosen, version_service.scheme_of(chosen), chosen.id == active.id, notes)


class FeatureSource(Protocol):
    """Computes a run's feature table in an engine (a backfill shares one scan among dates)."""

    def __call__(self, project: Project, engine: Engine, day: date, indicators: list[str]
                 ) -> tuple[ir.Table, QualityReport]:
        """The features as of ``day`` and the data-quality report."""
        ...


def _run(project: Project, names: list[str], day: date, force: bool, version: int | None,
         drop_bad_rows: bool, export: list[str], step: Progress, who: str, st: Store,
         allow_past: bool, engine: Engine | None = None,
         features: FeatureSource | None = None) -> list[RunOutcome]:
    if not names:
        raise SpecError("name at least one scheme to run")
    check_as_of(day)
    if version is not None and len(names) != 1:
        raise SpecError("--version picks a version of one scheme; run one scheme with it")
    for fmt_name in export:
        if fmt_name not in ("csv", "xlsx"):
            raise SpecError(f"unknown export format {fmt_name!r}; use csv or xlsx")
    plans = [_plan(project, st, n, day, version, who) for n in names]
    outcomes: list[RunOutcome] = []
    todo: list[_Plan] = []
    with st.begin() as conn:
        for plan in plans:
            store_schemes.lock(conn, plan.name)  # two starts of one scheme queue here
            alive = store_runs.abandon_dead(conn, plan.name, actor=who)
            same_day = [r for r in alive if r.as_of == day]
            if same_day:
                r = same_day[0]
                raise ConflictError(
                    f"run {r.id} of {plan.name!r} as of {day} is in progress (started by "
                    f"{r.started_by} at {r.started_at:%Y-%m-%d %H:%M}); wait for it to finish"
                )
            done = store_runs.listing(conn, plan.name, statuses=(store_runs.DONE,),
                                      version_id=None if plan.official else plan.version.id,
                                      official=plan.official, as_of=day)
            if done and not force:
                outcomes.append(RunOutcome(
                    plan.name, day, "skipped", done[-1], done[-1].version,
                    Path(done[-1].folder) if done[-1].folder else None,
                    counts=store_runs.tier_counts(conn, done[-1].id),
                    notes=[*plan.notes, f"{plan.name} as of {day} is already done (run "
                           f"{done[-1].id}); use --force to run it again"]))
                continue
            history = store_runs.history_runs(conn, plan.name)
            before = [r for r in history if r.as_of < day]
            later = [r for r in history if r.as_of > day]
            if plan.official and later and not allow_past:
                raise ConflictError(
                    f"{plan.name} already has official runs after {day} (latest "
                    f"{later[-1].as_of}); history is built forward, so an earlier date would "
                    f"leave the later runs' policies and changes stale. Use `tierwise backfill "
                    f"{plan.name} --from {day} --to {later[-1].as_of} --force` to rebuild from "
                    "that date"
                )
            plan.previous = before[-1] if before else None
            plan.run_id = store_runs.start(conn, plan.name, version_id=plan.version.id,
                                           as_of=day, official=plan.official, forced=force,
                                           actor=who)
            todo.append(plan)
        fault_point("in_start")
    fault_point("after_start")
    if not todo:
        return outcomes
    try:
        def single(project: Project, engine: Engine, day: date, indicators: list[str]
                   ) -> tuple[ir.Table, QualityReport]:
            return prepare_features(project, engine, as_of=day, indicators=indicators,
                                    drop_bad_rows=drop_bad_rows)

        outcomes.extend(_grade_and_record(project, todo, day, export, step, who, st,
                                          engine, features or single))
    except BaseException as exc:
        message = str(exc) if isinstance(exc, TierwiseError) else f"{type(exc).__name__}: {exc}"
        with st.begin() as conn:
            for plan in todo:
                if store_runs.get(conn, plan.run_id).status == store_runs.RUNNING:
                    store_runs.fail(conn, plan.run_id, actor=who, error=message)
        raise
    return outcomes


def _project_for(project: Project, plans: list[_Plan]) -> Project:
    """The project with the indicator definitions the versions were saved with."""
    merged: dict[str, Any] = {}
    for plan in plans:
        for name, spec in version_service.indicators_of(plan.version).items():
            if name in merged and merged[name] != spec:
                raise ConflictError(
                    f"indicator {name!r} is defined differently in the versions being run "
                    f"together ({', '.join(p.name for p in plans)}); run these schemes one by one"
                )
            merged[name] = spec
    updated = project.spec.model_copy(
        update={"indicators": {**project.spec.indicators, **merged}})
    return Project(updated, project.root)


def _grade_and_record(project: Project, plans: list[_Plan], day: date, export: list[str],
                      step: Progress, who: str, st: Store, shared_engine: Engine | None,
                      compute: FeatureSource) -> list[RunOutcome]:
    clock = time.perf_counter()

    def lap(timings: dict[str, float], name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(now - clock, 4)
        clock = now

    shared: dict[str, float] = {}
    graded_project = _project_for(project, plans)
    wanted = list(dict.fromkeys(n for p in plans for n in methods.scheme_indicators(p.scheme)))
    outcomes = []
    opened = nullcontext(shared_engine) if shared_engine else _engine(graded_project)
    with opened as engine:
        step("loading and checking sources, computing indicators")
        features, quality = compute(graded_project, engine, day, wanted)
        with engine.scope():
            features = engine.materialize("features", features)
            fault_point("after_features")
            lap(shared, "check_and_indicators")
            customers = int(engine.execute(features.count()))
            data_print = data_fingerprint(graded_project)
            written: dict[tuple[str, ...], Path] = {}  # features files, by their columns
            for plan in plans:
                with engine.scope():  # this scheme's tables go when it is recorded
                    outcomes.append(_record_one(
                        engine, st, plan, features, day, customers, quality, export, step,
                        who, project, graded_project, data_print, shared, lap, written))
    return outcomes


def _record_one(engine: Engine, st: Store, plan: _Plan, features: ir.Table, day: date,
                customers: int, quality: QualityReport, export: list[str], step: Progress,
                who: str, project: Project, graded_project: Project, data_print: str,
                shared: dict[str, float], lap: Callable[[dict[str, float], str], None],
                written: dict[tuple[str, ...], Path]) -> RunOutcome:
    """Grade one scheme, write its files and commit its run.

    ``written``: the features files already written by this run's other schemes, by their
    columns; a scheme using the same columns links that file instead of writing it again.
    """
    timings: dict[str, float] = {}
    step(f"grading {plan.name}")
    folder = project.root / project.spec.output / plan.name / "runs" / str(plan.run_id)
    with _staged(folder) as staging:
        # The grades go into the run's staging folder as they are computed; the checks, the
        # counts and the changes then read that file (no copy of them held in the engine).
        grades, changes, analysis, excluded, model = _grade_one(
            engine, st, plan, features, day, graded_project, staging / "grades.parquet")
        facts = grade_facts(engine, grades, value=plan.scheme.value is not None)
        fault_point(f"after_grade:{plan.name}")
        _check_one_grade(facts, customers=customers - excluded)
        lap(timings, "grade")
        step(f"writing {plan.name}")
        used = required_indicators(graded_project.spec,
                                   methods.scheme_indicators(plan.scheme))
        info = {"run_id": plan.run_id, "version": plan.version.number,
                "official": plan.official, "data_fingerprint": data_print,
                "customers": facts.rows}
        if model is not None:
            info["model"] = model
        extra = ({"changes.parquet": changes.order_by(CUSTOMER)}
                 if changes is not None else {})
        columns = (CUSTOMER, *used)
        exports = _write(staging, folder, engine, features.select(*columns),
                         plan.scheme, plan.name, day, export, extra=extra, info=info,
                         fault=fault_point, features_file=written.get(columns))
        # Before the rename: a first run's changes are read from the staged grades file.
        counts = _tier_counts(engine, facts, changes, plan.scheme)
    written.setdefault(columns, folder / "features.parquet")
    fault_point(f"after_write:{plan.name}")
    lap(timings, "write")
    with st.begin() as conn:
        fault_point(f"in_commit:{plan.name}")
        finished = store_runs.finish(
            conn, plan.run_id, actor=who,
            folder=str(folder), customers=facts.rows,
            data_fingerprint=data_print,
            counts={"rows": quality.rows, "customers": facts.rows,
                    **_sources(facts)},
            timings={**shared, **timings}, tiers=counts)
        fault_point(f"before_commit:{plan.name}")
    fault_point(f"after_commit:{plan.name}")
    if plan.official:
        step(f"compacting the history of {plan.name}")
        try:
            compact(st, plan.name)
        except Exception as exc:  # the run is done; lookups read the change files
            plan.notes.append(f"{plan.name}: merging the history files failed "
                              f"({exc}); history stays complete, lookups are slower")
    return RunOutcome(
        plan.name, day, "done", finished, plan.version.number, folder,
        summary_from_counts(facts.by_tier, methods.scheme_tiers(plan.scheme),
                            value=plan.scheme.value),
        counts, quality, analysis, plan.notes, {**shared, **timings}, exports,
        methods.describe_model(plan.scheme, model))


def _grade_one(engine: Engine, st: Store, plan: _Plan, features: ir.Table, day: date,
               project: Project, path: Path
               ) -> tuple[ir.Table, ir.Table | None, RuleAnalysis | None, int,
                          FittedModel | None]:
    """Grade, apply the stability policy and the overrides, and write the grades to ``path``.

    Returns the grades (read from ``path``), changes, rule analysis, exclusions, and the model
    the method fitted (None for methods that learn nothing), for the run's ``run.json``.
    """
    import ibis

    scheme = plan.scheme
    tiers = methods.scheme_tiers(scheme)
    previous = None
    if plan.previous is not None and plan.previous.folder:
        previous = engine.read_parquet(f"previous_{plan.run_id}",
                                       Path(plan.previous.folder) / "grades.parquet")
    margin = None
    policy = scheme.stability
    raw, model = grade_scheme(project, engine, scheme, features, as_of=day,
                              previous_model=_previous_model(plan))
    if previous is not None and policy is not None and policy.downgrade_margin > 0:
        # Read twice (policy and margin): computed once. Otherwise the method's grades flow
        # straight into the one table this run materializes.
        raw = engine.materialize(f"raw_{plan.run_id}", raw)
        ranks = ibis.memtable({"_key": [t.key for t in tiers],
                               "_rank": list(range(1, len(tiers) + 1))})
        prev = previous.select(_pid=previous[CUSTOMER], held_tier=previous.policy_tier)
        prev = prev.join(ranks, prev.held_tier == ranks._key).select("_pid", "held_tier",
                                                                    "_rank")
        below = raw.join(prev, raw[CUSTOMER] == prev._pid).filter(
            lambda t: t.tier_rank > t._rank)
        held = below.select(CUSTOMER, "held_tier")
        margin = within_margin(scheme, features, held, policy.downgrade_margin, as_of=day,
                               scores=raw)
    stable = apply_stability(raw, previous, tiers, policy, as_of=day, within_margin=margin)
    with st.connect() as conn:
        in_force = store_overrides.in_force(conn, plan.name, day)
    overrides = None
    excluded = 0
    if in_force:
        import pyarrow as pa

        overrides = engine.register_arrow(f"overrides_{plan.run_id}", pa.table({
            "override_id": pa.array([o.id for o in in_force], pa.int64()),
            CUSTOMER: pa.array([o.customer_id for o in in_force], pa.string()),
            "kind": pa.array([o.kind for o in in_force], pa.string()),
            "tier": pa.array([o.tier for o in in_force], pa.string()),
        }))
        excludes = overrides.filter(overrides.kind == "exclude")
        excluded = int(engine.execute(
            excludes.semi_join(features, excludes[CUSTOMER] == features[CUSTOMER]).count()))
    engine.write_parquet(labelled_expr(apply_overrides(stable, overrides, tiers), tiers), path)
    final = engine.read_parquet(f"final_{plan.run_id}", path)
    fault_point(f"after_policy:{plan.name}")
    analysis = None
    if isinstance(scheme, RulesSchemeSpec):
        wins = engine.to_arrow(final.group_by("computed_tier").aggregate(n=final.count()))
        analysis = _analyse(engine, scheme, features,
                            {w["computed_tier"]: int(w["n"]) for w in wins.to_pylist()},
                            as_of=day)
    changes = None
    if plan.official:
        changes = _changes(final, previous, plan, day)
        if previous is not None:
            # A join with the previous run: computed once for the file and the counts. A first
            # run's changes are its grades, cheaper to select again than to store twice.
            changes = engine.materialize(f"changes_{plan.run_id}", changes)
    return final, changes, analysis, excluded, model


def _previous_model(plan: _Plan) -> FittedModel | None:
    """The model saved in the previous official run's ``run.json``, if it has one.

    A cluster scheme passes it to its fit, so its clusters keep their tiers across runs. A
    previous run without a readable ``run.json`` (or without a model) gives None: the fit then
    keys its clusters afresh, and says so in its model.
    """
    if plan.previous is None or not plan.previous.folder:
        return None
    try:
        info = json.loads((Path(plan.previous.folder) / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    model = info.get("model") if isinstance(info, dict) else None
    if not isinstance(model, dict):
        return None
    artifact, named = None, model.get("artifact")
    if isinstance(named, dict) and isinstance(named.get("file"), str):
        # The method checks the bytes against the recorded SHA-256 before it trusts them.
        path = Path(plan.previous.folder) / Path(named["file"]).name
        try:
            artifact = path.read_bytes()
        except OSError:
            artifact = None
    return methods.load_model(plan.scheme, model, artifact)


def _changes(final: ir.Table, previous: ir.Table | None, plan: _Plan, day: date) -> ir.Table:
    """The customers whose tier differs from the previous official run: the history rows."""
    import ibis

    run_id = ibis.literal(plan.run_id, "int64")
    on = ibis.literal(day, "date")
    if previous is None:
        return final.select(
            CUSTOMER, "tier", "tier_rank", "source", "override_id",
            prev_tier=ibis.null("string"), prev_rank=ibis.null("int64"),
            change=ibis.literal("entry"), run_id=run_id, as_of=on)
    prev = previous.select(_pid=previous[CUSTOMER], prev_tier=previous.tier,
                           prev_rank=previous.tier_rank.cast("int64"))
    joined = final.outer_join(prev, final[CUSTOMER] == prev._pid)
    change = (
        ibis.cases(
            (joined.prev_tier.isnull(), "entry"),
            (joined.tier.isnull(), "exit"),
            (joined.tier_rank < joined.prev_rank, "up"),
            else_="down",
        )
    )
    return joined.filter(
        joined.tier.isnull() | joined.prev_tier.isnull() | (joined.tier != joined.prev_tier)
    ).select(
        customer_id=ibis.coalesce(joined[CUSTOMER], joined._pid),
        tier=joined.tier, tier_rank=joined.tier_rank.cast("int64"),
        source=ibis.coalesce(joined.source, ibis.literal("computed")),
        override_id=joined.override_id, prev_tier=joined.prev_tier, prev_rank=joined.prev_rank,
        change=change, run_id=run_id, as_of=on,
    )


def _sources(facts: GradeFacts) -> dict[str, int]:
    out: dict[str, int] = {}
    for (_, source), n in facts.by_source.items():
        out[f"source_{source}"] = out.get(f"source_{source}", 0) + n
    return out


def _tier_counts(engine: Engine, facts: GradeFacts, changes: ir.Table | None,
                 scheme: SchemeSpec) -> list[TierCount]:
    """Per tier: customers by how they got the tier, value, and moves in and out."""
    entered: dict[str, int] = {}
    left: dict[str, int] = {}
    if changes is not None:
        for key, into in (("tier", entered), ("prev_tier", left)):
            moved = changes.filter(changes[key].notnull())
            rows = engine.to_arrow(moved.group_by(key).aggregate(n=moved.count())).to_pylist()
            into.update({r[key]: int(r["n"]) for r in rows})
    out = []
    for rank, tier in enumerate(methods.scheme_tiers(scheme), start=1):
        n = {s: facts.by_source.get((tier.key, s), 0) for s in ("computed", "policy", "override")}
        count, value = facts.by_tier.get(tier.key, (0, 0.0 if scheme.value else None))
        out.append(TierCount(tier.key, rank, count, n["computed"], n["policy"], n["override"],
                             value, entered.get(tier.key, 0), left.get(tier.key, 0)))
    return out


def data_fingerprint(project: Project) -> str:
    """A fingerprint of the input data: each file source's size and modification time.

    Hashing the bytes of 100M transactions would take longer than grading them; size plus
    nanosecond mtime changes whenever a file is rewritten. Database sources contribute their
    location and query, without passwords.
    """
    parts: list[Any] = []
    for name, source in sorted(project.spec.sources.items()):
        if source.path:
            path = project.root / source.path
            try:
                stat = path.stat()
                parts.append([name, str(path), stat.st_size, stat.st_mtime_ns])
            except OSError:
                parts.append([name, str(path), None, None])
        else:
            import sqlalchemy as sa

            url = sa.make_url(source.url).render_as_string(hide_password=True) if source.url \
                else None
            parts.append([name, url, source.table, source.query])
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()


def backfill_dates(start: date, end: date, every: str = "month") -> list[date]:
    """As-of dates from ``start`` to ``end``: month ends (``month``), or every ``N`` days."""
    from dateutil.relativedelta import relativedelta

    check_as_of(start, what="--from")
    check_as_of(end, what="--to")
    if end < start:
        raise SpecError(f"--to {end} is before --from {start}; swap them")
    out = []
    if every == "month":
        step = 0
        while (d := start + relativedelta(months=step, day=31)) <= end:
            out.append(d)
            step += 1
    elif every.endswith("d") and every[:-1].isdigit() and int(every[:-1]) > 0:
        d = start
        while d <= end:
            out.append(d)
            d = date.fromordinal(d.toordinal() + int(every[:-1]))
    else:
        raise SpecError(f"--every {every!r} is not understood; use month or a number of days "
                        "such as 7d")
    return [d for d in out if start <= d <= end]


def backfill(
    project: Project,
    scheme_names: list[str],
    dates: Iterable[date],
    *,
    force: bool = False,
    progress: Progress | None = None,
    actor: str | None = None,
) -> list[RunOutcome]:
    """Run schemes for a series of as-of dates in order, each one a recorded run.

    With ``force``, dates already done are run again, and so is every later official date, so the
    history after a corrected date is rebuilt rather than left stale.
    """
    st = open_store(project)
    # Grading past dates from today's extracts: later events are expected, not errors.
    sources = {name: source.model_copy(update={"future_events": "ignore"}) if source.time
               else source for name, source in project.spec.sources.items()}
    project = Project(project.spec.model_copy(update={"sources": sources}), project.root)
    try:
        wanted = sorted(set(dates))
        if force and wanted:
            with st.connect() as conn:
                for name in scheme_names:
                    try:
                        later = [r.as_of for r in store_runs.history_runs(conn, name)
                                 if r.as_of > wanted[0]]
                    except TierwiseError:
                        later = []
                    wanted = sorted(set(wanted) | set(later))
        outcomes: list[RunOutcome] = []
        for batch in _batches(project, scheme_names, wanted):
            with _engine(project) as engine:
                shared = _SharedScan(batch)
                for day in batch:
                    if progress:
                        progress(f"as of {day}")
                    outcomes.extend(_run(
                        project, list(dict.fromkeys(scheme_names)), day, force, None, False, [],
                        progress or (lambda _: None), actor_name(actor), st, force, engine,
                        shared))
        return outcomes
    finally:
        st.close()



# Windowed aggregates per scan in a backfill: more dates per scan save reads, but each date adds
# its aggregates to every customer's row. At 10M customers and 3 aggregates per date, 8 dates per
# scan peaked at 9.8 GiB and 5 dates at 5.5 GiB (17 s per date either way), so 16.
_METRICS_PER_SCAN = 16


def _batches(project: Project, names: list[str], days: list[date]) -> list[list[date]]:
    """Split backfill dates into groups computed by one scan each."""
    wanted = {n for name in names for n in methods.scheme_indicators(project.scheme(name))}
    per_date = max(1, sum(
        1 for n in required_indicators(project.spec, sorted(wanted))
        if isinstance(project.spec.indicators[n], AggregateIndicatorSpec)))
    size = max(1, min(12, _METRICS_PER_SCAN // per_date))
    return [days[i:i + size] for i in range(0, len(days), size)]


class _SharedScan:
    """Features of a batch of backfill dates, computed together on first use.

    A date whose versions use other indicator definitions than the first date's (an activation in
    the middle of the batch) is computed on its own.
    """

    def __init__(self, days: list[date]) -> None:
        self.days = days
        self.key: str | None = None
        self.done: dict[date, tuple[ir.Table, QualityReport]] = {}

    def __call__(self, project: Project, engine: Engine, day: date, indicators: list[str]
                 ) -> tuple[ir.Table, QualityReport]:
        key = json.dumps([sorted(indicators), {n: project.spec.indicators[n].model_dump(
            mode="json") for n in required_indicators(project.spec, indicators)}],
            sort_keys=True, default=str)
        if self.key is None:
            self.key = key
            pending = [d for d in self.days if d >= day]
            self.done = prepare_features_many(project, engine, dates=pending,
                                              indicators=indicators)
        if key == self.key and day in self.done:
            return self.done[day]
        return prepare_features(project, engine, as_of=day, indicators=indicators)
