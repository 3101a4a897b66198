"""History, point-in-time answers, run summaries, transitions and the impact preview.

A scheme's history is made of its done official runs in as-of order. Each of them wrote a
``changes.parquet`` with one row per customer whose tier changed (entries and exits included),
sorted by customer id, so one customer's whole history is a filtered read of a few row groups per
run. A grade is valid from its run's as-of date up to (not including) the as-of date of the next
change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from tierwise import methods
from tierwise.engine import connect, lookup_parquet
from tierwise.errors import NotFoundError, TierwiseError
from tierwise.i18n import _
from tierwise.indicators import CUSTOMER
from tierwise.reports.transitions import Grading, Transitions, transitions
from tierwise.services import versions as version_service
from tierwise.services.features import prepare_features
from tierwise.services.history_files import history_files
from tierwise.services.pipeline import grade_scheme
from tierwise.services.project import Project, open_engine
from tierwise.services.recording import described
from tierwise.services.runs import actor_name, open_store
from tierwise.services.runs import run as recorded_run
from tierwise.spec.models import ProjectSpec, SchemeSpec
from tierwise.spec.names import check_scheme_name
from tierwise.store import Store
from tierwise.store import runs as store_runs
from tierwise.store.runs import Run, TierCount


@dataclass(frozen=True)
class Spell:
    """One tier a customer held: valid from ``valid_from`` up to, not including, ``valid_to``."""

    tier: str
    tier_rank: int
    valid_from: date
    valid_to: date | None
    run_id: int
    version: int
    source: str
    change: str
    override_id: int | None


def history(store: Store, scheme: str, customer_id: str) -> list[Spell]:
    """Every tier ``customer_id`` held in ``scheme``, oldest first."""
    check_scheme_name(scheme)
    with store.read() as tx:
        runs = tx.runs.history_runs(scheme)
    by_id = {r.id: r for r in runs}
    files = history_files(runs)
    if not files:
        return []
    found = lookup_parquet(files, CUSTOMER, customer_id).to_pylist()
    # Rows of runs no longer in the history (superseded since a compaction) are left out.
    rows = sorted((r for r in found if r["run_id"] in by_id),
                  key=lambda r: (r["as_of"], r["run_id"]))
    spells: list[Spell] = []
    for i, r in enumerate(rows):
        if r["tier"] is None:
            continue
        end = rows[i + 1]["as_of"] if i + 1 < len(rows) else None
        spells.append(Spell(r["tier"], int(r["tier_rank"]), r["as_of"], end, int(r["run_id"]),
                            by_id[r["run_id"]].version, r["source"], r["change"],
                            r["override_id"]))
    return spells


def tier_on(store: Store, scheme: str, customer_id: str, day: date) -> Spell | None:
    """The tier ``customer_id`` held in ``scheme`` on ``day`` (None: not graded then)."""
    for spell in history(store, scheme, customer_id):
        if spell.valid_from <= day and (spell.valid_to is None or day < spell.valid_to):
            return spell
    return None


def grade_in_run(run: Run, customer_id: str) -> dict[str, Any] | None:
    """The stored grade of one customer in one run."""
    import pyarrow.parquet as pq

    if not run.folder:
        return None
    table = pq.read_table(Path(run.folder) / "grades.parquet",
                          filters=[(CUSTOMER, "=", customer_id)])
    rows = table.to_pylist()
    return rows[0] if rows else None


def what_version_gives(project: Project, scheme: str, number: int, customer_id: str, day: date,
                       *, actor: str | None = None) -> tuple[Run, dict[str, Any] | None]:
    """What version ``number`` gives ``customer_id`` as of the history date covering ``day``.

    The as-of date is that of the official run in force on ``day`` (or ``day`` itself when the
    history has none). An existing run of the version on that date answers; otherwise the version
    is graded now as an unofficial run, which is recorded but never enters the history.
    """
    store = open_store(project)
    try:
        with store.read() as tx:
            history_runs = [r for r in tx.runs.history_runs(scheme) if r.as_of <= day]
            as_of = history_runs[-1].as_of if history_runs else day
            target = tx.schemes.version(scheme, number)
            done = tx.runs.listing(scheme, statuses=(store_runs.DONE,),
                                      version_id=target.id, as_of=as_of)
        if done:
            found = done[-1]
        else:
            found = recorded_run(project, [scheme], as_of=as_of, version=number, store=store,
                                 actor=actor)[0].run
        return found, grade_in_run(found, customer_id)
    finally:
        store.close()


@dataclass(frozen=True)
class RunSummary:
    """A run with its per-tier counts."""

    run: Run
    tiers: list[TierCount]


def summary(store: Store, run_id: int) -> RunSummary:
    """A run's summary, read from the store (no Parquet file is opened)."""
    with store.read() as tx:
        return RunSummary(tx.runs.get(run_id), tx.runs.tier_counts(run_id))


