"""Sources without row numbers: Parquet files and databases through SQLAlchemy URLs."""

from __future__ import annotations

import re
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from tests.sources.shop import GRADES, YAML, run_fails, shop, tiers
from tierwise.errors import DataError, SpecError
from tierwise.services.grading import Project, check, run

CUSTOMER_ROWS = [
    ("c1", "Ann", "2024-01-15"),
    ("c2", "Bob", "2024-03-02"),
    ("c3", "Cy", "2025-07-09"),
]
ORDER_ROWS = [
    ("o1", "c1", "2026-01-05", 80.0, "sale"),
    ("o2", "c1", "2026-03-10", 50.0, "sale"),
    ("o3", "c2", "2026-02-11", 30.0, "sale"),
    ("o4", "c2", "2026-02-20", -10.0, "refund"),
    ("o5", "c3", "2025-03-01", 500.0, "sale"),
]


def _parquet(folder: Path, rows: list[tuple[str, str, str, float, str]]) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = list(zip(*rows, strict=True))
    table = pa.table(
        {
            "order_id": pa.array(columns[0]),
            "customer_id": pa.array(columns[1]),
            "order_date": pa.array([date.fromisoformat(d) for d in columns[2]], pa.date32()),
            "amount": pa.array(columns[3], pa.float64()),
            "kind": pa.array(columns[4]),
        }
    )
    pq.write_table(table, folder / "orders.parquet")
    return folder


PARQUET_YAML = YAML.replace("path: orders.csv", "path: orders.parquet")


def test_parquet_source_grades(tmp_path: Path) -> None:
    folder = _parquet(shop(tmp_path, yaml=PARQUET_YAML, orders=None), ORDER_ROWS)
    assert tiers(run(Project.open(folder), "value")) == GRADES


def test_parquet_negative_amount_is_identified_by_customer_and_time(tmp_path: Path) -> None:
    rows = [*ORDER_ROWS]
    rows[2] = ("o3", "c2", "2026-02-11", -30.0, "sale")
    folder = _parquet(shop(tmp_path, yaml=PARQUET_YAML, orders=None), rows)
    error = run_fails(folder)
    lines = str(error).splitlines()
    assert lines[1].startswith(
        "orders.parquet: amount: negative values that are not declared refunds"
    )
    # No row numbers in Parquet: the customer id and the event time name the row.
    assert lines[2] == "    customer_id 'c2', order_date 2026-02-11: amount -30.0 is negative"
    assert "row " not in str(error)


def test_parquet_drop_bad_rows_counts_them(tmp_path: Path) -> None:
    rows = [*ORDER_ROWS, ("o6", "c9", "2026-04-01", 15.0, "sale")]
    folder = _parquet(shop(tmp_path, yaml=PARQUET_YAML, orders=None), rows)
    result = run(Project.open(folder), "value", drop_bad_rows=True)
    assert result.quality.dropped == {"transactions": 1}
    assert tiers(result) == GRADES


# ------------------------------------------------------------------------------------------ SQLite


def _sqlite(folder: Path, orders: list[tuple[object, ...]] | None = None) -> Path:
    path = folder / "shop.db"
    with sqlite3.connect(path) as con:
        con.execute("create table customers (customer_id text, name text, signup_date text)")
        con.executemany("insert into customers values (?, ?, ?)", CUSTOMER_ROWS)
        con.execute(
            "create table orders (order_id text, customer_id text, order_date text, "
            "amount real, kind text)"
        )
        con.executemany("insert into orders values (?, ?, ?, ?, ?)", orders or ORDER_ROWS)
    con.close()
    return path


def _sql_yaml(url: str, orders: str) -> str:
    return YAML.replace("path: customers.csv", f"url: {url}\n    table: customers").replace(
        "path: orders.csv", f"url: {url}\n    {orders}"
    )


def test_sqlite_tables_load_and_grade(tmp_path: Path) -> None:
    db = _sqlite(tmp_path)
    folder = shop(
        tmp_path, yaml=_sql_yaml(f"sqlite:///{db}", "table: orders"), customers=None, orders=None
    )
    result = run(Project.open(folder), "value")
    assert tiers(result) == GRADES
    assert result.quality.rows == {"customers": 3, "transactions": 5}


