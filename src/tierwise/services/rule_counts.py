"""Live counts of a rules scheme being edited: matches, value share, winners, overlaps, gaps.

While a supervisor edits the conditions of a rules scheme, the editor shows for each tier how
many customers its condition matches on the latest run's features and their share of value, how
many get the tier given the order the conditions are tried in, which pairs of conditions hold
together (the first in priority wins) and how many customers no condition catches (they fall to
the fallback tier, or stay unclassified). A scheme not run yet is counted on the data as of the
project's as-of date, its indicators computed from the sources. Conditions go through :mod:`tierwise.expr` (parsed,
type-checked, compiled), never into SQL text; the count runs under the search time limit.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from tierwise import expr
from tierwise.engine import connect
from tierwise.errors import ExprError
from tierwise.i18n import _
from tierwise.indicators import CUSTOMER
from tierwise.services.condition_fields import ConditionField, condition_fields, value_indicator
from tierwise.services.customers import SEARCH_TIMEOUT
from tierwise.services.features import prepare_features
from tierwise.services.grading import Project
from tierwise.spec.names import check_scheme_name
from tierwise.store import Store
from tierwise.store.runs import Run


@dataclass(frozen=True)
class RuleDraft:
    """A tier of the edited scheme: its key, its condition (None: none) and its priority."""

    key: str
    when: str | None
    priority: int | None = None


@dataclass(frozen=True)
class RuleDrafts:
    """An edited rules scheme: its tiers in listed order, its fallback and its value indicator."""

    scheme: str
    tiers: list[RuleDraft]
    fallback: str | None = None
    value: str | None = None


@dataclass(frozen=True)
class TierCount:
    """What one tier's condition does on the data.

    Attributes:
        key: The tier.
        matches: Customers whose condition holds, whatever the order (None: no condition, or
            it could not be counted, see ``error``).
        value: Their value (None without a value indicator).
        wins: Customers who get the tier: the first condition that holds, or the fallback.
        win_value: Their value.
        error: Why the condition could not be counted (it is left out of the order), or None.

    """

    key: str
    matches: int | None
    value: float | None
    wins: int
    win_value: float | None
    error: str | None = None


@dataclass(frozen=True)
class DraftCounts:
    """Counts of an edited rule set on the latest run's features.

    Attributes:
        as_of: The run's as-of date.
        customers: Customers counted (a manager's: only their own).
        total_value: Their value.
        value_indicator: The indicator summed as value, or None.
        tiers: Per tier, in listed order.
        order: The tier keys in the order their conditions are tried.
        overlaps: ``(first, second, customers)``: both conditions hold; ``first`` is tried
            first, so it wins.
        unmatched: Customers no condition catches.
        unmatched_value: Their value.
        fallback: The tier they get, or None (they stay unclassified).
        computed: Indicators the run did not compute, computed now from the sources.
        unrun: The scheme has no run yet: every indicator was computed from the sources as
            of the project's as-of date (``as_of``).

    """

    as_of: date
    customers: int
    total_value: float | None
    value_indicator: str | None
    tiers: list[TierCount]
    order: list[str]
    overlaps: list[tuple[str, str, int]] = field(default_factory=list)
    unmatched: int = 0
    unmatched_value: float | None = None
    fallback: str | None = None
    computed: list[str] = field(default_factory=list)
    unrun: bool = False

    def share(self, value: float | None) -> float | None:
        """``value`` as a share of the total value; None without one."""
        if value is None or not self.total_value:
            return None
        return value / self.total_value


def tried_order(drafts: list[RuleDraft], fallback: str | None) -> list[int]:
    """Indexes of the drafts with a condition, in the order conditions are tried.

    As :meth:`tierwise.spec.models.RulesSchemeSpec.evaluation_order`: by ascending priority,
    then the tiers without one as listed; the fallback's condition is never tried.
    """
    tried = [i for i, d in enumerate(drafts) if d.when and d.key != fallback]
    first = sorted((i for i in tried if drafts[i].priority is not None),
                   key=lambda i: drafts[i].priority or 0)
    return [*first, *(i for i in tried if drafts[i].priority is None)]


def count_drafts(project: Project, store: Store, drafts: RuleDrafts, *,
                 visible: set[str] | None = None,
                 timeout: float | None = SEARCH_TIMEOUT) -> DraftCounts:
    """Count what each drafted condition matches on the scheme's latest run's features.

    Indicators a condition names that the run did not compute (the scheme never read them) are
    computed from the sources as of the run's date, without the rows the data checks refuse,
    and joined to its features. A scheme not run yet (just created) is counted on indicators
    computed from the sources as of the project's as-of date, so that its first rules show
    their counts before the first run.

    Args:
        project: The project (its indicators, and its sources for what the run lacks).
        store: The store.
        drafts: The scheme as edited: its latest official run's features are counted; its
            value indicator is summed when the features hold it.
        visible: Only these customers (a manager's); None for all.
        timeout: Seconds the count may run.

    Returns:
        The counts. A condition that does not parse or type-check is reported in its tier's
        ``error`` and left out of the order.

    Raises:
        NotFoundError: The store does not know the scheme.
        QueryTimeout: The count ran past ``timeout``.
    """
    import ibis

    fields = condition_fields(project)
    run = _latest(store, drafts.scheme)
    as_of = run.as_of if run is not None else project.as_of(None)
    engine = connect(base=project.root)
    try:
        with engine.time_limit(timeout, what=_("the rule count"),
                               hint=_("simplify the conditions")):
            nodes, errors = _parsed(drafts, fields)
            needed = {n for node in nodes.values() for n in expr.names(node)}
            features, lacking = _features(project, engine, run, as_of, needed,
                                          _wanted_value(fields, drafts.value))
            if visible is not None:
                features = _only(engine, features, visible)
            value = value_indicator(fields, list(features.columns), drafts.value)
            conds = {i: expr.compile_condition(node, {n: features[n] for n in expr.names(node)},
                                               as_of=as_of) for i, node in nodes.items()}
            order = [i for i in tried_order(drafts.tiers, drafts.fallback) if i in conds]
            flags = features.select(
                v=(features[value].cast("float64") if value else ibis.literal(0.0)
                   ).fill_null(0.0), **{f"c{i}": conds[i] for i in order})
            got: dict[str, Any] = engine.to_arrow(
                flags.aggregate(**_metrics(flags, order))).to_pylist()[0]
    finally:
        engine.close()
    counts = _assemble(got, drafts, order, errors, run_as_of=as_of, value=value)
    return replace(counts, computed=lacking, unrun=run is None)


def _latest(store: Store, scheme: str) -> Run | None:
    """The scheme's latest official run; None when it has none yet (a scheme just created).

    Raises:
        NotFoundError: the store does not know the scheme.

    """
    check_scheme_name(scheme)
    with store.read() as tx:
        found = tx.runs.history_runs(scheme)
    return found[-1] if found else None


def _wanted_value(fields: dict[str, ConditionField], scheme_value: str | None) -> str | None:
    """The indicator to sum as value when every indicator is computed from the sources."""
    return value_indicator(fields, list(fields), scheme_value)


def _features(project: Project, engine: Any, run: Run | None, as_of: date, needed: set[str],
              value: str | None) -> tuple[Any, list[str]]:
    """The features to count on, and the indicators computed now from the sources.

    With a run: its features file, joined to what the conditions name that the run did not
    compute. Without one yet: every indicator named (and the value) from the sources as of
    ``as_of``. Rows the data checks refuse are left out, as a run of that date would have to.
    """
    if run is None:
        names = sorted(needed | ({value} if value else set()))
        fresh = prepare_features(project, engine, as_of=as_of, indicators=names,
                                 drop_bad_rows=True)
        return fresh.table, sorted(needed)
    features = engine.read_parquet("features", Path(run.folder or "") / "features.parquet")
    lacking = sorted(needed - set(features.columns))
    if lacking:
        fresh = prepare_features(project, engine, as_of=run.as_of, indicators=lacking,
                                 drop_bad_rows=True)
        features = features.left_join(fresh.table.select(CUSTOMER, *lacking), CUSTOMER)
    return features, lacking


def _only(engine: Any, features: Any, visible: set[str]) -> Any:
    import pyarrow as pa

    allowed = engine.register_arrow(
        "visible", pa.table({CUSTOMER: pa.array(sorted(visible), pa.string())}))
    return features.semi_join(allowed, features[CUSTOMER] == allowed[CUSTOMER])


def _parsed(drafts: RuleDrafts, fields: dict[str, ConditionField]
            ) -> tuple[dict[int, Any], dict[int, str]]:
    """Each tried draft's condition, parsed and type-checked; why the others cannot count."""
    types = {n: f.kind for n, f in fields.items()}
    nodes: dict[int, Any] = {}
    errors: dict[int, str] = {}
    for i in tried_order(drafts.tiers, drafts.fallback):
        try:
            node = expr.parse(str(drafts.tiers[i].when))
            expr.check_condition(node, types)
        except ExprError as exc:
            errors[i] = "; ".join(p.message for p in exc.problems)
            continue
        nodes[i] = node
    return nodes, errors


def _metrics(flags: Any, order: list[int]) -> dict[str, Any]:
    """Every count and sum in one aggregate over the conditions' flag columns."""
    import ibis

    v = flags.v
    out: dict[str, Any] = {"n": flags.count(), "total": v.sum()}
    before: list[Any] = []
    for at, i in enumerate(order):
        c = flags[f"c{i}"]
        won = c & ~ibis.or_(*before) if before else c
        out |= {f"m{i}": flags.count(where=c), f"mv{i}": v.sum(where=c),
                f"w{i}": flags.count(where=won), f"wv{i}": v.sum(where=won)}
        for j in order[at + 1:]:
            out[f"o{i}_{j}"] = flags.count(where=c & flags[f"c{j}"])
        before.append(c)
    none = ~ibis.or_(*before) if before else ibis.literal(True)
    out |= {"u": flags.count(where=none), "uv": v.sum(where=none)}
    return out


def _assemble(got: dict[str, Any], drafts: RuleDrafts, order: list[int],
              errors: dict[int, str], *, run_as_of: date, value: str | None) -> DraftCounts:
    def money(key: str) -> float | None:
        return float(got[key] or 0.0) if value else None

    keys = [d.key for d in drafts.tiers]
    falls_to = drafts.fallback if drafts.fallback in keys else None
    tiers = []
    for i, draft in enumerate(drafts.tiers):
        counted = i in order
        wins, win_value = (int(got[f"w{i}"]), money(f"wv{i}")) if counted else (0, None)
        if draft.key == falls_to:
            wins, win_value = int(got["u"]), money("uv")
        tiers.append(TierCount(draft.key, int(got[f"m{i}"]) if counted else None,
                               money(f"mv{i}") if counted else None, wins,
                               (win_value or 0.0) if value else None, errors.get(i)))
    overlaps = [(keys[i], keys[j], int(got[f"o{i}_{j}"]))
                for at, i in enumerate(order) for j in order[at + 1:] if got[f"o{i}_{j}"]]
    return DraftCounts(run_as_of, int(got["n"]), money("total"), value, tiers,
                       [keys[i] for i in order], overlaps, int(got["u"]), money("uv"), falls_to)