def fitted_model(run: Run, project: ProjectSpec | None = None) -> list[tuple[str, str]]:
    """What the run's method fitted, as (label, text) lines; none for methods that learn nothing.

    Read from the run's ``run.json`` (the spec as graded and the model); a run whose file is
    missing or unreadable has nothing to show. With the ``project``, indicators are named by
    their labels in the current language.
    """
    import json

    from tierwise.services.texts import SCHEME_ADAPTER

    if not run.folder:
        return []
    try:
        info = json.loads((Path(run.folder) / "run.json").read_text(encoding="utf-8"))
        model = info.get("model")
        if not isinstance(model, dict):
            return []
        return described(project, SCHEME_ADAPTER.validate_python(info["spec"]), model)
    except (OSError, ValueError, KeyError):
        return []


def latest_run(store: Store, scheme: str, as_of: date | None = None) -> Run:
    """The official run of ``scheme`` as of ``as_of``, or its latest.

    Raises:
        SpecError: ``scheme`` breaks the scheme-name rule (:mod:`tierwise.spec.names`).
        NotFoundError: the scheme has no finished official run (as of that date).

    """
    check_scheme_name(scheme)
    with store.read() as tx:
        runs = tx.runs.history_runs(scheme)
    if as_of is not None:
        runs = [r for r in runs if r.as_of == as_of]
    if not runs:
        when = _(" as of {as_of}").format(as_of=as_of) if as_of else ""
        raise NotFoundError(
            _("scheme {scheme!r} has no finished run{when}; run `tierwise run {scheme}{as_of_option}` "
              "first").format(scheme=scheme, when=when,
                as_of_option=' --as-of ' + str(as_of) if as_of else '')
        )
    return runs[-1]


def compare_runs(store: Store, old: Run, new: Run, *, limit: int = 20,
                 movers_of: set[str] | None = None) -> Transitions:
    """Transitions from run ``old`` to run ``new``, with the indicator changes of the movers.

    ``movers_of``: list only these customers as movers (a manager's); counts cover everyone.
    """
    if not old.folder or not new.folder:
        raise TierwiseError(_("both runs must be finished to compare them"))
    with store.read() as tx:
        spec = version_service.scheme_of(tx.schemes.version_by_id(new.version_id))
    indicators = list(dict.fromkeys(methods.scheme_indicators(spec)))
    engine = connect()
    try:
        a = engine.read_parquet("old_grades", Path(old.folder) / "grades.parquet")
        b = engine.read_parquet("new_grades", Path(new.folder) / "grades.parquet")
        fa = engine.read_parquet("old_features", Path(old.folder) / "features.parquet")
        fb = engine.read_parquet("new_features", Path(new.folder) / "features.parquet")
        only = None
        if movers_of is not None:
            import pyarrow as pa

            only = engine.register_arrow("movers_of", pa.table(
                {CUSTOMER: pa.array(sorted(movers_of), pa.string())}))
        return transitions(engine, Grading(a, fa), Grading(b, fb),
                           indicators=indicators, limit=limit, movers_of=only)
    finally:
        engine.close()


