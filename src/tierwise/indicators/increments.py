"""Indicators kept as per-customer state between runs, and brought forward from new events.

A state holds, per customer, the parts an indicator is made of as of a date ``A``: whole-number
sums and counts, and for windows without a start the earliest or latest value. A run as of a later
date ``A'`` then reads three things instead of the whole history:

* the state (one row per customer);
* the *pending* rows: rows not in the state (new files, and rows that were after ``A``), with
  the indicator's own window as of ``A'``, exactly as a full run computes it;
* the *moving* rows: rows of the state's files (up to ``A``) that entered or left a window when it
  moved from ``A`` to ``A'`` (a 12-month window moving one day takes one day in and one day out).

For a window ``(S, E]`` moving to ``(S', E']`` a sum over the rows up to ``A`` is the old sum plus
the rows in ``(E, min(E', A)]`` less those in ``(S, min(S', A)]``: the two ranges are whole days,
so the identity is exact for integer sums and counts. Distinct event dates add the same way (a
date lies in one range only). The earliest or latest value of a window without a start only
grows or shrinks with new rows. Everything else (a windowed minimum, a distinct count of another
column, first and last values) cannot be expired from parts and is computed from all rows.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from tierwise import expr
from tierwise.i18n import _
from tierwise.indicators.features import _MICRO, _exact, _within, window_bounds
from tierwise.spec.models import AggregateIndicatorSpec, ProjectSpec

if TYPE_CHECKING:
    import ibis.expr.types as ir

#: Changes whenever the meaning of a state's columns changes: an older state is rebuilt.
STATE_FORMAT = 1
_ADDED = ("count", "sum", "avg", "count_distinct")
_EDGES = ("min", "max", "days_since_first", "days_since_last")


def unsupported(project: ProjectSpec, name: str) -> str | None:
    """Why the aggregate indicator ``name`` cannot be kept as state, or None when it can."""
    spec = project.indicators[name]
    assert isinstance(spec, AggregateIndicatorSpec)
    if spec.where and "days_since" in expr.functions(expr.parse(spec.where)):
        return _("{name}: its `where` counts days to the as-of date").format(name=name)
    if spec.agg in ("count", "sum", "avg"):
        return None
    if spec.agg == "count_distinct":
        if spec.column == project.sources[spec.source].time:
            return None
        return _("{name}: a distinct count of another column than the event time").format(
            name=name)
    if spec.agg in _EDGES and spec.window is None:
        return None
    if spec.agg in _EDGES:
        return _("{name}: a {agg} over a window cannot be expired").format(name=name,
                                                                          agg=spec.agg)
    return _("{name}: a {agg} value").format(name=name, agg=spec.agg)


def definition(project: ProjectSpec, source: str, members: list[str], *,
               schema: Mapping[str, str]) -> dict[str, str]:
    """A fingerprint per member and one of the source (``""``): what the state was made from.

    ``schema``: the types of the source's columns as read (an undeclared column's type comes
    from the files, and a sum's unit from its type).
    """
    def digest(value: Any) -> str:
        text = json.dumps(value, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    spec = project.sources[source]
    # Where the rows come from is the manifest's business; what they mean is the state's.
    meaning = spec.model_dump(mode="json", exclude={"label", "path"})
    out = {"": digest([STATE_FORMAT, meaning, dict(schema)])}
    for name in members:
        indicator = project.indicators[name]
        out[name] = digest(indicator.model_dump(
            mode="json", exclude={"label", "description", "unit", "default"}))
    return out


def parts(spec: AggregateIndicatorSpec) -> tuple[str, ...]:
    """The state columns of one indicator, as suffixes of ``__st_<name>__``."""
    if spec.agg in ("sum", "avg"):
        return ("s", "n")
    return ("c",) if spec.agg in ("count", "count_distinct") else ("v",)


def columns(project: ProjectSpec, members: list[str]) -> list[str]:
    """Every state column of ``members``, in order."""
    return [column(m, p) for m in members for p in parts(_spec(project, m))]


def column(name: str, part: str) -> str:
    """The state column holding ``part`` of indicator ``name``."""
    return f"__st_{name}__{part}"


def state_metrics(project: ProjectSpec, table: ir.Table, members: list[str], *,
                  as_of: date) -> dict[str, Any]:
    """The state columns of ``members`` over ``table``'s rows, windows as of ``as_of``."""
    out: dict[str, Any] = {}
    for name in members:
        spec = _spec(project, name)
        start, end = window_bounds(spec.window, as_of)
        out.update(_part_metrics(project, spec, name, table, _cond(project, spec, table,
                                                                   start, end)))
    return out


def moving_metrics(project: ProjectSpec, table: ir.Table, members: list[str], *,
                   before: date, after: date) -> dict[str, Any]:
    """What the rows up to ``before`` add to the state when the as-of date moves to ``after``.

    Sums and counts: the rows entering each window less those leaving it. Earliest and latest
    values: those of the entering rows.
    """
    import ibis

    out: dict[str, Any] = {}
    for name in members:
        spec = _spec(project, name)
        (start, end), (start2, end2) = (window_bounds(spec.window, d) for d in (before, after))
        entering = _cond(project, spec, table, end, min(end2, before))
        got = _part_metrics(project, spec, name, table, entering)
        if spec.agg in _ADDED and start is not None:
            assert start2 is not None
            leaving = _cond(project, spec, table, start, min(start2, before))
            lost = _part_metrics(project, spec, name, table, leaving)
            got = {k: ibis.coalesce(v, 0) - ibis.coalesce(lost[k], 0) for k, v in got.items()}
        out.update(got)
    return out


