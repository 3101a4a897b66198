"""What a Parquet file's footer proves about its columns, without reading a row.

Parquet writers store, per row group and column, the number of nulls and the smallest and largest
value. When those numbers rule a check out (no null in a required column, no value below zero in
a nonnegative one, no date after the as-of date), the check need not be evaluated on every row:
at 100M transactions the per-row checks cost about a second of the one scan that grading makes.

A fact is only known when every row group states it, of every file when a source is a folder
of files; a footer that leaves anything out (an old writer, statistics switched off, a file
without the column) gives no fact, and the check runs on the rows as before. The same facts let
a window that ends after a source's last event skip the per-row test of its end
(:func:`tierwise.indicators.features.plan`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ColumnFacts:
    """What the footer says of one column over all its row groups.

    Attributes:
        nulls: the number of nulls, or None when a row group does not say.
        low: the smallest non-null value, or None when unknown (or when every value is null).
        high: the largest non-null value, or None likewise.
        ascending: each row group's values all lie above the previous group's, in the order
            the files are listed. Not a proof that the column is sorted (a row group's own
            order is not stated), only a sign worth testing: see
            :func:`tierwise.sources.checks.rises`.

    """

    nulls: int | None
    low: Any = None
    high: Any = None
    ascending: bool = False

    def no_nulls(self) -> bool:
        """True when the footer proves the column holds no null."""
        return self.nulls == 0

    def never_below(self, bound: float) -> bool:
        """True when the footer proves no value is below ``bound``."""
        return _compare(self.low, bound, lambda a, b: a >= b)

    def never_after(self, bound: date | datetime) -> bool:
        """True when the footer proves no value is after ``bound`` (a date or a timestamp)."""
        high = self.high
        if isinstance(bound, datetime) and isinstance(high, datetime):
            return _compare(high, bound, lambda a, b: a < b)  # the bound is exclusive
        if isinstance(high, datetime) or not isinstance(high, date):
            return False
        return _compare(high, bound, lambda a, b: a <= b)


def parquet_facts(paths: Path | Sequence[Path], columns: Mapping[str, str]
                  ) -> dict[str, ColumnFacts]:
    """Facts about ``columns`` (declared name -> name in the file) of one or more Parquet files.

    Several files (a folder's) are one table: a column's fact is known only when every row
    group of every file states it. Columns the footers cannot speak for (nested, missing in a
    file, without statistics) are left out. A file pyarrow cannot read gives no facts at all:
    the engine's own read reports it properly.
    """
    import pyarrow.parquet as pq

    files = [paths] if isinstance(paths, Path) else list(paths)
    # An engine reading `key=value` folders (hive partitions) takes `key` from the path, not
    # from the file: what the footer says of such a column is not what is read.
    named = {part.split("=", 1)[0].casefold() for f in files for part in f.parent.parts
             if "=" in part}
    metas = []
    for path in files:
        try:
            metas.append(pq.read_metadata(path))
        except (OSError, ValueError):
            return {}
    indexes = [{meta.schema.column(i).path: i for i in range(meta.num_columns)}
               for meta in metas]
    facts: dict[str, ColumnFacts] = {}
    for declared, stored in columns.items():
        fact = (_column_facts(metas, indexes, stored)
                if metas and stored.casefold() not in named else None)
        if fact is not None:
            facts[declared] = fact
    return facts


def _column_facts(metas: list[Any], indexes: list[dict[str, int]], stored: str
                  ) -> ColumnFacts | None:
    """What every row group of ``metas`` states about the column ``stored``; None if one is mute."""
    nulls = 0
    lows: list[Any] = []
    highs: list[Any] = []
    bounded = True
    for meta, index in zip(metas, indexes, strict=True):
        if stored not in index:
            return None
        for group in range(meta.num_row_groups):
            chunk = meta.row_group(group).column(index[stored])
            stats = chunk.statistics
            if stats is None or not stats.has_null_count:
                return None
            nulls += stats.null_count
            if stats.null_count == chunk.num_values:  # all null: no bounds to state
                continue
            if stats.has_min_max:
                lows.append(stats.min)
                highs.append(stats.max)
            else:
                bounded = False
    low, high = (_edge(lows, min), _edge(highs, max)) if bounded else (None, None)
    return ColumnFacts(nulls, low, high, bounded and _rising(lows, highs))


def _rising(lows: list[Any], highs: list[Any]) -> bool:
    """Whether each row group's smallest value is above the previous group's largest."""
    try:
        return all(low > high for low, high in zip(lows[1:], highs, strict=False))
    except TypeError:
        return False


def _edge(values: list[Any], pick: Any) -> Any:
    """``pick`` (min or max) of the row groups' bounds; None when they do not order."""
    if any(isinstance(v, float) and v != v for v in values):  # NaN orders nothing
        return None
    try:
        return pick(values, default=None)
    except TypeError:
        return None


def _compare(value: Any, bound: Any, test: Any) -> bool:
    if value is None or isinstance(value, (str, bytes)):
        return False
    try:
        return bool(test(value, bound))
    except TypeError:  # e.g. an aware timestamp against a naive bound: prove nothing
        return False
