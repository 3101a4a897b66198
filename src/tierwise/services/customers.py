"""One customer across the store: grade with reasons and gap, history, overrides."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from tierwise.engine import connect
from tierwise.services import history as history_service
from tierwise.services.explain_run import explain
from tierwise.services.grading import Explanation, Project
from tierwise.store import Store
from tierwise.store.overrides import Override
from tierwise.store.runs import Run

#: Seconds a customer search may run before the engine stops it. A search over a run's files
#: takes well under a second at 1M customers; a user's condition must not hold a shared server
#: for longer than a few seconds, whatever it asks.
SEARCH_TIMEOUT = 5.0


@dataclass(frozen=True)
class CustomerDetail:
    """What a customer page shows for one scheme."""

    explanation: Explanation
    history: list[history_service.Spell]
    overrides: list[Override]


def detail(project: Project, store: Store, scheme: str, customer_id: str, *,
           as_of: date | None = None) -> CustomerDetail:
    """The customer's grade in the scheme's latest (or as-of) run, history and overrides."""
    exp = explain(project, scheme, customer_id, as_of=as_of, store=store)
    spells = history_service.history(store, scheme, customer_id)
    with store.read() as tx:
        found = tx.overrides.listing(scheme=scheme, customer_id=customer_id)
    return CustomerDetail(exp, spells, found)


@dataclass(frozen=True)
class Page:
    """One page of customers and how many match in all."""

    total: int
    rows: list[dict[str, Any]]


@dataclass(frozen=True)
class CustomerQuery:
    """Which customers of a scheme's run to list, and which page of them.

    Attributes:
        scheme: the scheme.
        tier: only this tier.
        prefix: only ids starting with it.
        where: a condition on the run's indicators in the expression language, e.g.
            ``spend_12m >= 5000 and orders_12m < 3``.
        as_of: the run's as-of date (default the latest).
        limit: rows per page.
        offset: rows skipped.
        from_tier: only customers who held this tier in the official run before the listed
            one (:data:`NOT_GRADED`: who were not graded then); with ``to_tier``, a cell of the
            transition matrix.
        to_tier: only customers who hold this tier in the listed run (as ``tier``).
    """

    scheme: str
    tier: str | None = None
    prefix: str | None = None
    where: str | None = None
    as_of: date | None = None
    limit: int = 50
    offset: int = 0
    from_tier: str | None = None
    to_tier: str | None = None


#: ``from_tier`` of customers the previous run did not grade (no tier key can be "-").
NOT_GRADED = "-"


def search(store: Store, query: CustomerQuery, *, visible: set[str] | None = None,
           timeout: float | None = SEARCH_TIMEOUT) -> Page:
    """Customers of the scheme's latest (or as-of) run, filtered and paginated by id.

    Args:
        store: the store.
        query: the scheme, filters and page.
        visible: only these ids (a manager's customers); None for all.
        timeout: seconds the search may run (:data:`SEARCH_TIMEOUT`); None for no limit.

    Raises:
        ExprError: when ``where`` is not a valid condition (a number or a text is not one), or
            is longer, deeper or larger than :mod:`tierwise.expr.limits` allows.
        QueryTimeout: when the search ran past ``timeout`` and was stopped.
    """
    from tierwise import expr
    from tierwise.indicators import CUSTOMER

    tier, prefix, where = query.tier, query.prefix, query.where
    run = history_service.latest_run(store, query.scheme, query.as_of)
    folder = Path(run.folder or "")
    engine = connect()
    try:
        grades = engine.read_parquet("grades", folder / "grades.parquet")
        features = engine.read_parquet("features", folder / "features.parquet")
        table = grades.join(features, CUSTOMER)
        for wanted in {t for t in (tier, query.to_tier) if t is not None}:
            table = table.filter(table.tier == wanted)
        if query.from_tier is not None:
            table = _moved_from(engine, store, run, table, query.from_tier)
        if prefix:
            table = table.filter(table[CUSTOMER].startswith(prefix))
        if where:
            node = expr.parse(where)
            types = {c: _kind(features[c].type()) for c in features.columns if c != CUSTOMER}
            expr.check_condition(node, types)
            env = {n: table[n] for n in expr.names(node)}
            table = table.filter(expr.compile_condition(node, env, as_of=run.as_of))
        if visible is not None:
            allowed = engine.register_arrow("visible", _ids(visible))
            table = table.semi_join(allowed, table[CUSTOMER] == allowed[CUSTOMER])
        with engine.time_limit(timeout, what="the customer search", hint=(
                "narrow it with a tier, an id prefix or a simpler condition")):
            total = int(engine.execute(table.count()))
            rows = engine.to_arrow(table.order_by(CUSTOMER).limit(query.limit, offset=query.offset)
                                   ).to_pylist()
    finally:
        engine.close()
    return Page(total, rows)


def _moved_from(engine: Any, store: Store, run: Run, table: Any,
                from_tier: str) -> Any:
    """The rows of ``table`` whose customer held ``from_tier`` in the run before ``run``."""
    from tierwise.indicators import CUSTOMER

    before = history_service.previous_run(store, run)
    old = engine.read_parquet("previous_grades", Path(before.folder or "") / "grades.parquet")
    if from_tier == NOT_GRADED:
        return table.anti_join(old, table[CUSTOMER] == old[CUSTOMER])
    held = old.filter(old.tier == from_tier)
    return table.semi_join(held, table[CUSTOMER] == held[CUSTOMER])


def tier_counts(store: Store, scheme: str, ids: set[str], *, as_of: date | None = None
                ) -> dict[str, tuple[int, float | None]]:
    """Customers and value per tier among ``ids`` (a manager's book) in the latest run.

    Tiers none of ``ids`` holds are left out; the value is None when the scheme has none.
    """
    from tierwise.indicators import CUSTOMER

    run = history_service.latest_run(store, scheme, as_of)
    engine = connect()
    try:
        grades = engine.read_parquet("grades", Path(run.folder or "") / "grades.parquet")
        allowed = engine.register_arrow("visible", _ids(ids))
        mine = grades.semi_join(allowed, grades[CUSTOMER] == allowed[CUSTOMER])
        has_value = "value" in grades.columns
        counts = mine.group_by("tier").aggregate(
            n=mine.count(), **({"v": mine.value.sum()} if has_value else {}))
        rows = engine.to_arrow(counts).to_pylist()
    finally:
        engine.close()
    return {r["tier"]: (int(r["n"]), float(r["v"]) if has_value and r["v"] is not None
                        else None) for r in rows}


def _kind(dtype: Any) -> str:
    if dtype.is_numeric():
        return "number"
    if dtype.is_temporal():
        return "date"
    if dtype.is_boolean():
        return "bool"
    return "string"


def _ids(ids: set[str]) -> Any:
    import pyarrow as pa

    from tierwise.indicators import CUSTOMER

    return pa.table({CUSTOMER: pa.array(sorted(ids), pa.string())})
