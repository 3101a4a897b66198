"""The row-level data-quality checks of a source, each a boolean flag expression over its rows.

:mod:`tierwise.sources.checks` counts the flags in one scan per source, fetches sample rows of
those that fired and reports them; this module says what each check tests and how its findings
read.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Literal

from tierwise import expr
from tierwise.i18n import _
from tierwise.sources.read import LoadedSource, raw_name

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from tierwise.spec.models import ColumnSpec

#: The source that lists the customers; the other sources hold their events.
CUSTOMERS = "customers"


@dataclass(frozen=True)
class Flag:
    """One check of one column: the rows failing it, and how to describe them."""

    check: str
    column: str | None
    flag: ir.BooleanValue
    describe: Any  # (row dict) -> str
    message: str
    severity: Literal["error", "info"] = "error"
    ruled_out: bool = False  # the source's file footer proves no row fails it


def row_flags(source: LoadedSource, *, as_of: date, customer_ids: ir.Column | None
              ) -> list[Flag]:
    """Every row-level check of ``source``: parsing, required, sign, ids and event dates.

    Args:
        source: the loaded source.
        as_of: the as-of date; later events are flagged (as info where the source ignores them).
        customer_ids: the known customer ids, to flag rows of unknown customers; None skips
            that check.
    """
    import ibis

    flags: list[Flag] = []
    for col, cspec in source.spec.columns.items():
        flags += _column_flags(source, col, cspec, as_of=as_of)
    flags += _id_flags(source, customer_ids)
    future = _future_flag(source, as_of=as_of)
    if future is not None:
        flags.append(future)
    # A comparison with a null is null, and a filter on "not null" drops the row unseen: a check
    # that cannot tell (e.g. an empty optional amount) did not fail.
    return [replace(f, flag=ibis.coalesce(f.flag, False)) for f in flags]


def _column_flags(source: LoadedSource, col: str, cspec: ColumnSpec, *, as_of: date
                  ) -> list[Flag]:
    """A declared column's checks: values that do not parse, empty values, negative values."""
    spec, typed, facts = source.spec, source.typed, source.facts
    prefix = f"sources.{source.name}"
    flags: list[Flag] = []
    if raw_name(col) in typed.columns:
        given = typed[raw_name(col)].notnull()
        bad = given & typed[col].isnull()
        hint = _parse_hint(cspec.type, prefix, col, decimal=spec.decimal)
        flags.append(
            Flag(
                "unparseable",
                col,
                bad,
                lambda r, c=col, t=cspec.type: _("{column} {value} is not a valid {type}").format(
                    column=c, value=repr(r[raw_name(c)]), type=t),
                _("{column}: values that are not a valid {type}; {hint}").format(
                    column=col, type=cspec.type, hint=hint),
            )
        )
        missing = ~given
    else:
        missing = typed[col].isnull()
    fact = facts.get(col)
    if cspec.required:
        flags.append(
            Flag(
                "missing",
                col,
                missing,
                lambda r, c=col: _("{column} is empty").format(column=c),
                _("{column}: empty values; fill them in or set {prefix}.columns.{column}.required: "
                  "false").format(column=col, prefix=prefix),
                ruled_out=fact is not None and fact.no_nulls(),
            )
        )
    if cspec.nonnegative and cspec.type in ("int", "float", "decimal"):
        negative = typed[col] < 0
        if spec.refunds:
            refund = expr.compile_condition(
                expr.parse(spec.refunds), {c: typed[c] for c in spec.columns}, as_of=as_of
            )
            negative = negative & ~refund
        flags.append(
            Flag(
                "negative",
                col,
                negative,
                lambda r, c=col: _("{column} {value} is negative").format(column=c,
                                                                          value=_given(r, c)),
                _("{column}: negative values that are not declared refunds; declare refund rows "
                  "with {prefix}.refunds (e.g. \"kind == 'refund'\") or correct the "
                  "amounts").format(column=col, prefix=prefix),
                ruled_out=fact is not None and fact.never_below(0),
            )
        )
    return flags


