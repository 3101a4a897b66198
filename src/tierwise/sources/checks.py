"""Data-quality checks on loaded sources, and the clean tables that grading reads.

Every row-level check is a boolean flag expression; one aggregate query per source counts them
all in a single scan, and only the checks that fired fetch sample rows. A source with an error is
not graded unless the user opts to drop bad rows, and then every dropped row is counted.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

from tierwise.errors import DataError
from tierwise.i18n import N_, _, ngettext
from tierwise.sources.flags import CUSTOMERS, Flag, row_flags, show
from tierwise.sources.read import ROW, LoadedSource, strip_raw

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from tierwise.engine import Engine

SAMPLES = 5
WHOLE_SOURCE = frozenset({"empty"})  # findings about a source as a whole, not about rows
#: The name of each check, for people.
CHECK_NAMES = {
    "empty": N_("empty source"),
    "unparseable": N_("unreadable values"),
    "missing": N_("empty values"),
    "negative": N_("negative values"),
    "duplicate_id": N_("duplicate customer ids"),
    "unknown_customer": N_("unknown customers"),
    "future_event": N_("events after the as-of date"),
}


@dataclass(frozen=True)
class Finding:
    """One kind of problem in one column of one source, with its count and sample rows."""

    source: str
    location: str
    check: str
    column: str | None
    count: int
    message: str
    samples: tuple[str, ...] = ()
    severity: Literal["error", "info"] = "error"

    def check_name(self) -> str:
        """The check, as a person reads it, in the current language (``check`` is its key)."""
        return _(CHECK_NAMES.get(self.check, self.check))

    def __str__(self) -> str:
        counted = ngettext(" ({n} row)", " ({n} rows)", self.count).format(n=self.count) \
            if self.count else ""
        lines = [f"{self.location}: {self.message}{counted}"]
        lines += [f"    {sample}" for sample in self.samples]
        return "\n".join(lines)


@dataclass
class QualityReport:
    """What the checks found in every source, and what was dropped."""

    rows: dict[str, int] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    dropped: dict[str, int] = field(default_factory=dict)
    encodings: dict[str, str] = field(default_factory=dict)
    #: Per source, the checks its Parquet footer answered ("missing: amount"): no row read.
    by_statistics: dict[str, list[str]] = field(default_factory=dict)
    #: Per event source, how its rows were read when the project keeps state (one line each).
    state: dict[str, str] = field(default_factory=dict)
    #: The same in English, for ``run.json``.
    state_record: dict[str, str] = field(default_factory=dict)

    @property
    def errors(self) -> list[Finding]:
        """Findings that stop grading unless bad rows are dropped."""
        return [f for f in self.findings if f.severity == "error"]

    @property
    def ok(self) -> bool:
        """True when no check found an error."""
        return not self.errors

    def answered(self, source: str) -> list[str]:
        """The checks of ``source`` its footer answered, for people ("amount: empty values")."""
        named = []
        for entry in self.by_statistics.get(source, []):
            check, _sep, column = entry.partition(": ")
            words = _(CHECK_NAMES.get(check, check))
            named.append(_("{column}: {check}").format(column=column, check=words)
                         if column else words)
        return named

    @property
    def droppable(self) -> bool:
        """True when dropping bad rows resolves every error (an empty source has none to drop)."""
        return all(f.check not in WHOLE_SOURCE for f in self.errors)

    def summary(self) -> str:
        """All errors as text, for an exception message."""
        head = _("{n} data problem(s); nothing was graded").format(n=len(self.errors))
        tail = (
            _("Fix the data, or run with --drop-bad-rows to grade without these rows "
              "(dropped rows are counted in the report).")
            if self.droppable
            else _("Fix the data; dropping bad rows does not help a source without rows.")
        )
        return "\n".join([head, *(str(f) for f in self.errors), tail])


def check_sources(
    loaded: dict[str, LoadedSource],
    engine: Engine,
    *,
    as_of: date,
    drop_bad_rows: bool = False,
    report: QualityReport | None = None,
    raise_errors: bool = True,
) -> tuple[dict[str, ir.Table], QualityReport]:
    """Check every source and return the clean tables.

    Args:
        loaded: the sources, by name; ``customers`` is checked first.
        engine: the engine holding them.
        as_of: the as-of date; events after it are errors (or ignored where the source says so).
        drop_bad_rows: drop rows that fail a check instead of failing, and count them.
        report: a report to add to (a new one when None).
        raise_errors: raise when a check fails; else the caller reads the report.

    Raises:
        DataError: carrying the :class:`QualityReport` when a check fails and bad rows are kept,
            or when a source has no rows at all (there is nothing to drop then).

    """
    report = report if report is not None else QualityReport()
    clean: dict[str, ir.Table] = {}
    order = sorted(loaded, key=lambda n: n != CUSTOMERS)
    for name in order:
        source = loaded[name]
        if source.encoding:
            report.encodings[name] = source.encoding
        ids = None
        if name != CUSTOMERS and CUSTOMERS in clean:
            customers, key = clean[CUSTOMERS], loaded[CUSTOMERS].spec.id
            # NOT IN over a list holding a null is never true: an empty customer id (reported
            # on its own) must not hide every unknown customer.
            ids = customers.filter(customers[key].notnull())[key]
        flags = row_flags(source, as_of=as_of, customer_ids=ids)
        table = source.typed
        rising = {c for c, fact in source.facts.items() if fact.ascending}
        counts = _count(engine, table, flags, rising=rising)
        source.check_facts_hold()
        _record(
            report,
            source,
            engine,
            rows=counts.pop("__rows"),
            fired=[(f, counts[_name(f)]) for f in flags],
        )
        bad: list[ir.BooleanValue] = []
        ignored: list[ir.BooleanValue] = []
        for flag in flags:
            count = counts[_name(flag)]
            if count and flag.severity == "info":
                ignored.append(flag.flag)
            elif count and drop_bad_rows:
                bad.append(flag.flag)
        if bad:
            import ibis

            any_bad = ibis.or_(*bad)
            # Only rows failing an error check count as dropped; ignored rows are info.
            report.dropped[name] = int(engine.execute(table.count(where=any_bad)))
            table = table.filter(~any_bad)
        if ignored:
            import ibis

            table = table.filter(~ibis.or_(*ignored))
        clean[name] = strip_raw(table)
    if raise_errors and not report.ok and not (drop_bad_rows and report.droppable):
        raise DataError(report.summary(), report)
    return clean, report


def check_and_aggregate(
    loaded: dict[str, LoadedSource],
    engine: Engine,
    *,
    as_of: date,
    metrics: Mapping[str, Callable[[ir.Table], dict[str, Any]]],
) -> tuple[dict[str, ir.Table], dict[str, ir.Table], QualityReport]:
    """Check every source and aggregate the event sources per customer in the same scan.

    Each event source is read once: one ``GROUP BY`` customer computes the caller's metrics
    (``metrics[name](table)``, the indicators) beside a count per check, and the unknown-customer
    check runs on that per-customer result (a million keys) instead of on every raw row. This is
    :func:`check_sources` without ``drop_bad_rows``, at the cost of one scan instead of two.

    Returns:
        The clean tables, the per-customer aggregates (keyed by ``_key``, materialized in the
        engine, holding the caller's metrics), and the report.

    Raises:
        DataError: carrying the :class:`QualityReport` when a check fails.

    """
    clean, report = _check_customers(loaded, engine, as_of=as_of)
    aggregates = _aggregate_checked(loaded, engine, as_of=as_of, metrics=metrics,
                                    clean=clean, report=report)
    if not report.ok:
        raise DataError(report.summary(), report)
    return clean, aggregates, report


def check_and_build(
    loaded: dict[str, LoadedSource],
    engine: Engine,
    *,
    as_of: date,
    metrics: Mapping[str, Callable[[ir.Table], dict[str, Any]]],
    build: Callable[[dict[str, ir.Table], dict[str, ir.Table], bool], ir.Table],
    extend: Mapping[str, Callable[[ir.Table, str], ir.Table]] | None = None,
    checked: Callable[[ir.Table], None] | None = None,
) -> tuple[dict[str, ir.Table], ir.Table, QualityReport]:
    """:func:`check_and_aggregate` and the feature table in one statement over the sources.

    ``build(tables, aggregates, outer)`` makes the feature table from the clean tables and the
    per-customer aggregates (keyed by ``_key``). With ``outer`` the aggregates are not
    materialized: they carry their check counts in columns starting with ``__``, and ``build``
    must full-join them to the customers, keep those columns, and add ``__customer`` (true on
    every customer's row). One statement then scans the events, aggregates and joins, and its
    result (materialized) also yields the counts: rows of unknown customers are the aggregate
    rows with a key and no customer. When the customers fail a check (duplicate ids would repeat
    aggregate rows in the join) or an event source computes no metrics, this falls back to
    :func:`check_and_aggregate` and ``build(..., outer=False)``.

    ``extend[name](grouped, prefix)``, where given, adds what an event source's scan did not
    read to its per-customer result (kept state, see :mod:`tierwise.services.state`): it returns
    the grouped table with the same columns, rows of customers the scan did not see included and
    ``<prefix>rows`` counting every row of the source. ``checked(wide)`` is called with the
    materialized result (its ``__``-columns included) once every check passed.

    Returns:
        The clean tables, the feature table (materialized in the engine), and the report.

    Raises:
        DataError: carrying the :class:`QualityReport` when a check fails.

    """
    clean, report = _check_customers(loaded, engine, as_of=as_of)
    events = [n for n in loaded if n != CUSTOMERS]
    if extend and (not report.ok or any(n not in metrics for n in events)):
        raise DataError(report.summary(), report)
    if not report.ok or any(n not in metrics for n in events):
        aggregates = _aggregate_checked(loaded, engine, as_of=as_of, metrics=metrics,
                                        clean=clean, report=report)
        if not report.ok:
            raise DataError(report.summary(), report)
        return clean, engine.materialize("features", build(clean, aggregates, False)), report
    scans: dict[str, _Scan] = {}
    grouped: dict[str, ir.Table] = {}
    tables = dict(clean)
    # Sources whose rows the footers count: no count per customer (one less aggregate state
    # per customer, about a second at 100M rows). Kept state needs it (``extend``, ``checked``).
    lean = {n for n in events
            if extend is None and checked is None and _footer_counted(engine, loaded[n])}
    for i, name in enumerate(events):
        scan = _scan(loaded[name], as_of=as_of, metrics=metrics)
        prefix = f"__s{i}"
        table = scan.table
        rows = {} if name in lean else {"rows": table.count()}
        named = {f"{prefix}{c}": v for c, v in {**rows, **scan.checks}.items()}
        g = table.group_by(_key=table[loaded[name].spec.id]).aggregate(**named, **scan.own)
        if extend and name in extend:
            g = extend[name](g, prefix)
        grouped[name] = g.mutate(**{f"{prefix}keyed": g._key.notnull()})
        scans[name] = scan
        # Rows ignored by an info check fall outside every window (they are future events).
        tables[name] = strip_raw(table)
    wide = engine.materialize("features_checked", build(tables, grouped, True))
    unmatched = _record_wide(report, loaded, engine, wide, scans, clean, lean, as_of=as_of)
    if not report.ok:
        raise DataError(report.summary(), report)
    if checked is not None:
        checked(wide)
    helpers = [c for c in wide.columns if c.startswith("__s") or c == "__customer"]
    features = wide.drop(*helpers)
    if unmatched:  # rows of transactions without a customer id
        features = wide.filter(wide["__customer"].notnull()).drop(*helpers)
    return clean, features, report


def _record_wide(report: QualityReport, loaded: dict[str, LoadedSource], engine: Engine,
                 wide: ir.Table, scans: dict[str, _Scan], clean: dict[str, ir.Table],
                 lean: set[str], *, as_of: date) -> int:
    """Record each scanned event source's findings from ``wide``, its clean table in ``clean``.

    Returns how many rows of ``wide`` have no customer (unknown ids and the group of rows
    without an id): the features leave those rows out.
    """
    counts = _wide_counts(engine, wide, {n: s.checks for n, s in scans.items()}, lean)
    key = loaded[CUSTOMERS].spec.id
    ids = clean[CUSTOMERS].filter(clean[CUSTOMERS][key].notnull())[key]
    for i, name in enumerate(scans):
        prefix = f"__s{i}"
        if name in lean:
            counts.update(_counted_apart(engine, scans[name].table, loaded[name].spec.id, ids,
                                         prefix, unknown_keys=counts[f"{prefix}unknown"]))
        mine = {c: counts[f"{prefix}{c}"] for c in ("rows", *scans[name].checks, "unknown")}
        clean[name] = _record_scan(report, loaded[name], engine, scans[name], as_of=as_of,
                                   ids=ids, counts={f"__{c}": n for c, n in mine.items()})
    return counts["__unmatched"]


def _wide_counts(engine: Engine, wide: ir.Table, checks: dict[str, dict[str, Any]],
                 lean: set[str]) -> dict[str, int]:
    """Each event source's check counts summed over ``wide``, with its unknown customers' rows.

    Source ``i`` of ``checks`` has the columns ``__s<i>...``; ``__unmatched`` counts the rows
    without a customer id. A ``lean`` source has no row count per customer: its ``rows`` are
    left out and its ``unknown`` counts unknown customers, not their rows.
    """
    matched = wide["__customer"].notnull()
    sums: dict[str, Any] = {}
    for i, name in enumerate(checks):
        prefix = f"__s{i}"
        unknown = ~matched & wide[f"{prefix}keyed"]
        for c in ("rows", *checks[name]) if name not in lean else checks[name]:
            sums[f"{prefix}{c}"] = wide[f"{prefix}{c}"].sum()
        sums[f"{prefix}unknown"] = (wide.count(where=unknown) if name in lean
                                    else wide[f"{prefix}rows"].sum(where=unknown))
    sums["__unmatched"] = wide.count(where=~matched)
    row = engine.execute(wide.aggregate(**sums)).iloc[0]
    return {c: 0 if row[c] is None or row[c] != row[c] else int(row[c]) for c in sums}


def _footer_counted(engine: Engine, source: LoadedSource) -> bool:
    """Whether DuckDB counts the source's rows from its Parquet footers, reading none.

    Parquet read with its footers (they proved some fact, so the source has a ``stamp``), on
    DuckDB, and not mapped to linked customers.
    """
    return engine.kind == "duckdb" and source.stamp is not None and source.system is None


def _counted_apart(engine: Engine, table: ir.Table, key: str, ids: ir.Column, prefix: str, *,
                   unknown_keys: int) -> dict[str, int]:
    """A lean source's rows (from the footers), and its rows of unknown customers.

    Those are counted only when there are unknown customers (an anti-join over the rows), so
    clean data pays nothing for them.
    """
    rows = int(engine.execute(table.count()))
    unknown = (int(engine.execute(table.count(where=table[key].notnull()
                                                  & ~table[key].isin(ids))))
               if unknown_keys else 0)
    return {f"{prefix}rows": rows, f"{prefix}unknown": unknown}


def _check_customers(loaded: dict[str, LoadedSource], engine: Engine, *, as_of: date
                     ) -> tuple[dict[str, ir.Table], QualityReport]:
    report = QualityReport()
    customers = {CUSTOMERS: loaded[CUSTOMERS]}
    clean, _report = check_sources(customers, engine, as_of=as_of, report=report, raise_errors=False)
    return clean, report


@dataclass(frozen=True)
class _Scan:
    """What one grouped scan of an event source computes: check counts and the caller's metrics.

    ``checks`` counts rows failing any error check (``__bad``, one column: clean data is the
    common case, and only when some rows fail are the checks counted one by one) and each info
    check (``__info<i>``).
    """

    table: ir.Table
    flags: list[Flag]
    checks: dict[str, Any]
    own: dict[str, Any]


def _scan(source: LoadedSource, *, as_of: date,
          metrics: Mapping[str, Callable[[ir.Table], dict[str, Any]]]) -> _Scan:
    import ibis

    table = source.typed
    flags = row_flags(source, as_of=as_of, customer_ids=None)
    errors = [f.flag for f in flags if f.severity == "error" and not f.ruled_out]
    checks = {f"info{i}": table.count(where=f.flag)
              for i, f in enumerate(flags) if f.severity == "info" and not f.ruled_out}
    if errors:
        checks["bad"] = table.count(where=ibis.or_(*errors))
    own = metrics[source.name](table) if source.name in metrics else {}
    return _Scan(table, flags, checks, own)


def _record_scan(report: QualityReport, source: LoadedSource, engine: Engine, scan: _Scan, *,
                 as_of: date, ids: ir.Column, counts: dict[str, int]) -> ir.Table:
    """Record a scanned source's findings from its summed counts; returns its clean table.

    ``counts`` holds ``__rows``, ``__unknown`` and ``__`` + each of ``scan.checks``.
    """
    import ibis

    source.check_facts_hold()  # the rows were scanned: the footer it trusted must still stand
    if source.encoding:
        report.encodings[source.name] = source.encoding
    flags = scan.flags
    per_flag = (
        _count(engine, scan.table, flags)
        if counts.get("__bad")
        else {_name(f): counts.get(f"__info{i}", 0) for i, f in enumerate(flags)}
    )
    unknown_flag = row_flags(source, as_of=as_of, customer_ids=ids)
    unknown_flag = [f for f in unknown_flag if f.check == "unknown_customer"]
    _record(
        report,
        source,
        engine,
        rows=counts["__rows"],
        fired=[(f, per_flag[_name(f)]) for f in flags]
        + [(f, counts["__unknown"]) for f in unknown_flag],
    )
    table = scan.table
    ignored = [f.flag for f in flags if f.severity == "info" and per_flag[_name(f)]]
    if ignored:
        table = table.filter(~ibis.or_(*ignored))
    return strip_raw(table)


def _aggregate_checked(
    loaded: dict[str, LoadedSource],
    engine: Engine,
    *,
    as_of: date,
    metrics: Mapping[str, Callable[[ir.Table], dict[str, Any]]],
    clean: dict[str, ir.Table],
    report: QualityReport,
) -> dict[str, ir.Table]:
    """The event sources' checked aggregates, materialized; adds their clean tables to ``clean``."""
    key = loaded[CUSTOMERS].spec.id
    ids = clean[CUSTOMERS].filter(clean[CUSTOMERS][key].notnull())[key]
    aggregates: dict[str, ir.Table] = {}
    for name, source in loaded.items():
        if name == CUSTOMERS:
            continue
        scan = _scan(source, as_of=as_of, metrics=metrics)
        table = scan.table
        checks = {f"__{c}": v for c, v in scan.checks.items()}
        grouped = table.group_by(_key=table[source.spec.id]).aggregate(
            __rows=table.count(), **checks, **scan.own
        )
        grouped = engine.materialize(f"{name}_per_customer", grouped)
        unknown = grouped._key.notnull() & ~grouped._key.isin(ids)
        sums = {c: grouped[c].sum() for c in ("__rows", *checks)}
        sums["__unknown"] = grouped.__rows.sum(where=unknown)
        row = engine.execute(grouped.aggregate(**sums)).iloc[0]
        counts = {c: 0 if row[c] is None or row[c] != row[c] else int(row[c]) for c in sums}
        clean[name] = _record_scan(report, source, engine, scan, as_of=as_of, ids=ids,
                                   counts=counts)
        aggregates[name] = grouped.drop("__rows", *checks)
    return aggregates


def _record(
    report: QualityReport,
    source: LoadedSource,
    engine: Engine,
    *,
    rows: int,
    fired: list[tuple[Flag, int]],
) -> None:
    """Add a source's row count and the findings of its checks that fired to ``report``."""
    report.rows[source.name] = rows
    answered = [_name(f).rstrip(":").replace(":", ": ") for f, _count in fired if f.ruled_out]
    if answered:
        report.by_statistics[source.name] = answered
    if rows == 0:
        report.findings.append(
            Finding(source.name, source.location, "empty", None, 0, _empty_message(source))
        )
    for flag, count in fired:
        if count:
            report.findings.append(
                Finding(
                    source.name,
                    source.location,
                    flag.check,
                    flag.column,
                    count,
                    flag.message,
                    _samples(engine, source.typed, flag, source),
                    flag.severity,
                )
            )


def _empty_message(source: LoadedSource) -> str:
    """Why a source has no rows, in the words of where it came from."""
    spec, at = source.spec, f"sources.{source.name}"
    if spec.query:
        return _("the query returned no rows; check `{at}.query` (its conditions, and that the "
                 "database holds the data of the as-of date)").format(at=at)
    if spec.url or spec.resolved_format() == "duckdb":
        return _("table {table} has no rows; check `{at}.table` and that it is loaded").format(
            table=repr(spec.table), at=at)
    return _("the source has no rows; check the path or the export")


def _name(flag: Flag) -> str:
    return flag.check + ":" + (flag.column or "")


def _count(engine: Engine, table: ir.Table, flags: list[Flag], *,
           rising: Collection[str] = ()) -> dict[str, int]:
    """How many rows fail each of ``flags``, and the table's rows (``__rows``).

    ``rising`` names columns whose footers suggest their values rise from row group to row
    group; their duplicate check first tries :func:`rises`.
    """
    metrics = {"__rows": table.count()}
    duplicates = [f for f in flags if f.check == "duplicate_id"]
    proven: set[str] = set()  # checks the ids' order answered
    for flag in flags:
        if flag.ruled_out:
            continue
        if flag.check == "duplicate_id":
            assert flag.column is not None
            if flag.column in rising and engine.kind == "duckdb" and rises(
                    engine, table, flag.column):
                proven.add(_name(flag))
                continue
            # Rows beyond one per id: zero in clean data, and a distinct count costs less than
            # matching every row against the repeated ids; those are counted only when needed.
            metrics[_name(flag)] = table[flag.column].count() - table[flag.column].nunique()
        else:
            metrics[_name(flag)] = table.count(where=flag.flag)
    row = engine.execute(table.aggregate(**metrics)).iloc[0]
    counts = {key: int(row[key]) for key in metrics}
    counts.update({_name(f): 0 for f in flags if f.ruled_out or _name(f) in proven})
    for flag in duplicates:
        if counts[_name(flag)]:
            counts[_name(flag)] = int(engine.execute(table.count(where=flag.flag)))
    return counts


def rises(engine: Engine, table: ir.Table, column: str) -> bool:
    """True when each non-null value of ``column`` is above the one before it: none repeats.

    A customers file exported in id order proves its ids unique this way in one pass that
    keeps no set of the ids: 0.45 s against 1.4 s for a distinct count at 10M ids. The proof
    holds in whatever order the engine hands the rows over, so the order only decides whether
    it succeeds; when it does not, the caller counts the distinct ids as before. DuckDB only:
    a window without partitions moves every row to one Spark task.
    """
    import ibis

    ids = table.filter(table[column].notnull()).select(column)
    paired = ids.mutate(_before=ids[column].lag().over(ibis.window()))
    fallen = engine.execute(paired.count(where=paired[column] <= paired._before))
    return int(fallen) == 0


def _samples(
    engine: Engine,
    table: ir.Table,
    flag: Flag,
    source: LoadedSource,
) -> tuple[str, ...]:
    spec = source.spec
    # Without row numbers (Parquet, databases) a row is named by its customer id and event time.
    keys = [ROW] if ROW in table.columns else [spec.id, *([spec.time] if spec.time else [])]
    rows = engine.execute(table.filter(flag.flag).order_by(*keys).limit(SAMPLES))
    out = []
    for record in rows.to_dict("records"):
        if ROW in record:
            where = _("row {row}").format(row=int(record[ROW]))
        elif keys == [flag.column]:  # the text names the row already: "customer_id 'C1' ..."
            out.append(flag.describe(record))
            continue
        else:
            where = _(", ").join(f"{k} {show(record[k])}" for k in keys)
        out.append(f"{where}: {flag.describe(record)}")
    return tuple(out)
