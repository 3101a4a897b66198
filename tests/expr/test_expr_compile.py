"""Compiling to ibis, evaluated on a real DuckDB backend."""

from __future__ import annotations

import datetime
import time
from decimal import Decimal
from typing import Any

import ibis
import pyarrow as pa
import pytest
from expr_cases import AS_OF, CASES, CUSTOMERS, same

from tierwise.errors import ExprError
from tierwise.expr import compile_expr, parse


@pytest.fixture(scope="module")
def duckdb() -> Any:
    return ibis.duckdb.connect()


def evaluate(con: Any, text: str, table: Any = None, env: Any = None) -> list[Any]:
    table = ibis.memtable(CUSTOMERS) if table is None else table
    value = compile_expr(parse(text), table if env is None else env, as_of=AS_OF)
    result = con.to_pyarrow(table.select("id", value=value).order_by("id"))
    return list(result.column("value").to_pylist())


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[text for text, _ in CASES])
def test_duckdb_results(duckdb: Any, text: str, expected: list[Any]) -> None:
    got = evaluate(duckdb, text)
    assert len(got) == len(expected)
    assert all(same(g, e) for g, e in zip(got, expected, strict=True)), got


def test_types_of_results() -> None:
    table = ibis.memtable(CUSTOMERS)

    def dtype(text: str) -> str:
        return str(compile_expr(parse(text), table, as_of=AS_OF).type())

    # Day counts are int64 on every engine; division is always floating point.
    assert dtype("days_since(signup_date)") == "int64"
    assert dtype("days_between(signup_date, last_order_at)") == "int64"
    assert dtype("orders_12m / 8") == "float64"
    assert dtype("orders_12m >= 10") == "boolean"
    assert dtype("year(signup_date)") == "int64"


def test_env_may_name_any_column(duckdb: Any) -> None:
    table = ibis.memtable(CUSTOMERS)
    env = {"会员订单": table.orders_12m, "order count": table.orders_12m}
    # 12+12; 5+5; null; 0; 7+7
    assert evaluate(duckdb, "会员订单 + `order count`", table, env) == [24, 10, None, 0, 14]


def test_datetime_as_of_counts_from_its_date(duckdb: Any) -> None:
    table = ibis.memtable(CUSTOMERS)
    value = compile_expr(
        parse("days_since(signup_date)"), table, as_of=datetime.datetime(2026, 1, 31, 18)
    )
    result = duckdb.to_pyarrow(table.select("id", value=value).order_by("id"))
    assert result.column("value").to_pylist() == [365, 702, None, 0, 2056]


def test_compile_checks_types_against_the_columns() -> None:
    table = ibis.memtable(CUSTOMERS)
    with pytest.raises(ExprError) as caught:
        compile_expr(parse("spend_12 > 1 and channel + 1 > 2"), table, as_of=AS_OF)
    assert [p.message for p in caught.value.problems] == [
        "unknown name 'spend_12' at column 1; did you mean 'spend_12m'?",
        "'+' needs a number, but 'channel' at column 18 is a string",
    ]


def test_unsupported_column_type_is_reported() -> None:
    table = ibis.memtable({"tags": [["a"], ["b"]]})
    with pytest.raises(ExprError, match="'tags' at column 1 has type 'array<string>'"):
        compile_expr(parse("tags is null"), table, as_of=AS_OF)


def test_literal_divisor_is_not_guarded() -> None:
    table = ibis.memtable(CUSTOMERS)
    plain = ibis.to_sql(table.select(v=compile_expr(parse("margin / 4"), table, as_of=AS_OF)))
    guarded = ibis.to_sql(
        table.select(v=compile_expr(parse("margin / revenue"), table, as_of=AS_OF))
    )
    assert "CASE" not in plain.upper()
    assert "CASE" in guarded.upper()


def test_narrow_integers_are_widened(duckdb: Any) -> None:
    import pyarrow as pa

    table = ibis.memtable(pa.table({"id": [1, 2], "small": pa.array([5000, None], pa.int32())}))
    # 5000 * 1000000 = 5e9 does not fit in 32 bits; as int32 arithmetic it would overflow
    assert evaluate(duckdb, "small * 1000000", table) == [5_000_000_000, None]


def test_decimals_of_different_scales_combine(duckdb: Any) -> None:
    # Found by the fuzz test: ibis refused to compare or combine decimal(21, 1) with
    # decimal(18, 2) (an IbisTypeError, a 500 in the API); both now become decimal(22, 2).
    table = ibis.memtable(
        pa.table({
            "id": [1, 2, 3],
            "s": pa.array([Decimal("1.5"), Decimal("2.0"), None], pa.decimal128(21, 1)),
            "m": pa.array([Decimal("1.50"), Decimal("2.25"), Decimal("3.00")],
                          pa.decimal128(18, 2)),
        })
    )
    assert evaluate(duckdb, "s == m", table) == [True, False, None]
    assert evaluate(duckdb, "s between m and 5", table) == [True, False, None]
    # 1.5 + 1.50; 2.0 + 2.25; null
    assert evaluate(duckdb, "s + m", table) == [Decimal("3.00"), Decimal("4.25"), None]
    assert evaluate(duckdb, "coalesce(s, m)", table) == [
        Decimal("1.50"), Decimal("2.00"), Decimal("3.00")]
    assert str(compile_expr(parse("least(s, m)"), table, as_of=AS_OF).type()) == "decimal(22, 2)"


def test_nested_floor_of_a_decimal_compiles_quickly(duckdb: Any) -> None:
    # ibis asks a floor() of a decimal for its argument's type twice, so 25 nested calls took
    # 10 s to build and each level doubled it; a cast in between pins the type.
    table = ibis.memtable(
        pa.table({"id": [1], "m": pa.array([Decimal("2.75")], pa.decimal128(18, 2))}))
    text = "floor(ceil(round(" * 15 + "m" + ")))" * 15
    start = time.perf_counter()
    # ceil(2.75) = 3, then every level keeps 3
    assert evaluate(duckdb, text, table) == [Decimal("3")]
    assert time.perf_counter() - start < 2.0
