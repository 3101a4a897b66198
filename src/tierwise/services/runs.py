"""Recorded runs: grade schemes as of a date and record them in the store, atomically.

A recorded run:

1. saves each scheme of the project as a version (a new one only when its grading content
   changed) and picks the version to grade: the one active on the as-of date, or the one asked for;
2. skips a date already done (unless forced) and refuses to run beside a live run of the same date;
3. inserts its ``running`` rows, invisible to every reader;
4. runs the pipeline's steps (:mod:`tierwise.services.pipeline`) into the store's target
   (:mod:`tierwise.services.recording`): loads, checks and computes the indicators once for all
   schemes, grades each scheme (a method that learns first fits its model, matching the previous
   official run's model), applies its stability policy against the previous official run, then
   the overrides in force, and writes grades, features and tier changes into a staging folder
   renamed into place, with ``run.json`` (the spec as graded and any fitted model);
5. commits ``done`` with the per-tier counts in one transaction, superseding an earlier run of the
   same date.

A run killed anywhere before step 5 commits leaves only a ``running`` row and perhaps a folder
that no reader looks at; the next run marks the row abandoned and starts afresh.
"""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

from tierwise import methods
from tierwise.errors import ConflictError, NotFoundError, SpecError, TierwiseError
from tierwise.i18n import _
from tierwise.indicators import required_indicators
from tierwise.services import actions as action_service
from tierwise.services import versions as version_service
from tierwise.services.features import Features, prepare_features, prepare_features_many
from tierwise.services.grading import check_exports
from tierwise.services.pipeline import Progress, execute
from tierwise.services.project import Project, open_engine
from tierwise.services.recording import (
    FAULT_ENV,
    FeatureSource,
    Plan,
    Recorded,
    RunOutcome,
    data_fingerprint,
    fault_point,
)
from tierwise.services.resolved import ResolvedScheme
from tierwise.spec.limits import check_as_of
from tierwise.spec.models import AggregateIndicatorSpec, SchemeSpec
from tierwise.spec.names import check_scheme_name
from tierwise.store import Store, default_url
from tierwise.store import runs as store_runs
from tierwise.store.schemes import Version

if TYPE_CHECKING:
    from tierwise.engine import Engine

__all__ = [
    "FAULT_ENV",
    "RunOptions",
    "RunOutcome",
    "actor_name",
    "backfill",
    "backfill_dates",
    "data_fingerprint",
    "fault_point",
    "open_store",
    "run",
    "runnable_schemes",
    "scheme_spec",
]


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


class RunOptions(TypedDict, total=False):
    """How a recorded run grades, as keyword arguments of :func:`run`.

    Attributes:
        as_of: the as-of date (default: the project's, else today).
        force: run again a date that is already done; the new run supersedes the old one.
        version: grade with this version number (one scheme only). A version that is not active
            on the date makes an unofficial run, which answers "what would it have given" and
            does not enter the history.
        drop_bad_rows: grade without the rows that fail a check.
        export: ``csv`` and/or ``xlsx`` files beside the Parquet files.
        actor: who runs it (default: ``TIERWISE_USER`` or the OS user).
        allow_past: let an official run come before the latest official run (backfill rebuilds).

    """

    as_of: date | None
    force: bool
    version: int | None
    drop_bad_rows: bool
    export: list[str] | None
    actor: str | None
    allow_past: bool


@dataclass(frozen=True)
class _Request:
    """A recorded run's options, checked, for one as-of date."""

    names: list[str]
    day: date
    who: str
    force: bool = False
    version: int | None = None
    drop_bad_rows: bool = False
    export: tuple[str, ...] = ()
    allow_past: bool = False

    def check(self) -> None:
        if not self.names:
            raise SpecError(_("name at least one scheme to run"))
        check_as_of(self.day)
        if self.version is not None and len(self.names) != 1:
            raise SpecError(_("--version picks a version of one scheme; run one scheme with it"))
        check_exports(list(self.export))


