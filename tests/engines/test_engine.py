"""The engine adapter on DuckDB: names quoted in the SQL it writes, errors without SQL in text."""

from __future__ import annotations

from pathlib import Path

import ibis
import pyarrow as pa
import pytest

from tierwise.engine import connect


def test_materialized_tables_with_quotes_in_their_name_are_dropped_safely() -> None:
    engine = connect()
    try:
        keep = engine.materialize("keep", ibis.memtable(pa.table({"x": [1, 2]})))
        # A source's name becomes part of its tables' names; a quote must not end the name.
        with engine.scope():
            made = engine.materialize('x"; DROP TABLE keep; --',
                                      ibis.memtable(pa.table({"y": [3]})))
            assert engine.execute(made.count()) == 1
        assert engine.execute(keep.count()) == 2  # still there
        assert not [t for t in engine.backend.list_tables() if "DROP" in t]  # dropped
    finally:
        engine.close()


@pytest.mark.parametrize("column", ['customer"id', "customer id"])
def test_parquet_lookup_quotes_the_column(tmp_path: Path, column: str) -> None:
    import pyarrow.parquet as pq

    from tierwise.engine import lookup_parquet

    path = f"{tmp_path}/h.parquet"
    pq.write_table(pa.table({column: ["a", "b"], "tier": ["gold", "silver"]}), path)
    assert lookup_parquet([path], column, "b").column("tier").to_pylist() == ["silver"]
