"""The pipeline's target for a recorded run: a run's folder, its policies, and the store.

What a recorded run adds to the steps of :mod:`tierwise.services.pipeline`: the previous
official run's grades and model, the stability policy and the overrides in force, the changes
against the previous run, and the commit of the run with its per-tier counts.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from tierwise import methods
from tierwise.i18n import _
from tierwise.indicators import CUSTOMER
from tierwise.methods import wording
from tierwise.methods.fitted import FittedModel
from tierwise.policies.overrides import apply_overrides
from tierwise.policies.reviews import with_reviews
from tierwise.policies.stability import stabilize, uses_margin
from tierwise.reports.summary import TierRow, summary_from_counts
from tierwise.reports.transitions import move_kind
from tierwise.services.features import Features
from tierwise.services.history_files import compact
from tierwise.services.pipeline import Graded, Settled, Shared
from tierwise.services.project import Project, open_engine
from tierwise.services.resolved import ResolvedScheme
from tierwise.services.run_files import GradeFacts
from tierwise.sources.checks import QualityReport
from tierwise.spec.ladder import Ladder
from tierwise.store import Store
from tierwise.store import runs as store_runs
from tierwise.store.runs import Run, TierCount
from tierwise.store.schemes import Version

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from tierwise.engine import Engine
    from tierwise.methods.rules import RuleAnalysis
    from tierwise.spec.models import ProjectSpec, SchemeSpec

FAULT_ENV = "TIERWISE_FAULT_POINT"


_HITS: dict[str, int] = {}


def fault_point(name: str) -> None:
    """Kill this process at the named point when ``TIERWISE_FAULT_POINT`` names it.

    This is how the crash tests prove atomicity: a run is killed with SIGKILL at each point in
    turn, and nothing of it may be visible afterwards. ``name@N`` kills at the N-th time the
    point is passed (a loop's third customer), plain ``name`` at the first.
    """
    wanted = os.environ.get(FAULT_ENV)
    if not wanted or wanted.split("@", 1)[0] != name:
        return
    _HITS[name] = _HITS.get(name, 0) + 1
    at = wanted.split("@", 1)[1] if "@" in wanted else "1"
    if str(_HITS[name]) == at:
        os.kill(os.getpid(), signal.SIGKILL)


#: Computes a recorded run's feature table (a backfill shares one scan among dates).
FeatureSource = Callable[[Project, "Engine", date, list[str]], Features]


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
class Plan:
    """One scheme of a recorded run: its version, whether official, and its run row."""

    name: str
    version: Version
    scheme: ResolvedScheme
    official: bool
    notes: list[str]
    previous: Run | None = None
    run_id: int = 0
    #: The previous official run's grades, read in the engine while this scheme grades.
    previous_grades: ir.Table | None = None


@dataclass
class Recorded:
    """Where a recorded run's results go: the run's folder and the store.

    Attributes:
        project: The project as graded (the versions' indicator definitions).
        plans: The schemes being run, by name.
        store: The open store.
        day: The as-of date.
        who: Who runs it.
        export: ``csv`` and/or ``xlsx``.
        compute: How the feature table is computed (one date, or a backfill's shared scan).
        step: Called with the name of each step as it starts.
        shared_engine: An engine to compute in (a backfill's), else the project's is opened.

    """

    project: Project
    plans: dict[str, Plan]
    store: Store
    day: date
    who: str
    export: list[str]
    compute: FeatureSource
    step: Callable[[str], None]
    shared_engine: Engine | None = None
    data_print: str = field(init=False)

    def __post_init__(self) -> None:
        self.data_print = data_fingerprint(self.project)

    def engine(self) -> AbstractContextManager[Engine]:
        """The backfill's engine, else the project's."""
        return nullcontext(self.shared_engine) if self.shared_engine else open_engine(
            self.project)

    def features(self, engine: Engine, indicators: list[str]) -> Features:
        """The features as of the run's date, from :attr:`compute`."""
        built = self.compute(self.project, engine, self.day, indicators)
        # Materialized again inside the run's scope (a backfill's batch computes its dates'
        # tables lazily), as before the pipeline was shared: the recorded benchmark holds.
        return Features(built.table, built.quality, held=False)

    def folder(self, scheme: ResolvedScheme) -> Path:
        """``<output>/<scheme>/runs/<run id>``."""
        return self.project.run_dir(scheme.name, self.plans[scheme.name].run_id)

    def previous_model(self, scheme: ResolvedScheme) -> FittedModel | None:
        """The model in the previous official run's ``run.json``."""
        return previous_model(self.plans[scheme.name].previous, scheme.spec)

    def previous_tiers(self, engine: Engine, scheme: ResolvedScheme) -> ir.Table | None:
        """The tiers held in the previous official run (its grades file), if there is one."""
        previous = self.plans[scheme.name].previous
        if previous is None or not previous.folder:
            return None
        grades = engine.read_parquet(f"previous_tiers_{previous.id}",
                                     Path(previous.folder) / "grades.parquet")
        return grades.select(CUSTOMER, "tier")

    def settle(self, engine: Engine, scheme: ResolvedScheme, raw: ir.Table,
               features: ir.Table) -> Settled:
        """The stability policy against the previous official run, then the overrides."""
        plan = self.plans[scheme.name]
        previous = None
        if plan.previous is not None and plan.previous.folder:
            previous = engine.read_parquet(f"previous_{plan.run_id}",
                                           Path(plan.previous.folder) / "grades.parquet")
        plan.previous_grades = previous
        policy = scheme.spec.stability
        tiers = list(scheme.tiers)
        if uses_margin(previous, policy):
            # Read twice (margin and policy): computed once. Otherwise the method's grades
            # flow straight into the one table this run writes.
            raw = engine.materialize(f"raw_{plan.run_id}", raw)

        def margin_test(held: ir.Table) -> ir.Table:
            assert policy is not None
            return methods.within_margin(scheme.spec, features, held, policy.downgrade_margin,
                                         as_of=self.day, scores=raw)

        stable = stabilize(raw, previous, tiers, policy, as_of=self.day,
                           margin_test=margin_test)
        overrides, excluded = self._overrides(engine, plan, features)
        held = apply_overrides(stable, overrides, tiers)
        return Settled(with_reviews(engine, scheme.spec, held, previous, self.day,
                                    str(plan.run_id)), excluded)

    def _overrides(self, engine: Engine, plan: Plan, features: ir.Table
                   ) -> tuple[ir.Table | None, int]:
        """The overrides in force on the as-of date, and how many graded customers they exclude."""
        with self.store.read() as tx:
            in_force = tx.overrides.in_force(plan.name, self.day)
        if not in_force:
            return None, 0
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
        return overrides, excluded

    def extra(self, engine: Engine, scheme: ResolvedScheme, grades: ir.Table
              ) -> dict[str, ir.Table]:
        """An official run's changes against the previous official run (the history rows)."""
        plan = self.plans[scheme.name]
        if not plan.official:
            return {}
        changes = _changes(grades, plan.previous_grades, plan.run_id, self.day)
        if plan.previous_grades is not None:
            # A join with the previous run: computed once for the file and the counts. A first
            # run's changes are its grades, cheaper to select again than to store twice.
            changes = engine.materialize(f"changes_{plan.run_id}", changes)
        return {"changes.parquet": changes}

    def info(self, scheme: ResolvedScheme) -> dict[str, Any]:
        """The run, its version, whether official, and the data's fingerprint."""
        plan = self.plans[scheme.name]
        return {"run_id": plan.run_id, "version": plan.version.number,
                "official": plan.official, "data_fingerprint": self.data_print}

    def fault(self, point: str) -> None:
        """Stop here when ``TIERWISE_FAULT_POINT`` names the point (crash tests)."""
        fault_point(point)

    def tally(self, engine: Engine, graded: Graded) -> list[TierCount]:
        """Per-tier counts, before the rename: a first run's changes read the staged grades."""
        assert graded.facts is not None
        return _tier_counts(engine, graded.facts, graded.extra.get("changes.parquet"),
                            graded.scheme)

    def record(self, graded: Graded, shared: Shared) -> RunOutcome:
        """Commit the run with its counts, then merge the scheme's history files."""
        assert graded.facts is not None
        facts, scheme, plan = graded.facts, graded.scheme, self.plans[graded.scheme.name]
        timings = {**shared.timings, **graded.timings}
        with self.store.write() as tx:
            fault_point(f"in_commit:{plan.name}")
            finished = tx.runs.finish(plan.run_id, store_runs.Finished(
                folder=str(graded.folder), customers=facts.rows,
                data_fingerprint=self.data_print,
                counts={"rows": shared.quality.rows, "customers": facts.rows,
                        **_sources(facts.by_source)},
                timings=timings, tiers=graded.tally), actor=self.who)
            fault_point(f"before_commit:{plan.name}")
        fault_point(f"after_commit:{plan.name}")
        if plan.official:
            self.step(_("compacting the history of {scheme}").format(scheme=plan.name))
            try:
                compact(self.store, plan.name)
            except Exception as exc:  # the run is done; lookups read the change files
                plan.notes.append(f"{plan.name}: merging the history files failed "
                                  f"({exc}); history stays complete, lookups are slower")
        return RunOutcome(
            plan.name, self.day, "done", finished, plan.version.number, graded.folder,
            summary_from_counts(facts.by_tier, list(scheme.tiers), value=scheme.spec.value),
            graded.tally, shared.quality, graded.analysis, plan.notes, timings, graded.exports,
            described(self.project.spec, scheme.spec, graded.model))


def described(project: ProjectSpec | None, spec: SchemeSpec,
              model: FittedModel | Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """A fitted model's lines for people (a run's summary, the dashboard, the API).

    Indicators are named by their labels in the current language when the project is given.
    """
    with wording.indicator_labels(wording.labels_of(project.indicators if project else {})):
        return methods.describe_model(spec, model)


def previous_model(previous: Run | None, spec: SchemeSpec) -> FittedModel | None:
    """The model saved in the previous official run's ``run.json``, if it has one.

    A cluster scheme passes it to its fit, so its clusters keep their tiers across runs. A
    previous run without a readable ``run.json`` (or without a model) gives None: the fit then
    keys its clusters afresh, and says so in its model.
    """
    if previous is None or not previous.folder:
        return None
    try:
        info = json.loads((Path(previous.folder) / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    model = info.get("model") if isinstance(info, dict) else None
    if not isinstance(model, dict):
        return None
    artifact, named = None, model.get("artifact")
    if isinstance(named, dict) and isinstance(named.get("file"), str):
        # The method checks the bytes against the recorded SHA-256 before it trusts them.
        path = Path(previous.folder) / Path(named["file"]).name
        try:
            artifact = path.read_bytes()
        except OSError:
            artifact = None
    return methods.load_model(spec, model, artifact)


def _changes(final: ir.Table, previous: ir.Table | None, run_id: int, day: date) -> ir.Table:
    """The customers whose tier differs from the previous official run: the history rows."""
    import ibis

    run = ibis.literal(run_id, "int64")
    on = ibis.literal(day, "date")
    if previous is None:
        return final.select(
            CUSTOMER, "tier", "tier_rank", "source", "override_id",
            prev_tier=ibis.null("string"), prev_rank=ibis.null("int64"),
            change=ibis.literal("entry"), run_id=run, as_of=on)
    prev = previous.select(_pid=previous[CUSTOMER], prev_tier=previous.tier,
                           prev_rank=previous.tier_rank.cast("int64"))
    joined = final.outer_join(prev, final[CUSTOMER] == prev._pid)
    change = move_kind(joined.prev_tier, joined.tier, joined.prev_rank,
                       joined.tier_rank.cast("int64"))
    return joined.filter(
        joined.tier.isnull() | joined.prev_tier.isnull() | (joined.tier != joined.prev_tier)
    ).select(
        customer_id=ibis.coalesce(joined[CUSTOMER], joined._pid),
        tier=joined.tier, tier_rank=joined.tier_rank.cast("int64"),
        source=ibis.coalesce(joined.source, ibis.literal("computed")),
        override_id=joined.override_id, prev_tier=joined.prev_tier, prev_rank=joined.prev_rank,
        change=change, run_id=run, as_of=on,
    )


def _sources(by_source: dict[tuple[str, str], int]) -> dict[str, int]:
    out: dict[str, int] = {}
    for (_key, source), n in by_source.items():
        out[f"source_{source}"] = out.get(f"source_{source}", 0) + n
    return out


def _tier_counts(engine: Engine, facts: GradeFacts, changes: ir.Table | None,
                 scheme: ResolvedScheme) -> list[TierCount]:
    """Per tier: customers by how they got the tier, value, and moves in and out."""
    entered: dict[str, int] = {}
    left: dict[str, int] = {}
    if changes is not None:
        for key, into in (("tier", entered), ("prev_tier", left)):
            moved = changes.filter(changes[key].notnull())
            rows = engine.to_arrow(moved.group_by(key).aggregate(n=moved.count())).to_pylist()
            into.update({r[key]: int(r["n"]) for r in rows})
    out = []
    value = scheme.spec.value
    ladder = Ladder.of(scheme.tiers)
    for tier in ladder.tiers:
        rank = ladder.rank(tier.key)
        n = {s: facts.by_source.get((tier.key, s), 0) for s in ("computed", "policy", "override")}
        count, total = facts.by_tier.get(tier.key, (0, 0.0 if value else None))
        out.append(TierCount(tier.key, rank, count, n["computed"], n["policy"], n["override"],
                             total, entered.get(tier.key, 0), left.get(tier.key, 0)))
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