def run(
    project: Project,
    scheme_names: list[str],
    *,
    progress: Progress | None = None,
    store: Store | None = None,
    **options: Unpack[RunOptions],
) -> list[RunOutcome]:
    """Grade ``scheme_names`` as of a date and record the runs in the store.

    The schemes share one load, check and feature table. ``options`` are :class:`RunOptions`;
    ``progress`` is called with each step's name; ``store`` is an open store (default: the
    project's).

    Returns:
        One outcome per scheme: ``done`` or ``skipped`` (date already done, not forced).

    Raises:
        ConflictError: a run of the same scheme and date is in progress, or an official run
            would come before the history's latest date.

    """
    request = _Request(
        list(dict.fromkeys(scheme_names)), project.as_of(options.get("as_of")),
        actor_name(options.get("actor")), options.get("force", False), options.get("version"),
        options.get("drop_bad_rows", False), tuple(options.get("export") or ()),
        options.get("allow_past", False))
    own_store = store is None
    st = store or open_store(project)
    try:
        return _run(project, request, st, progress or (lambda _: None))
    finally:
        if own_store:
            st.close()


def _plan(project: Project, st: Store, name: str, request: _Request) -> Plan:
    """Save ``name`` as a version if it changed, and pick the version that grades the date.

    A scheme the store has but tierwise.yaml lacks (made in the dashboard) grades with its
    active version; a retired scheme is refused.
    """
    day, version = request.day, request.version
    in_file = name in project.spec.schemes
    if not in_file:
        _check_stored(st, project, name)
    saved, notes = _save_file_copy(project, st, name, request) if in_file else (None, [])
    with st.read() as tx:
        info = tx.schemes.info(name)
        if info.retired_at is not None:
            raise ConflictError(_("scheme {name!r} is retired (by {who}); restore it in the "
                                  "dashboard or with `tierwise scheme restore {name}` to run "
                                  "it").format(name=name, who=info.retired_by))
        # save() activates a first version for every date, unless the scheme was first saved
        # elsewhere (an edit) and activated from a go-live date after ``day``.
        active = version_service.active_on(tx, name, day)
        chosen = tx.schemes.version(name, version) if version is not None else active
    if version is None and saved is not None and saved.number != active.number:
        notes.append(_stale_note(name, saved, active, day))
    scheme = ResolvedScheme.of(name, version_service.scheme_of(chosen),
                               reported=project.spec.reporting.value,
                               also=action_service.indicators_read(project, name))
    return Plan(name, chosen, scheme, chosen.id == active.id, notes)


def _check_stored(st: Store, project: Project, name: str) -> None:
    """Refuse a scheme neither tierwise.yaml nor the store has, naming both lists."""
    check_scheme_name(name)
    with st.read() as tx:
        stored = tx.schemes.scheme_names()
    if name not in stored:
        raise NotFoundError(
            _("no scheme {name!r} in {path} or in the store; schemes: {known}").format(
                name=name, path=project.root / "tierwise.yaml",
                known=_(", ").join(dict.fromkeys([*project.spec.schemes, *stored])) or _("none")))


def _save_file_copy(project: Project, st: Store, name: str, request: _Request
                    ) -> tuple[Version, list[str]]:
    """Save tierwise.yaml's scheme ``name`` as a version if it changed, with notes."""
    saved, created = version_service.save(st, project, name, actor=request.who,
                                          update_texts=False)
    notes = [_("saved tierwise.yaml's {name} as version {number}").format(name=name,
                 number=saved.number)] if created else []
    if not created and version_service.texts_differ(saved, project, name):
        notes.append(_("{name}: tierwise.yaml's labels or texts differ from version "
                       "{number}'s; a run leaves them alone: record them with `tierwise scheme "
                       "save {name}`").format(name=name, number=saved.number))
    return saved, notes


def _stale_note(name: str, saved: Version, active: Version, day: date) -> str:
    """Why tierwise.yaml's version does not grade: the file is older, or not activated yet."""
    if active.number > saved.number:
        # Edited in the dashboard after the file: the active version is the newer one.
        return _("{name}: version {active} (saved after tierwise.yaml's copy, e.g. in the "
                 "dashboard) is active on {day} and grades; tierwise.yaml still holds version "
                 "{number}. Bring the file up to date with `tierwise scheme show {name}` (paste "
                 "its output under `schemes:`), or remove {name} from the file to keep it in "
                 "the store only").format(name=name, active=active.number, day=day,
                                          number=saved.number)
    return _("{name}: tierwise.yaml is version {number}, but version {number2} is active on "
             "{day} and grades; preview with `tierwise scheme preview {name}` and activate "
             "with `tierwise scheme activate {name} {number}`").format(
                 name=name, number=saved.number, number2=active.number, day=day)