def previous_run(store: Store, run: Run) -> Run:
    """The official run before ``run`` in its scheme's history."""
    with store.read() as tx:
        earlier = [r for r in tx.runs.history_runs(run.scheme) if r.as_of < run.as_of]
    if not earlier:
        raise NotFoundError(_("run {id} is the first run of {scheme!r}; nothing before it").format(
            id=run.id,
                                scheme=run.scheme))
    return earlier[-1]


def with_indicators(project: Project, version: Any) -> Project:
    """The project with the indicator definitions a version was saved with."""
    return Project(project.spec.model_copy(update={"indicators": {
        **project.spec.indicators, **version_service.indicators_of(version)}}), project.root)


def compare_schemes(old_project: Project, old_spec: SchemeSpec, new_project: Project,
                    new_spec: SchemeSpec, *, as_of: date, samples: int = 5,
                    timeout: float | None = None) -> tuple[Transitions, list[str]]:
    """Grade two schemes on the same data and compare the computed tiers.

    Each side computes its features with its own project (its indicator definitions). Returns
    the transitions and the tier keys of both, the new scheme's first.

    Raises:
        QueryTimeout: when grading and comparing ran past ``timeout`` seconds (None: no limit).
    """
    sides = []
    with open_engine(new_project) as engine, engine.time_limit(
            timeout, what="the preview",
            hint=_("preview from the command line (tierwise scheme preview), which has no limit")):
        sides_in = (("old", old_project, old_spec), ("new", new_project, new_spec))
        for tag, graded_project, spec in sides_in:
            built = prepare_features(graded_project, engine, as_of=as_of,
                                     indicators=methods.scheme_indicators(spec))
            features = engine.materialize(f"features_{tag}", built.table)
            graded, _model = grade_scheme(graded_project, engine, spec, features, as_of=as_of)
            grades = engine.materialize(f"grades_{tag}", graded)
            sides.append((grades, features))
        names = list(dict.fromkeys([*methods.scheme_indicators(old_spec),
                                    *methods.scheme_indicators(new_spec)]))
        moved = transitions(engine, Grading(*sides[0]), Grading(*sides[1]),
                            indicators=names, samples=samples)
    keys = [t.key for t in methods.scheme_tiers(new_spec)]
    keys += [t.key for t in methods.scheme_tiers(old_spec) if t.key not in keys]
    return moved, keys


@dataclass
class Preview:
    """A candidate version against the active one on the same data."""

    scheme: str
    as_of: date
    active: int
    candidate: int
    transitions: Transitions
    tiers: list[str]


def preview(project: Project, scheme: str, *, candidate: int | None = None,
            as_of: date | None = None, actor: str | None = None, samples: int = 5,
            timeout: float | None = None) -> Preview:
    """Compare a candidate version with the active one, both graded on the same data.

    The candidate defaults to tierwise.yaml's version. The result reads "1,203 up, 340 down",
    with the matrix and sample customers per cell.

    Both sides are computed tiers, before stability policies and overrides, so the preview shows
    what the rules themselves change. A preview grades the whole customer base twice, so its
    time limit is the caller's to choose (a web request: seconds; the CLI: none).

    Raises:
        QueryTimeout: when the preview ran past ``timeout`` seconds (None, the default: no
            limit).
    """
    day = project.as_of(as_of)
    store = open_store(project)
    try:
        saved, _ = version_service.save(store, project, scheme, actor=actor_name(actor),
                                        update_texts=False)
        with store.read() as tx:
            active = version_service.active_on(tx, scheme, day)
            chosen = tx.schemes.version(scheme, candidate) if candidate else saved
    finally:
        store.close()
    moved, keys = compare_schemes(
        with_indicators(project, active), version_service.scheme_of(active),
        with_indicators(project, chosen), version_service.scheme_of(chosen),
        as_of=day, samples=samples, timeout=timeout)
    return Preview(scheme, day, active.number, chosen.number, moved, keys)
