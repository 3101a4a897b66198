"""What the overview page shows for one scheme, read through the history service.

Only shaping happens here (shares, chart series, labels); the numbers are the store's run
summaries and the history service's transitions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tierwise import i18n
from tierwise.errors import NotFoundError
from tierwise.i18n import _
from tierwise.reports import charts
from tierwise.services import catalog
from tierwise.services import customers as customer_service
from tierwise.services import history as history_service
from tierwise.services.records import Run, Store


@dataclass
class Overview:
    """One scheme's latest run, trend and moves."""

    run: Run | None = None
    mix: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0
    total_value: float | None = None
    mix_chart: str = ""
    trend_chart: str = ""
    matrix: list[tuple[str, list[int]]] = field(default_factory=list)
    matrix_columns: list[str] = field(default_factory=list)
    first_run: bool = False
    own: list[dict[str, Any]] | None = None
    own_total: int = 0
    model: list[tuple[str, str]] = field(default_factory=list)


def overview(store: Store, scheme: str, labels: dict[str, str], *,
             visible: set[str] | None = None) -> Overview:
    """The overview of ``scheme``; an empty one when it has no official run yet.

    For a manager (``visible``: their customers) it adds the tier mix of their own customers;
    the book's mix, trend and moves stay counts of every customer, with no customer in them.
    """
    try:
        run = history_service.latest_run(store, scheme)
    except NotFoundError:
        return Overview()
    out = Overview(run=run)
    # Ladder tiers best first, then the statuses (rank 0).
    counts = sorted(history_service.summary(store, run.id).tiers,
                    key=lambda t: (t.tier_rank == 0, t.tier_rank))
    out.total = sum(t.customers for t in counts)
    values = [t.value_sum for t in counts if t.value_sum is not None]
    out.total_value = sum(values) if values else None
    for t in counts:
        out.mix.append({
            "tier": t.tier, "label": labels.get(t.tier, t.tier), "customers": t.customers,
            "share": t.customers / out.total if out.total else None, "value_sum": t.value_sum,
            "value_share": (t.value_sum / out.total_value
                            if t.value_sum is not None and out.total_value else None)})
    out.mix_chart = charts.bars([(m["label"], m["customers"]) for m in out.mix],
                                title=_("Customers per tier"), fmt=i18n.compact)
    out.trend_chart = _trend(store, scheme, labels)
    out.model = history_service.fitted_model(run)
    if visible is not None:
        mine = customer_service.tier_counts(store, scheme, visible, as_of=run.as_of)
        out.own_total = sum(n for n, _ in mine.values())
        order = [*labels, *sorted(set(mine) - set(labels))]
        out.own = [{"tier": k, "label": labels.get(k, k), "customers": mine[k][0],
                    "share": mine[k][0] / out.own_total, "value_sum": mine[k][1]}
                   for k in order if k in mine]
    keys = [*labels, *(t.tier for t in counts if t.tier not in labels)]
    try:
        previous = history_service.previous_run(store, run)
    except NotFoundError:
        out.first_run = True
        return out
    moves = history_service.compare_runs(store, previous, run, limit=0)
    names = [labels.get(k, k) for k in keys] + [_("not graded")]
    out.matrix_columns = names
    out.matrix = list(zip(names, moves.matrix(keys), strict=True))
    return out


def _trend(store: Store, scheme: str, labels: dict[str, str]) -> str:
    counted = catalog.tier_counts_by_run(store, scheme)
    runs = [r for r, _ in counted]
    per_run = [counts for _, counts in counted]
    keys = [*labels, *sorted({k for counts in per_run for k in counts} - set(labels))]
    series = {labels.get(k, k): [float(counts.get(k, 0)) for counts in per_run] for k in keys}
    # Short dates on the axis: the long forms of adjacent points overlap.
    return charts.lines([i18n.date(r.as_of, "short") for r in runs], series,
                        title=_("Customers per tier across runs"), fmt=i18n.compact)
