"""The results of a scheme's latest official run: per-tier figures, moves and the trend.

What a sales supervisor reads first: for each tier, its customers and share, its value and share
of value, and how its customers changed since the previous run; for the scheme, the customers
graded, who moved up, down or into a status, the transition matrix and the counts across runs.

Customers per tier come from the store (the run's per-tier counts, no file opened). The value is
the sum of one numeric indicator per tier (:func:`value_measure`): when it is the scheme's own
value, the store holds its sums too; otherwise the run's grades and features are joined on the
two columns needed. The moves read the tier columns of the two runs' grades.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

from tierwise import i18n, methods
from tierwise.engine import connect
from tierwise.i18n import _
from tierwise.indicators import CUSTOMER
from tierwise.reports.colours import tier_colours
from tierwise.reports.transitions import KINDS, Cell, Transitions, move_counts
from tierwise.services import history as history_service
from tierwise.services import versions as version_service
from tierwise.spec.models import ProjectSpec, SchemeSpec
from tierwise.spec.schemes import TierSpec
from tierwise.store import Store
from tierwise.store.runs import Run

#: The value of a scheme is chosen by: the project's ``reporting: value``, the scheme's.
FROM_PROJECT, FROM_SCHEME = "reporting", "scheme"


@dataclass(frozen=True)
class Measure:
    """The indicator summed per tier as its value, and where that choice came from.

    Attributes:
        indicator: the indicator, or None when nothing is valued.
        origin: ``reporting`` (tierwise.yaml's ``reporting: value``), ``scheme`` (the scheme's
            ``value:``, RFM's monetary) or None.

    """

    indicator: str | None
    origin: str | None


def value_measure(project: ProjectSpec | None, scheme: SchemeSpec) -> Measure:
    """What a scheme's results sum per tier as value.

    The project's ``reporting: value`` wins; else the scheme's own value indicator (``value:``,
    ABC's ranked value); else an RFM scheme's monetary indicator; else nothing.
    """
    if project is not None and project.reporting.value:
        return Measure(project.reporting.value, FROM_PROJECT)
    if scheme.value:
        return Measure(scheme.value, FROM_SCHEME)
    monetary = getattr(scheme, "monetary", None)
    if isinstance(monetary, str):
        return Measure(monetary, FROM_SCHEME)
    return Measure(None, None)


@dataclass(frozen=True)
class TierResult:
    """One tier's figures in the latest run.

    Attributes:
        key: the tier's key.
        label: its label in the current language.
        colour: its colour (:func:`tierwise.reports.colours.tier_colours`).
        status: whether it stands outside the value ladder.
        customers: its customers.
        share: its share of the customers graded (0..1).
        value: the sum of the measure over its customers; None when nothing is valued.
        value_share: its share of the whole value (0..1); None when nothing is valued.
        change: customers more (+) or fewer (-) than in the previous run; None on a first run.
        change_points: the change of its share of customers, in percentage points.

    """

    key: str
    label: str
    colour: str
    status: bool
    customers: int
    share: float
    value: float | None
    value_share: float | None
    change: int | None
    change_points: float | None


@dataclass
class Results:
    """A scheme's latest official run as the results overview shows it.

    ``matrix`` rows are the previous run's tiers (``keys``, then not graded), columns the latest
    run's; ``moves`` counts the kinds of move (:data:`tierwise.reports.transitions.KINDS` and
    ``same``). Both are empty on a first run. ``trend`` is every run of the history with its
    customers per tier. ``note`` says why nothing is valued, or why this run has no value.
    """

    scheme: str
    run: Run
    previous: Run | None
    tiers: list[TierResult]
    customers: int
    value: float | None
    measure: Measure
    keys: list[str] = field(default_factory=list)
    moves: dict[str, int] = field(default_factory=dict)
    matrix: list[list[int]] = field(default_factory=list)
    trend: list[tuple[date, dict[str, int]]] = field(default_factory=list)
    note: str | None = None

    @property
    def unvalued(self) -> bool:
        """Whether nothing is valued because no value indicator is set (the note says how)."""
        return self.measure.indicator is None

    def label(self, key: str | None) -> str:
        """The label of tier ``key`` (None: not graded) in the current language."""
        if key is None:
            return _("not graded")
        return next((t.label for t in self.tiers if t.key == key), key)


def results(store: Store, scheme: str, *, project: ProjectSpec | None = None) -> Results:
    """The results of ``scheme``'s latest official run.

    Raises:
        SpecError: ``scheme`` breaks the scheme-name rule.
        NotFoundError: the scheme has no finished official run yet.

    """
    run = history_service.latest_run(store, scheme)
    with store.read() as tx:
        spec = version_service.scheme_of(tx.schemes.version_by_id(run.version_id))
        history = tx.runs.history_runs(scheme)
        trend = [(r.as_of, {c.tier: c.customers for c in tx.runs.tier_counts(r.id)})
                 for r in history]
        counts = tx.runs.tier_counts(run.id)
    earlier = [r for r in history if r.as_of < run.as_of]
    previous = earlier[-1] if earlier else None
    before = trend[len(earlier) - 1][1] if earlier else {}
    tiers = methods.scheme_tiers(spec)
    keys = [t.key for t in tiers]
    keys += sorted({c.tier for c in counts} - set(keys))
    now = {c.tier: c.customers for c in counts}
    measure = value_measure(project, spec)
    values, note = _values(run, spec, measure, {c.tier: c.value_sum for c in counts})
    out = Results(scheme, run, previous, _tier_results(tiers, keys, now, before, values),
                  sum(now.values()), sum(values.values()) if values is not None else None,
                  measure, keys=[*keys, *sorted(set(before) - set(keys))], trend=trend,
                  note=note)
    if previous is not None:
        moved = _moves(previous, run, before)
        out.moves = dict(moved.counts)
        out.matrix = moved.matrix(out.keys)
    return out


def _tier_results(tiers: list[TierSpec], keys: list[str], now: dict[str, int],
                  before: dict[str, int], values: dict[str, float] | None) -> list[TierResult]:
    lang = i18n.current()
    specs = {t.key: t for t in tiers}
    colours = tier_colours(tiers)
    total, total_before = sum(now.values()), sum(before.values())
    total_value = sum(values.values()) if values is not None else None
    out = []
    for key in keys:
        tier = specs.get(key)
        n = now.get(key, 0)
        share = n / total if total else 0.0
        value = values.get(key, 0.0) if values is not None else None
        was = before.get(key, 0)
        out.append(TierResult(
            key=key, label=tier.label_text(lang) if tier else key,
            colour=colours.get(key) or tier_colours([TierSpec(key=key, status=True)])[key],
            status=tier.status if tier else True, customers=n, share=share, value=value,
            value_share=(value / total_value if value is not None and total_value else None),
            change=n - was if total_before else None,
            change_points=((share - was / total_before) * 100 if total_before else None)))
    return out


def _values(run: Run, spec: SchemeSpec, measure: Measure, stored: dict[str, float | None]
            ) -> tuple[dict[str, float] | None, str | None]:
    """Value per tier of ``run``, and a note when there is none."""
    if measure.indicator is None:
        return None, _("No value is shown: name a numeric indicator to sum per tier with "
                       "`{setting}` in tierwise.yaml, or `value:` on the scheme.").format(
            setting="reporting: {value: spend_12m}")
    if measure.indicator == spec.value and all(v is not None for v in stored.values()):
        return {k: float(v or 0.0) for k, v in stored.items()}, None
    found = value_sums(run, measure.indicator)
    if found is None:
        return None, _("Run #{run} did not record {indicator}, so no value is shown; runs "
                       "from now on record it.").format(run=run.id, indicator=measure.indicator)
    return found, None


def value_sums(run: Run, indicator: str) -> dict[str, float] | None:
    """The sum of ``indicator`` per tier over ``run``'s customers; None when not recorded.

    Reads two columns of the grades and two of the features. A done run's files never change,
    so the sums are kept per run folder for the next reader.
    """
    if not run.folder:
        return None
    found = _value_sums(run.folder, indicator)
    return dict(found) if found is not None else None


@lru_cache(maxsize=64)
def _value_sums(folder: str, indicator: str) -> tuple[tuple[str, float], ...] | None:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    features = Path(folder) / "features.parquet"
    if indicator not in pq.read_schema(features).names:
        return None
    grades = pq.read_table(Path(folder) / "grades.parquet", columns=[CUSTOMER, "tier"])
    values = pq.read_table(features, columns=[CUSTOMER, indicator])
    if grades.column(CUSTOMER).equals(values.column(CUSTOMER)):
        # Both files in the same customer order (the usual case): no join needed.
        table = grades.append_column("v", pc.cast(values.column(indicator), "float64"))
    else:
        table = grades.join(values.rename_columns([CUSTOMER, "v"]), CUSTOMER,
                            join_type="left outer")
        table = table.set_column(table.schema.get_field_index("v"), "v",
                                 pc.cast(table.column("v"), "float64"))
    rows = table.group_by("tier").aggregate([("v", "sum")]).to_pylist()
    return tuple((str(r["tier"]), float(r["v_sum"] or 0.0)) for r in rows)


def _moves(previous: Run, run: Run, before: dict[str, int]) -> Transitions:
    """The moves from ``previous`` to ``run``.

    From ``run``'s change file when it was written against ``previous`` (movers only, a small
    read), else by joining both runs' grades. Both kept per run folder for the next reader.
    """
    if not run.folder or not previous.folder:
        return Transitions([], dict.fromkeys((*KINDS, "same"), 0))
    changes = Path(run.folder) / "changes.parquet"
    # The change file compares with the official run before it when it ran; a run of an
    # earlier date finished since then would not be in it.
    current = (previous.finished_at is not None and run.started_at is not None
               and previous.finished_at <= run.started_at)
    if current and changes.exists():
        return _from_changes(str(changes), tuple(sorted(before.items())))
    return _joined(previous.folder, run.folder)


@lru_cache(maxsize=64)
def _from_changes(path: str, before: tuple[tuple[str, int], ...]) -> Transitions:
    import pyarrow.parquet as pq

    table = pq.read_table(path, columns=["prev_tier", "tier", "change"])
    grouped = table.group_by(["prev_tier", "tier", "change"]).aggregate(
        [("change", "count")]).to_pylist()
    counts = dict.fromkeys((*KINDS, "same"), 0)
    cells = [Cell(r["prev_tier"], r["tier"], int(r["change_count"])) for r in grouped]
    left: dict[str, int] = {}
    for r in grouped:
        counts[r["change"]] += int(r["change_count"])
        if r["prev_tier"] is not None:
            left[r["prev_tier"]] = left.get(r["prev_tier"], 0) + int(r["change_count"])
    for key, n in before:
        stayed = n - left.get(key, 0)
        cells.append(Cell(key, key, stayed))
        counts["same"] += stayed
    return Transitions(cells, counts)


@lru_cache(maxsize=16)
def _joined(old_folder: str, new_folder: str) -> Transitions:
    engine = connect()
    try:
        old, new = (engine.read_parquet(name, Path(folder) / "grades.parquet")
                    for name, folder in (("old_grades", old_folder), ("new_grades", new_folder)))
        return move_counts(engine, old, new)
    finally:
        engine.close()
