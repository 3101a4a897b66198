"""The compile cases on PySpark: results must be identical to DuckDB's."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import ibis
import pytest
from expr_cases import AS_OF, CASES, CUSTOMERS, same

from tierwise.expr import compile_expr, parse

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        pytest.skip("Spark needs a Java 17 runtime")
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[1]")
        .config("spark.ui.enabled", "false")
        # Without Arrow, pandas 3 turns missing strings into the text 'NaN'.
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    # ibis 12 cannot register a memtable with a nullable decimal column on PySpark (it maps
    # Decimal over the None), so the table goes in through Spark's own Arrow reader.
    session.createDataFrame(CUSTOMERS).createOrReplaceTempView("expr_customers")
    yield ibis.pyspark.connect(session)
    # The session stays up: other modules' getOrCreate() reuse it instead of starting again.
    session.catalog.dropTempView("expr_customers")


def _all_cases(con: Any, table: Any) -> dict[str, list[Any]]:
    # One query with a column per case: Spark pays its start-up and planning cost once.
    columns = {
        f"c{i}": compile_expr(parse(text), table, as_of=AS_OF) for i, (text, _) in enumerate(CASES)
    }
    result = con.to_pyarrow(table.select("id", **columns).order_by("id")).to_pydict()
    return {text: result[f"c{i}"] for i, (text, _) in enumerate(CASES)}


def test_spark_matches_duckdb(spark: Any) -> None:
    on_spark = _all_cases(spark, spark.table("expr_customers"))
    on_duckdb = _all_cases(ibis.duckdb.connect(), ibis.memtable(CUSTOMERS))
    differences = {
        text: (on_spark[text], on_duckdb[text], expected)
        for text, expected in CASES
        if not (
            all(same(s, d) for s, d in zip(on_spark[text], on_duckdb[text], strict=True))
            and all(same(s, e) for s, e in zip(on_spark[text], expected, strict=True))
        )
    }
    assert differences == {}
