"""Compile indicator specs into one feature table per as-of date.

The feature table has one row per customer (``customer_id``) and one column per indicator. All
aggregates over one source are computed in a single grouped scan with conditional aggregates
(``sum(...) FILTER (WHERE ...)``), so ten windowed indicators over transactions cost one pass, not
ten. Windows are resolved to literal dates here, from the as-of date, so the engines never do
calendar arithmetic and agree on month ends. Sums and averages add decimals, not doubles, so every
engine and every run gets the same bits (see :func:`_exact`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, overload

from dateutil.relativedelta import relativedelta

from tierwise import expr
from tierwise.errors import SpecError
from tierwise.i18n import _
from tierwise.spec.columns import CUSTOMER
from tierwise.spec.models import (
    AggregateIndicatorSpec,
    AttributeIndicatorSpec,
    DerivedIndicatorSpec,
    ProjectSpec,
    Window,
)

if TYPE_CHECKING:
    import ibis.expr.types as ir

_UNITS = {"d": "days", "w": "weeks", "m": "months", "y": "years"}
_ZERO_DEFAULT = {"count", "sum", "count_distinct"}


def window_bounds(window: Window | None, as_of: date) -> tuple[date | None, date]:
    """The window as (exclusive start, inclusive end) dates; start is None for all history.

    ``12m`` as of 2026-06-30 is (2025-06-30, 2026-06-30]: calendar months, so a window as of a
    month end covers whole months.
    """
    if window is None:
        return None, as_of
    end = as_of - _delta(window.offset) if window.offset else as_of
    return end - _delta(window.length), end


def after(as_of: date, length: str) -> date:
    """The date ``length`` (e.g. ``12m``, ``39w``) after ``as_of``, in calendar units."""
    if not re.match(r"^\s*\d+\s*[dwmy]", length):
        raise ValueError(_("{length!r} is not a length like 90d, 12w, 12m or 1y").format(
            length=length))
    return as_of + _delta(length)


def _delta(text: str) -> relativedelta:
    match = re.match(r"^\s*(\d+)\s*([a-z])", text)
    assert match is not None  # the spec validated the form
    count, unit = int(match.group(1)), _UNITS[match.group(2)]
    if unit == "days":
        return relativedelta(days=count)
    if unit == "weeks":
        return relativedelta(weeks=count)
    return relativedelta(months=count) if unit == "months" else relativedelta(years=count)


def required_indicators(project: ProjectSpec, wanted: Iterable[str]) -> list[str]:
    """``wanted`` plus every indicator they depend on, in dependency order."""
    order: list[str] = []
    seen: set[str] = set()

    def visit(name: str, trail: tuple[str, ...]) -> None:
        if name in seen:
            return
        if name in trail:
            raise SpecError(_("indicators form a cycle: {items}").format(
                items=' -> '.join((*trail, name))))
        spec = project.indicators.get(name)
        if spec is None:
            raise SpecError(_("unknown indicator {name!r}; declare it under `indicators:`").format(
                name=name))
        if isinstance(spec, DerivedIndicatorSpec):
            for ref in sorted(expr.names(expr.parse(spec.expr))):
                visit(ref, (*trail, name))
        seen.add(name)
        order.append(name)

    for name in wanted:
        visit(name, ())
    return order


def feature_table(
    project: ProjectSpec,
    tables: Mapping[str, ir.Table],
    *,
    as_of: date,
    indicators: Iterable[str] | None = None,
    aggregates: Mapping[str, ir.Table] | None = None,
    outer: bool = False,
) -> ir.Table:
    """One row per customer with the requested indicators (all when None), as of ``as_of``.

    Args:
        project: the project spec.
        tables: clean source tables by name (``customers`` included).
        as_of: the date the indicators are computed for; later events are excluded.
        indicators: names to compute (their dependencies are added).
        aggregates: per event source, its indicators already aggregated (:func:`aggregate`),
            e.g. in the same scan as the data checks.
        outer: full-join the aggregates instead: their rows without a customer are kept (with
            a null ``customer_id``), and so are their columns starting with ``__`` (e.g. check
            counts); ``__customer`` is true on every customer's row and null on the others.

    """
    import ibis

    names = required_indicators(
        project, indicators if indicators is not None else project.indicators
    )
    customers_spec = project.sources["customers"]
    customers = tables["customers"]
    base: dict[str, Any] = {CUSTOMER: customers[customers_spec.id]}
    if outer:
        base["__customer"] = ibis.literal(True)
    for name in names:
        spec = project.indicators[name]
        if isinstance(spec, AttributeIndicatorSpec):
            value = customers[spec.attribute]
            base[name] = value if spec.default is None else ibis.coalesce(value, spec.default)
    features = customers.select(**base)

    by_source: dict[str, list[str]] = {}
    for name in names:
        spec = project.indicators[name]
        if isinstance(spec, AggregateIndicatorSpec):
            by_source.setdefault(spec.source, []).append(name)
    for source, members in by_source.items():
        agg = (aggregates or {}).get(source)
        if agg is None:
            agg = aggregate(project, source, tables[source], members, as_of=as_of)
        join = features.outer_join if outer else features.left_join
        features = join(agg, features[CUSTOMER] == agg["_key"]).drop("_key")
        fills = {}
        for name in members:
            spec = project.indicators[name]
            assert isinstance(spec, AggregateIndicatorSpec)
            default = (
                spec.default
                if spec.default is not None
                else (0 if spec.agg in _ZERO_DEFAULT else None)
            )
            if default is not None:
                fills[name] = ibis.coalesce(features[name], default)
        if fills:
            features = features.mutate(**fills)

    for name in names:
        spec = project.indicators[name]
        if isinstance(spec, DerivedIndicatorSpec):
            node = expr.parse(spec.expr)
            env = {ref: features[ref] for ref in expr.names(node)}
            features = features.mutate(**{name: expr.compile_expr(node, env, as_of=as_of)})
    helpers = [c for c in features.columns if c.startswith("__")] if outer else []
    return features.select(CUSTOMER, *names, *helpers)


@dataclass(frozen=True)
class AggregatePlan:
    """The grouped metrics computing one source's indicators, and what finishes them.

    ``metrics`` go into one ``GROUP BY`` customer (the caller may add its own, e.g. the data
    checks, to the same scan); :func:`finish` turns the grouped table into indicator columns.
    """

    source: str
    members: tuple[str, ...]
    metrics: dict[str, Any]
    post: dict[str, date]
    lasts: tuple[str, ...]


def plan(
    project: ProjectSpec, source_name: str, table: ir.Table, members: list[str], *, as_of: date,
    none_after: Callable[[date], bool] | None = None,
) -> AggregatePlan:
    """Plan the indicators ``members`` over ``table``, one event source.

    ``none_after``: True for a day when the source is known to hold no event after it (a
    Parquet footer's largest time, :mod:`tierwise.sources.facts`). A window ending on such a day
    then needs no test of its end on every row: at 100M events that test costs about a second
    of the scan.
    """
    import ibis

    source = project.sources[source_name]
    assert source.time is not None  # validated: event sources have a time column
    when = table[source.time]
    env = {c: table[c] for c in table.columns}
    metrics: dict[str, Any] = {}
    post: dict[str, date] = {}
    lasts: list[str] = []
    for name in members:
        spec = project.indicators[name]
        assert isinstance(spec, AggregateIndicatorSpec)
        start, end = window_bounds(spec.window, as_of)
        cond = _within(when, start, end, open_end=none_after is not None and none_after(end))
        if spec.where:
            where = expr.compile_condition(expr.parse(spec.where), env, as_of=as_of)
            cond = where if cond is None else cond & where
        col: Any = table[spec.column] if spec.column else None
        if spec.agg == "count":
            metrics[name] = table.count(where=cond)
        elif spec.agg == "count_distinct":
            metrics[name] = col.nunique(where=cond)
        elif spec.agg in ("sum", "avg"):
            exact, scale = _exact(col)
            total = exact.sum(where=cond).cast("float64") / scale
            if spec.agg == "avg":
                n = exact.count(where=cond)
                total = total / ibis.ifelse(n == 0, ibis.null("int64"), n)
            metrics[name] = total
        elif spec.agg in ("min", "max"):
            metrics[name] = getattr(col, spec.agg)(where=cond)
        elif spec.agg in ("days_since_first", "days_since_last"):
            edge = when.min(where=cond) if spec.agg == "days_since_first" else when.max(where=cond)
            metrics[f"_{name}"] = edge
            post[name] = end
        else:  # first / last: the value on the earliest / latest event, ties by value
            lasts.append(name)
    return AggregatePlan(source_name, tuple(members), metrics, post, tuple(lasts))


def finish(
    project: ProjectSpec, planned: AggregatePlan, grouped: ir.Table, table: ir.Table, *, as_of: date,
    keep: Iterable[str] = (),
) -> ir.Table:
    """Indicator columns from the grouped metrics (keyed by ``_key``) of :func:`plan`.

    ``keep``: other columns of ``grouped`` to pass through (e.g. check counts).
    """
    import ibis

    out = grouped.select("_key", *planned.metrics, *keep)
    if planned.post:
        out = out.mutate(
            **{
                name: ibis.date(end).delta(_to_date(out[f"_{name}"]), unit="day").cast("int64")
                for name, end in planned.post.items()
            }
        )
        out = out.drop(*(f"_{name}" for name in planned.post))
    for name in planned.lasts:
        out = out.left_join(
            _edge_value(project, table, planned.source, name, as_of=as_of), "_key"
        ).drop("_key_right")
    return out


def aggregate(
    project: ProjectSpec, source_name: str, table: ir.Table, members: list[str], *, as_of: date
) -> ir.Table:
    """The indicators ``members`` of one event source, one row per customer (``_key``)."""
    planned = plan(project, source_name, table, members, as_of=as_of)
    key = table[project.sources[source_name].id]
    grouped = table.group_by(_key=key).aggregate(_n=table.count(), **planned.metrics)
    return finish(project, planned, grouped, table, as_of=as_of)


def _edge_value(
    project: ProjectSpec, table: ir.Table, source_name: str, name: str, *, as_of: date
) -> ir.Table:
    """Value of ``column`` on the first/last event per customer; equal times take the largest."""
    spec = project.indicators[name]
    assert isinstance(spec, AggregateIndicatorSpec) and spec.column
    source = project.sources[source_name]
    assert source.time is not None
    start, end = window_bounds(spec.window, as_of)
    cond = _within(table[source.time], start, end)
    if spec.where:
        env = {c: table[c] for c in table.columns}
        cond = cond & expr.compile_condition(expr.parse(spec.where), env, as_of=as_of)
    rows = table.filter(cond).select(
        _key=table[source.id], _t=table[source.time], _v=table[spec.column]
    )
    edge = rows._t.max() if spec.agg == "last" else rows._t.min()
    rows = rows.mutate(_edge=edge.over(group_by=rows._key))
    return rows.filter(rows._t == rows._edge).group_by("_key").aggregate(**{name: rows._v.max()})


@overload
def _within(when: ir.Value, start: date | None, end: date) -> ir.BooleanValue: ...


@overload
def _within(when: ir.Value, start: date | None, end: date, *, open_end: bool
            ) -> ir.BooleanValue | None: ...


def _within(when: ir.Value, start: date | None, end: date, *, open_end: bool = False
            ) -> ir.BooleanValue | None:
    """``when`` inside the window (start, end]; None when that holds for every row.

    ``open_end``: no row is after ``end``, so only the start is tested.
    """
    import ibis

    if when.type().is_date():
        cond = None if open_end else when <= ibis.date(end)
        after = None if start is None else when > ibis.date(start)
    else:  # Timestamps: whole days, so an event at 15:00 on the end date is inside the window.
        cond = None if open_end else when < ibis.timestamp(
            datetime.combine(end + timedelta(days=1), time()))
        after = None if start is None else when >= ibis.timestamp(
            datetime.combine(start + timedelta(days=1), time()))
    if cond is None or after is None:
        return cond if after is None else after
    return cond & after


def _exact(col: ir.Value) -> tuple[ir.Value, float]:
    """``col`` as integers whose sums do not depend on the order of the rows, and their unit.

    A sum of doubles depends on the order of its additions, which Spark (and a parallel DuckDB)
    varies from run to run: a customer's spend could differ in the last bit between two reads of
    the same feature, and a join or tie on it then fails. Integers stay integers; other numbers
    sum as whole millionths (money is exact; finer fractions are rounded to 1e-6 per row), which
    costs no more than summing doubles (a 38-digit decimal cost 12% more at 100M rows). A single
    value beyond about 9.2e12 does not fit and fails the query rather than being dropped. NaN and
    infinities are left out, like nulls.
    """
    import ibis

    if col.type().is_integer():
        return col, 1.0
    num = col.cast("float64")
    finite = ibis.ifelse(num.isnan() | (num.abs() == float("inf")), ibis.null("float64"), num)
    return (finite * _MICRO).round(0).cast("int64"), _MICRO


_MICRO = 1_000_000.0


def _to_date(value: ir.Value) -> ir.Value:
    return value if value.type().is_date() else value.cast("date")