def test_sqlite_query_loads_and_grades(tmp_path: Path) -> None:
    db = _sqlite(tmp_path)
    # Without the refund c2's spend is 30: still mid (orders_12m = 1, spend 30 < 100).
    query = "query: \"select * from orders where kind = 'sale'\""
    folder = shop(tmp_path, yaml=_sql_yaml(f"sqlite:///{db}", query), customers=None, orders=None)
    result = run(Project.open(folder), "value")
    assert tiers(result) == GRADES
    assert result.quality.rows == {"customers": 3, "transactions": 4}  # o4 left out


def test_sqlite_bad_value_in_a_loosely_typed_column_is_reported(tmp_path: Path) -> None:
    # SQLite stores the text "12,5" in a REAL column; it reaches the checks as text.
    orders: list[tuple[object, ...]] = [*ORDER_ROWS]
    orders[2] = ("o3", "c2", "2026-02-11", "12,5", "sale")
    db = _sqlite(tmp_path, orders)
    folder = shop(
        tmp_path, yaml=_sql_yaml(f"sqlite:///{db}", "table: orders"), customers=None, orders=None
    )
    error = run_fails(folder)
    assert f"sqlite:///{db}:orders: amount: values that are not a valid float" in str(error)
    assert (
        "    customer_id 'c2', order_date 2026-02-11: amount '12,5' is not a valid float"
        in str(error).splitlines()
    )


def test_sqlite_bad_table_names_source_and_setting(tmp_path: Path) -> None:
    db = _sqlite(tmp_path)
    folder = shop(
        tmp_path, yaml=_sql_yaml(f"sqlite:///{db}", "table: ordrs"), customers=None, orders=None
    )
    error = run_fails(folder)
    assert str(error) == (
        f"source 'transactions': reading table 'ordrs' from sqlite:///{db} failed: "
        "OperationalError: (sqlite3.OperationalError) no such table: ordrs; check "
        "`sources.transactions.table` and `sources.transactions.url`"
    )
    with pytest.raises(type(error), match="no such table: ordrs"):
        check(Project.open(folder))


def test_sqlite_bad_query_names_the_query_setting(tmp_path: Path) -> None:
    db = _sqlite(tmp_path)
    yaml = _sql_yaml(f"sqlite:///{db}", 'query: "select * from orders where"')
    error = run_fails(shop(tmp_path, yaml=yaml, customers=None, orders=None))
    assert str(error).startswith(
        f"source 'transactions': reading the query from sqlite:///{db} failed"
    )
    assert "check `sources.transactions.query`" in str(error)


@pytest.mark.parametrize(
    "url",
    [
        # No server listens on port 9; without the driver installed the error is the driver's.
        "postgresql://tw:s3cret@127.0.0.1:9/shop?connect_timeout=2",
        # SQLite takes no credentials: the URL itself is refused.
        "sqlite://tw:s3cret@/shop.db",
    ],
    ids=["postgres", "sqlite"],
)
def test_database_errors_hide_the_password(tmp_path: Path, url: str) -> None:
    folder = shop(tmp_path, yaml=_sql_yaml(url, "table: orders"), customers=None, orders=None)
    error = run_fails(folder)
    assert str(error).startswith("source 'customers': ")
    assert "tw:***@" in str(error)
    assert "s3cret" not in str(error)


# ---------------------------------------------------------------------- table names and quoting


def _duckdb_file(folder: Path) -> Path:
    import duckdb

    path = folder / "shop.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create table customers (customer_id text, name text, signup_date date)")
        con.executemany("insert into customers values (?, ?, ?)", CUSTOMER_ROWS)
        # A schema, and a table name that needs quoting (a blank and a keyword).
        con.execute('create schema sales')
        con.execute('create table sales."order lines" (order_id text, customer_id text, '
                    "order_date date, amount double, kind text)")
        con.executemany('insert into sales."order lines" values (?, ?, ?, ?, ?)', ORDER_ROWS)
    return path


def _duckdb_yaml(table: str) -> str:
    return YAML.replace("path: customers.csv", "path: shop.duckdb\n    table: customers").replace(
        "path: orders.csv", f"path: shop.duckdb\n    table: {table}"
    )