def runnable_schemes(project: Project, store: Store | None = None) -> list[str]:
    """What ``run --all`` grades: tierwise.yaml's schemes, then the store's, none retired."""
    st = store or open_store(project)
    try:
        with st.read() as tx:
            infos = tx.schemes.infos()
    finally:
        if store is None:
            st.close()
    retired = {i.name for i in infos if i.retired_at is not None}
    names = dict.fromkeys([*project.spec.schemes, *(i.name for i in infos)])
    return [n for n in names if n not in retired]


def _run(project: Project, request: _Request, st: Store, step: Progress,
         engine: Engine | None = None, features: FeatureSource | None = None
         ) -> list[RunOutcome]:
    """Plan, start, grade and record one as-of date of a recorded run."""
    request.check()
    plans = [_plan(project, st, n, request) for n in request.names]
    outcomes, todo = _start(st, plans, request)
    fault_point("after_start")
    specs = {p.name: p.scheme.spec for p in plans}
    if not todo:
        return _with_actions(project, st, outcomes, specs)

    def single(project: Project, engine: Engine, day: date, indicators: list[str]) -> Features:
        return prepare_features(project, engine, as_of=day, indicators=indicators,
                                drop_bad_rows=request.drop_bad_rows, keep_state=True)

    target = Recorded(_project_for(project, todo), {p.name: p for p in todo}, st, request.day,
                      request.who, list(request.export), features or single, step, engine)
    try:
        outcomes.extend(execute(target, [p.scheme for p in todo], request.day, step))
    except BaseException as exc:
        message = str(exc) if isinstance(exc, TierwiseError) else f"{type(exc).__name__}: {exc}"
        with st.write() as tx:
            for plan in todo:
                if tx.runs.get(plan.run_id).status == store_runs.RUNNING:
                    tx.runs.fail(plan.run_id, actor=request.who, error=message)
        raise
    return _with_actions(project, st, outcomes, specs)


def _with_actions(project: Project, st: Store, outcomes: list[RunOutcome],
                  specs: dict[str, SchemeSpec]) -> list[RunOutcome]:
    """Plan the actions of the committed runs (and finish a plan a crash left undone)."""
    for outcome in outcomes:
        if not action_service.actions_of(project, outcome.scheme):
            continue
        with st.read() as tx:
            current = tx.runs.get(outcome.run.id)
        for planned in action_service.plan(project, st, current, specs[outcome.scheme]):
            if not planned.already:
                outcome.notes.append(_("action {action}: {n} to deliver, {held} held out, "
                                       "{over} over budget").format(
                    action=planned.action, n=planned.treated, held=planned.holdout,
                    over=planned.over_budget))
    return outcomes


def _start(st: Store, plans: list[Plan], request: _Request
           ) -> tuple[list[RunOutcome], list[Plan]]:
    """Insert the ``running`` rows in one transaction.

    Returns the outcomes of the schemes whose date is already done, and the plans to grade.
    """
    day = request.day
    outcomes: list[RunOutcome] = []
    todo: list[Plan] = []
    with st.write() as tx:
        for plan in plans:
            tx.schemes.lock(plan.name)  # two starts of one scheme queue here
            alive = tx.runs.abandon_dead(plan.name, actor=request.who)
            same_day = [r for r in alive if r.as_of == day]
            if same_day:
                r = same_day[0]
                raise ConflictError(
                    _("run {id} of {name!r} as of {day} is in progress (started by "
                      "{started_by} at {started_at:%Y-%m-%d %H:%M}); wait for it to finish").format(
                          id=r.id,
                        name=plan.name, day=day, started_by=r.started_by, started_at=r.started_at)
                )
            done = tx.runs.listing(plan.name, statuses=(store_runs.DONE,),
                                      version_id=None if plan.official else plan.version.id,
                                      official=plan.official, as_of=day)
            if done and not request.force:
                outcomes.append(RunOutcome(
                    plan.name, day, "skipped", done[-1], done[-1].version,
                    Path(done[-1].folder) if done[-1].folder else None,
                    counts=tx.runs.tier_counts(done[-1].id),
                    notes=[*plan.notes, _("{name} as of {day} is already done (run {id}); use "
                                          "--force to run it again").format(name=plan.name,
                                            day=day, id=done[-1].id)]))
                continue
            history = tx.runs.history_runs(plan.name)
            later = [r for r in history if r.as_of > day]
            if plan.official and later and not request.allow_past:
                raise ConflictError(
                    _("{name} already has official runs after {day} (latest {as_of}); history "
                      "is built forward, so an earlier date would leave the later runs' "
                      "policies and changes stale. Use `tierwise backfill {name} --from {day} "
                      "--to {as_of} --force` to rebuild from that date").format(name=plan.name,
                        day=day, as_of=later[-1].as_of)
                )
            before = [r for r in history if r.as_of < day]
            plan.previous = before[-1] if before else None
            plan.run_id = tx.runs.start(plan.name, version_id=plan.version.id,
                                           as_of=day, official=plan.official,
                                           forced=request.force, actor=request.who)
            todo.append(plan)
        fault_point("in_start")
    return outcomes, todo


