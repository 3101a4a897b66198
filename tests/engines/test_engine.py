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


def test_engine_errors_keep_the_sql_on_the_exception_not_in_the_message() -> None:
    import traceback

    from tierwise.errors import EngineError

    engine = connect()
    try:
        table = engine.register_arrow("orders", pa.table({"amount": [1.0, -2.0]}))
        name = table.get_name()
        engine.backend.con.unregister(name)  # the table is gone when the query runs
        with pytest.raises(EngineError) as info:
            engine.execute(table.filter(table.amount > 0).count())
    finally:
        engine.close()
    error = info.value
    message = str(error)
    assert message.startswith(f"duckdb failed: Catalog Error: Table with name {name} does not "
                              "exist!")
    # DuckDB quotes the statement ("LINE 1: SELECT ..."); callers of the API never see it.
    assert "SELECT" not in message and "LINE 1" not in message
    assert error.sql is not None and error.sql.startswith("SELECT")
    assert name in error.sql and '"amount" > 0' in error.sql
    # A traceback (tierwise --debug) shows it, as a note.
    assert error.__notes__ == [f"-- generated SQL:\n{error.sql}"]
    assert error.sql in "".join(traceback.format_exception(error))


def test_driver_messages_lose_the_sql_they_quote() -> None:
    from tierwise.engine import driver_message

    duck = ValueError('Binder Error: column "x" not found\n\nLINE 1: SELECT x FROM t\n  ^')
    assert driver_message(duck) == 'Binder Error: column "x" not found'
    spark = ValueError("[UNRESOLVED_COLUMN] A column `x` cannot be resolved.\n== SQL ==\n"
                       "SELECT x FROM t\n-------^^^")
    assert driver_message(spark) == "[UNRESOLVED_COLUMN] A column `x` cannot be resolved."
    assert driver_message(KeyError()) == "KeyError"


def test_closed_columns_are_written_as_the_same_plain_strings(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    labels = ["Champions", "Can't lose them", "高价值客户", 'say "hi"']
    values = [*labels, None] * 2_000
    engine = connect()
    try:
        table = engine.register_arrow("grades", pa.table({
            "customer id": [f"c{i}" for i in range(len(values))], 'label"x': values,
            "n": list(range(len(values)))}))
        path = tmp_path / "it's here.parquet"
        engine.write_parquet(table, path, row_group_size=4_096, closed={'label"x': labels})
        engine.write_parquet(table, tmp_path / "plain.parquet", row_group_size=4_096)
    finally:
        engine.close()
    written, plain = pq.read_table(path), pq.read_table(tmp_path / "plain.parquet")
    assert written.schema == plain.schema  # plain strings, not a dictionary type
    assert written.equals(plain)
    assert written.column('label"x').to_pylist() == values
    assert pq.ParquetFile(path).metadata.num_row_groups == 3  # the row group size is kept


def test_a_value_outside_a_closed_list_writes_the_file_again_plain(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    values = ["gold", None, "bronze"] * 3_000
    engine = connect()
    try:
        table = engine.register_arrow("grades", pa.table({"label": values, "n": range(9_000)}))
        held = engine.write_parquet(table, tmp_path / "g.parquet", row_group_size=4_096,
                                    closed={"label": ["gold"], "absent": ["x"]})
        assert engine.write_parquet(table, tmp_path / "ok.parquet",
                                    closed={"label": ["gold", "bronze"]})
    finally:
        engine.close()
    assert held is False
    written = pq.read_table(tmp_path / "g.parquet")
    assert written.column("label").to_pylist() == values
    assert pq.ParquetFile(tmp_path / "g.parquet").metadata.num_row_groups == 3


def test_a_failing_query_with_closed_columns_fails_and_leaves_no_file(tmp_path: Path) -> None:
    from tierwise.errors import EngineError

    engine = connect()
    try:
        table = engine.register_arrow("grades", pa.table({"label": ["gold", "12x"]}))
        broken = table.mutate(n=table.label.cast("int64"))  # a conversion error of the query
        with pytest.raises(EngineError, match=r"Could not convert string 'gold' to INT64"):
            engine.write_parquet(broken, tmp_path / "g.parquet", closed={"label": ["gold"]})
    finally:
        engine.close()
    assert not (tmp_path / "g.parquet").exists()


@pytest.mark.parametrize("query_fails", [False, True])
def test_replacing_a_file_with_closed_columns_keeps_it_whole(tmp_path: Path,
                                                            query_fails: bool) -> None:
    import pyarrow.parquet as pq

    from tierwise.errors import EngineError

    path = tmp_path / "g.parquet"
    engine = connect()
    try:
        table = engine.register_arrow("grades", pa.table({"label": ["gold", "bronze", "12x"]}))
        engine.write_parquet(table, path)
        before = pq.read_table(path)
        if query_fails:  # the old file stays as it was
            with pytest.raises(EngineError):
                engine.write_parquet(table.mutate(n=table.label.cast("int64")), path,
                                     closed={"label": ["gold"]})
        else:  # written again plain, over the old file
            assert engine.write_parquet(table.mutate(n=1), path,
                                        closed={"label": ["gold"], "n": ["1"]}) is False
    finally:
        engine.close()
    after = pq.read_table(path)
    assert after.equals(before) if query_fails else after.column_names == ["label", "n"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.parquet"]