def test_duckdb_schema_qualified_table_is_quoted_part_by_part(tmp_path: Path) -> None:
    _duckdb_file(tmp_path)
    folder = shop(tmp_path, yaml=_duckdb_yaml("sales.order lines"), customers=None, orders=None)
    result = run(Project.open(folder), "value")
    assert tiers(result) == GRADES
    assert result.quality.rows == {"customers": 3, "transactions": 5}


def test_sqlite_schema_qualified_table_is_read(tmp_path: Path) -> None:
    db = _sqlite(tmp_path)
    yaml = _sql_yaml(f"sqlite:///{db}", "table: main.orders")
    folder = shop(tmp_path, yaml=yaml, customers=None, orders=None)
    assert tiers(run(Project.open(folder), "value")) == GRADES


INJECTION = "customers\"; COPY (SELECT 42) TO '{out}'; --"


def test_a_quote_in_a_table_name_is_refused_at_validation(tmp_path: Path) -> None:
    _duckdb_file(tmp_path)
    out = tmp_path / "leak.csv"
    table = INJECTION.format(out=out)
    # YAML single quotes: '' is one quote.
    yaml = _duckdb_yaml("'" + table.replace("'", "''") + "'")
    folder = shop(tmp_path, yaml=yaml, customers=None, orders=None)
    with pytest.raises(SpecError) as info:
        Project.open(folder)
    # (The indicators over the refused source are reported too.)
    [problem] = [p for p in info.value.problems if p.path.startswith("sources.")]
    assert problem.path == "sources.transactions.table"
    assert problem.where.endswith("tierwise.yaml:13")
    assert problem.message.startswith(
        f"table {table!r} holds the quote '\"' at position 10; write the table as `name` or "
        "`schema.name`, without quotes (tierwise quotes it), or read it with `query:`"
    )
    assert not out.exists()


def test_names_are_quoted_by_the_dialect() -> None:
    from tierwise.engine import quote_identifier, quote_table

    assert quote_table('or"ders', schema="sa les") == '"sa les"."or""ders"'
    assert quote_table("orders") == '"orders"'
    assert quote_identifier("a`b", dialect="spark") == "`a``b`"


def test_a_table_name_is_never_run_as_sql_even_without_validation(tmp_path: Path) -> None:
    from tierwise.engine import connect
    from tierwise.sources.read import load_source
    from tierwise.spec.models import SourceSpec

    _duckdb_file(tmp_path)
    out = tmp_path / "leak.csv"
    # A model built without validation (model_construct) reaches the reader unchecked.
    spec = SourceSpec.model_construct(path="shop.duckdb", table=INJECTION.format(out=out),
                                      format="duckdb", id="customer_id", time="order_date",
                                      columns={})
    engine = connect()
    try:
        with pytest.raises(DataError, match=r"source 'transactions': table .* holds the quote"):
            load_source("transactions", spec, engine, base=tmp_path)
    finally:
        engine.close()
    assert not out.exists()


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("ord\\0ers", "holds the control or invisible character U+0000 at position 4"),
        ("ord\\u202Eers", "holds the control or invisible character U+202E at position 4"),
        ("ord\\ters", "holds the control or invisible character U+0009 at position 4"),
        ("`orders`", "holds the quote '`' at position 1"),
        ("a.b.orders", "has 2 dots"),
        ("sales.", "has an empty part"),
        ("sales. orders", "has blanks at the ends of a part"),
    ],
)
def test_table_names_with_control_characters_quotes_or_stray_dots_are_refused(
    tmp_path: Path, table: str, message: str
) -> None:
    db = _sqlite(tmp_path)
    # YAML double quotes understand \0, \t and \u escapes.
    yaml = _sql_yaml(f"sqlite:///{db}", f'table: "{table}"')
    folder = shop(tmp_path, yaml=yaml, customers=None, orders=None)
    with pytest.raises(SpecError) as info:
        Project.open(folder)
    # (The indicators over the refused source are reported too.)
    [problem] = [p for p in info.value.problems if p.path.startswith("sources.")]
    assert problem.path == "sources.transactions.table"
    assert problem.where.endswith("tierwise.yaml:13")
    assert message in problem.message


# ------------------------------------------------------------------------- queries without rows

EMPTY_QUERY = "query: \"select * from orders where kind = 'none'\""