def _project_for(project: Project, plans: list[Plan]) -> Project:
    """The project with the indicator definitions the versions were saved with."""
    merged: dict[str, Any] = {}
    for plan in plans:
        for name, spec in version_service.indicators_of(plan.version).items():
            if name in merged and merged[name] != spec:
                raise ConflictError(
                    _("indicator {name!r} is defined differently in the versions being run "
                      "together ({items}); run these schemes one by one").format(name=name,
                        items=', '.join(p.name for p in plans))
                )
            merged[name] = spec
    return project.with_spec(project.spec.model_copy(
        update={"indicators": {**project.spec.indicators, **merged}}))


def backfill_dates(start: date, end: date, every: str = "month") -> list[date]:
    """As-of dates from ``start`` to ``end``: month ends (``month``), or every ``N`` days."""
    from dateutil.relativedelta import relativedelta

    check_as_of(start, what="--from")
    check_as_of(end, what="--to")
    if end < start:
        raise SpecError(_("--to {end} is before --from {start}; swap them").format(end=end,
                            start=start))
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
        raise SpecError(_("--every {every!r} is not understood; use month or a number of days "
                          "such as 7d").format(every=every))
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
    project = project.for_past_dates()
    names = list(dict.fromkeys(scheme_names))
    step = progress or (lambda _: None)
    try:
        wanted = sorted(set(dates))
        if force and wanted:
            wanted = _with_later_dates(st, names, wanted)
        outcomes: list[RunOutcome] = []
        for batch in _batches(project, [scheme_spec(project, st, n) for n in names], wanted):
            with open_engine(project) as engine:
                shared = _SharedScan(batch)
                for day in batch:
                    step(_("as of {day}").format(day=day))
                    request = _Request(names, day, actor_name(actor), force, allow_past=force)
                    outcomes.extend(_run(project, request, st, step, engine, shared))
        return outcomes
    finally:
        st.close()


def _with_later_dates(st: Store, names: list[str], wanted: list[date]) -> list[date]:
    """``wanted`` and every later official date of the schemes (a forced backfill rebuilds them)."""
    with st.read() as tx:
        for name in names:
            try:
                later = [r.as_of for r in tx.runs.history_runs(name)
                         if r.as_of > wanted[0]]
            except TierwiseError:
                later = []
            wanted = sorted(set(wanted) | set(later))
    return wanted


# Windowed aggregates per scan in a backfill: more dates per scan save reads, but each date adds
# its aggregates to every customer's row. At 10M customers and 3 aggregates per date, 8 dates per
# scan peaked at 9.8 GiB and 5 dates at 5.5 GiB (17 s per date either way), so 16.
_METRICS_PER_SCAN = 16


def scheme_spec(project: Project, st: Store, name: str) -> SchemeSpec:
    """Scheme ``name`` as tierwise.yaml has it, else as the store's active version has it.

    Raises:
        NotFoundError: neither tierwise.yaml nor the store has the scheme.
        SpecError: the name breaks the rule, or the stored scheme has no active version.

    """
    if name in project.spec.schemes:
        return project.scheme(name)
    _check_stored(st, project, name)
    with st.read() as tx:
        active = tx.schemes.active_version(name)
        if active is None:
            active = version_service.active_on(tx, name, date.today())
    return version_service.scheme_of(active)


def _batches(project: Project, specs: list[SchemeSpec], days: list[date]) -> list[list[date]]:
    """Split backfill dates into groups computed by one scan each."""
    wanted = {n for spec in specs for n in methods.scheme_indicators(spec)
              if n in project.spec.indicators}
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
        self.done: dict[date, Features] = {}

    def __call__(self, project: Project, engine: Engine, day: date, indicators: list[str]
                 ) -> Features:
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