def _id_flags(source: LoadedSource, customer_ids: ir.Column | None) -> list[Flag]:
    """Customer ids used twice in the customers source, and rows of unknown customers."""
    spec, typed, name = source.spec, source.typed, source.name
    id_col = spec.id
    flags: list[Flag] = []
    if name == CUSTOMERS and id_col in typed.columns:
        dupes = typed.group_by(id_col).aggregate(n=typed.count()).filter(lambda t: t.n > 1)
        flags.append(
            Flag(
                "duplicate_id",
                id_col,
                typed[id_col].isin(dupes[id_col]),
                lambda r, c=id_col: _("{column} {value} appears more than once").format(
                    column=c, value=repr(r[c])),
                _("{column}: the same customer id on several rows; merge the rows or give each "
                  "customer its own id").format(column=id_col),
            )
        )
    if customer_ids is not None and id_col in typed.columns:
        flags.append(
            Flag(
                "unknown_customer",
                id_col,
                typed[id_col].notnull() & ~typed[id_col].isin(customer_ids),
                lambda r, c=id_col: _("{column} {value} is not in customers").format(
                    column=c, value=repr(r[c])),
                _unknown_fix(source),
            )
        )
    return flags


def _unknown_fix(source: LoadedSource) -> str:
    """How to fix rows of unknown customers: add them, or link the system's new members."""
    if source.system is not None:
        return _("{column}: ids that no record of system {system} in the latest linkage "
                 "version has: members who joined after it ran (run `tierwise link run`, then "
                 "grade again), or ids written otherwise than in the system's member table, "
                 "or a source listed under the wrong system's `events:`").format(
            column=source.spec.id, system=source.system)
    return _("{column}: rows of customers missing from the customers source; add those "
             "customers or remove the rows").format(column=source.spec.id)


def _future_flag(source: LoadedSource, *, as_of: date) -> Flag | None:
    """Events after the as-of date: an error, or info where the source says to ignore them."""
    import ibis

    spec, typed, facts = source.spec, source.typed, source.facts
    if not (spec.time and spec.time in typed.columns):
        return None
    prefix = f"sources.{source.name}"
    when = typed[spec.time]
    end: date | datetime = as_of
    if when.type().is_date():
        after = when > ibis.date(as_of)
    else:  # a timestamp on the as-of date itself is still within it
        end = datetime.combine(as_of + timedelta(days=1), time())
        after = when >= ibis.timestamp(end)
    fact = facts.get(spec.time)
    severity: Literal["error", "info"] = "info" if spec.future_events == "ignore" else "error"
    return Flag(
        "future_event",
        spec.time,
        after,
        lambda r, c=spec.time: _("{column} {value} is after the as-of date {as_of}").format(
            column=c, value=show(r[c]), as_of=as_of),
        (_("{column}: events after the as-of date {as_of}; ignored as the source says")
         if severity == "info" else
         _("{column}: events after the as-of date {as_of}; fix the dates, or set "
           "{prefix}.future_events: ignore to grade a past date from a later extract")).format(
             column=spec.time, as_of=as_of, prefix=prefix),
        severity,
        ruled_out=fact is not None and fact.never_after(end),
    )


def show(value: Any) -> str:
    """A value for a message: text quoted, dates without a midnight time, missing as 'empty'."""
    import pandas as pd

    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return _("empty")
    if isinstance(value, pd.Timestamp):
        value = value.date() if value == value.normalize() else value.to_pydatetime()
    if isinstance(value, date | datetime):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    return repr(value) if isinstance(value, str) else str(value)


def _given(record: dict[str, Any], column: str) -> str:
    """The value of ``column`` as written in the file when known, else as typed."""
    text = record.get(raw_name(column))
    return repr(text) if isinstance(text, str) else show(record[column])


def _parse_hint(kind: str, prefix: str, col: str, *, decimal: str = ".") -> str:
    if kind in ("int", "float", "decimal") and decimal == ",":
        return _('{prefix}.decimal is ",": write a comma as decimal separator and dots only '
                 'between groups of three digits (1.234,5), or set it back to "."').format(
                     prefix=prefix)
    if kind in ("int", "float", "decimal"):
        return _('use a dot as decimal separator (or set {prefix}.decimal: ",") and no '
                 "thousands separators or currency signs").format(prefix=prefix)
    if kind in ("date", "timestamp"):
        return _('write dates as YYYY-MM-DD or set {prefix}.columns.{column}.format (e.g. '
                 '"%d/%m/%Y")').format(prefix=prefix, column=col)
    if kind == "bool":
        return _("use true/false, yes/no or 1/0")
    return _("fix the values")