def _undeclared(yaml: str) -> str:
    """The shop's YAML with the transactions' `columns:` left out (types from the database)."""
    return re.sub(r"(    refunds: .*\n)    columns:\n(      .*\n)+", r"\1", yaml)


@pytest.mark.parametrize("declared", [True, False], ids=["declared", "undeclared"])
def test_a_query_without_rows_is_reported_as_empty(tmp_path: Path, declared: bool) -> None:
    db = _sqlite(tmp_path)
    yaml = _sql_yaml(f"sqlite:///{db}", EMPTY_QUERY)
    if not declared:
        yaml = _undeclared(yaml)
        assert "amount: {type: float" not in yaml
    folder = shop(tmp_path, yaml=yaml, customers=None, orders=None)
    error = run_fails(folder)
    assert str(error).splitlines()[1] == (
        f"sqlite:///{db} (query of 'transactions'): the query returned no rows; check "
        "`sources.transactions.query` (its conditions, and that the database holds the data of "
        "the as-of date)"
    )
    report = check(Project.open(folder))
    assert report.rows == {"customers": 3, "transactions": 0}
    assert [f.check for f in report.errors] == ["empty"]


def test_a_query_without_rows_gives_an_empty_table_with_typed_columns(tmp_path: Path) -> None:
    from tierwise.engine import connect
    from tierwise.sources.read import load_source

    db = _sqlite(tmp_path)
    folder = shop(tmp_path, yaml=_sql_yaml(f"sqlite:///{db}", EMPTY_QUERY), customers=None,
                  orders=None)
    spec = Project.open(folder).spec.sources["transactions"]
    engine = connect()
    try:
        loaded = load_source("transactions", spec, engine, base=folder)
        schema = loaded.typed.schema()
        assert engine.execute(loaded.typed.count()) == 0
        # Declared types, although the database gave no value to infer them from.
        assert {c: str(schema[c]) for c in schema.names} == {
            "order_id": "string", "customer_id": "string", "order_date": "date",
            "amount": "float64", "kind": "string"}
        undeclared = spec.model_copy(update={"columns": {}})
        loaded = load_source("transactions", undeclared, engine, base=folder)
        schema = loaded.typed.schema()
        # Undeclared: the time column is a timestamp, the others text.
        assert str(schema["order_date"]) == "timestamp(6)"
        assert str(schema["amount"]) == "string"
    finally:
        engine.close()


def test_text_dates_in_an_undeclared_time_column_name_the_fix(tmp_path: Path) -> None:
    db = _sqlite(tmp_path)  # SQLite keeps the dates as text
    yaml = _undeclared(_sql_yaml(f"sqlite:///{db}", "table: orders"))
    error = run_fails(shop(tmp_path, yaml=yaml, customers=None, orders=None))
    assert str(error) == (
        f"sqlite:///{db}:orders: the time column 'order_date' holds string values, not dates; "
        "declare it: `sources.transactions.columns: {order_date: {type: date}}` (or timestamp), "
        "with the source's other columns"
    )


def test_a_missing_undeclared_time_column_is_named(tmp_path: Path) -> None:
    db = _sqlite(tmp_path)
    yaml = _undeclared(_sql_yaml(f"sqlite:///{db}", "table: orders")).replace(
        "time: order_date", "time: order_day")
    error = run_fails(shop(tmp_path, yaml=yaml, customers=None, orders=None))
    assert str(error) == (
        f"sqlite:///{db}:orders: no column 'order_day' (did you mean 'order_date'?), which "
        "`sources.transactions.time` names; the columns there are order_id, customer_id, "
        "order_date, amount, kind"
    )


def test_a_damaged_parquet_file_is_a_data_error_naming_it(tmp_path: Path) -> None:
    folder = shop(tmp_path, yaml=PARQUET_YAML, orders=None)
    (folder / "orders.parquet").write_bytes(b"PAR1 not really parquet PAR1")
    error = run_fails(folder)
    assert str(error).startswith(
        "source 'transactions': orders.parquet is not a readable Parquet file (duckdb could not "
        f"read {folder / 'orders.parquet'}: Invalid Input Error:"
    )
    assert str(error).endswith(
        "; export it again, or fix `sources.transactions.path` (and `format:`)")
    assert "SELECT" not in str(error) and "LINE 1" not in str(error)