def moving_ranges(project: ProjectSpec, members: list[str], *, before: date, after: date
                  ) -> list[tuple[date, date]]:
    """The (exclusive, inclusive] day ranges whose rows :func:`moving_metrics` reads, merged."""
    ranges: list[tuple[date, date]] = []
    for name in members:
        spec = _spec(project, name)
        (start, end), (start2, end2) = (window_bounds(spec.window, d) for d in (before, after))
        ranges.append((end, min(end2, before)))
        if spec.agg in _ADDED and start is not None:
            assert start2 is not None
            ranges.append((start, min(start2, before)))
    merged: list[tuple[date, date]] = []
    for lo, hi in sorted(r for r in ranges if r[0] < r[1]):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def combined(project: ProjectSpec, members: list[str],
             parts_of: Sequence[Mapping[str, ir.Value]]) -> dict[str, Any]:
    """The state columns of ``members`` added up (or least / greatest) over joined parts.

    ``parts_of``: per part (the kept state, the moving rows, the pending rows), its value of
    each state column it has, by column name.
    """
    import ibis

    out: dict[str, Any] = {}
    for name in members:
        spec = _spec(project, name)
        for part in parts(spec):
            col = column(name, part)
            values = [p[col] for p in parts_of if col in p]
            if spec.agg in _ADDED:
                total = values[0].fill_null(0)
                for v in values[1:]:
                    total = total + v.fill_null(0)
                out[col] = total.cast("int64")
            elif spec.agg in ("min", "days_since_first"):
                out[col] = ibis.least(*values) if len(values) > 1 else values[0]
            else:
                out[col] = ibis.greatest(*values) if len(values) > 1 else values[0]
    return out


def finished(project: ProjectSpec, members: list[str], table: ir.Table,
             scales: dict[str, float]) -> dict[str, Any]:
    """The metrics :func:`tierwise.indicators.features.plan` names, from the state columns.

    They are the same expressions over the same whole numbers, so the values are the same bits.
    """
    import ibis

    out: dict[str, Any] = {}
    for name in members:
        spec = _spec(project, name)
        if spec.agg in ("count", "count_distinct"):
            out[name] = table[column(name, "c")]
        elif spec.agg in ("sum", "avg"):
            n = table[column(name, "n")]
            total = ibis.ifelse(n == 0, ibis.null("int64"), table[column(name, "s")])
            value = total.cast("float64") / scales[name]
            if spec.agg == "avg":
                value = value / ibis.ifelse(n == 0, ibis.null("int64"), n)
            out[name] = value
        elif spec.agg in ("days_since_first", "days_since_last"):
            out[f"_{name}"] = table[column(name, "v")]
        else:
            out[name] = table[column(name, "v")]
    return out


def scales(project: ProjectSpec, members: list[str], table: ir.Table) -> dict[str, float]:
    """The unit of each sum's whole numbers (1 for integer columns, else millionths)."""
    out = {}
    for name in members:
        spec = _spec(project, name)
        if spec.agg in ("sum", "avg"):
            assert spec.column is not None
            out[name] = 1.0 if table[spec.column].type().is_integer() else _MICRO
    return out


def _spec(project: ProjectSpec, name: str) -> AggregateIndicatorSpec:
    spec = project.indicators[name]
    assert isinstance(spec, AggregateIndicatorSpec)
    return spec


def _cond(project: ProjectSpec, spec: AggregateIndicatorSpec, table: ir.Table,
          start: date | None, end: date) -> ir.BooleanValue:
    time_column = project.sources[spec.source].time
    assert time_column is not None
    cond = _within(table[time_column], start, end)
    if spec.where:
        env = {c: table[c] for c in table.columns}
        # A `where` that counts days to the as-of date is not kept as state (unsupported).
        cond = cond & expr.compile_condition(expr.parse(spec.where), env, as_of=end)
    return cond


def _part_metrics(project: ProjectSpec, spec: AggregateIndicatorSpec, name: str, table: ir.Table,
                  cond: ir.BooleanValue) -> dict[str, Any]:
    time_column = project.sources[spec.source].time
    assert time_column is not None
    when = table[time_column]
    if spec.agg == "count":
        return {column(name, "c"): table.count(where=cond)}
    if spec.agg == "count_distinct":
        return {column(name, "c"): when.nunique(where=cond)}
    if spec.agg in ("sum", "avg"):
        assert spec.column is not None
        exact, _scale = _exact(table[spec.column])
        return {column(name, "s"): exact.sum(where=cond).cast("int64"),
                column(name, "n"): exact.count(where=cond)}
    if spec.agg in ("days_since_first", "days_since_last"):
        edge = when.min(where=cond) if spec.agg == "days_since_first" else when.max(where=cond)
        return {column(name, "v"): edge}
    assert spec.column is not None
    return {column(name, "v"): getattr(table[spec.column], spec.agg)(where=cond)}
