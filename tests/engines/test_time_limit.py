"""A time limit stops a running query on each engine, and leaves later queries alone."""

from __future__ import annotations

import shutil
import time
from typing import Any

import ibis
import pytest

from tierwise.engine import Engine, connect, spark_session
from tierwise.errors import EngineError, QueryTimeout

# About a minute of work on either engine: far past the limits below.
SLOW_SQL = "SELECT sum(a.range % 7 * b.range) AS s FROM range(100000000) a, range(100) b"
SLOW_SPARK_SQL = SLOW_SQL.replace(".range", ".id")  # Spark's range() names its column id


def _stopped_in_time(engine: Engine, slow: Any, limit: float, within: float) -> QueryTimeout:
    start = time.perf_counter()
    with pytest.raises(QueryTimeout) as caught, engine.time_limit(
        limit, what="the customer search", hint="narrow it"
    ):
        engine.execute(slow)
    elapsed = time.perf_counter() - start
    assert elapsed < within, f"stopped after {elapsed:.1f} s"
    return caught.value


def test_duckdb_query_is_interrupted_at_the_limit() -> None:
    engine = connect()
    try:
        error = _stopped_in_time(engine, engine.backend.sql(SLOW_SQL), 0.3, within=3.0)
        assert str(error) == (
            "the customer search took longer than 0.3 s and was stopped; narrow it"
        )
        assert error.seconds == 0.3 and isinstance(error, EngineError)
        assert isinstance(error.__cause__, EngineError)  # the engine's own report, kept
        # The connection works afterwards, and the spent timer never fires into later work.
        with engine.time_limit(0.2):
            assert int(engine.execute(engine.backend.sql("SELECT 1 AS x").x.max())) == 1
        time.sleep(0.3)
        assert int(engine.execute(engine.backend.sql("SELECT 42 AS x").x.max())) == 42
    finally:
        engine.close()


def test_a_query_started_after_the_limit_is_stopped_too() -> None:
    # The limit passes while Python works between two queries (the engine is idle then and
    # ignores a stop); the next query is stopped all the same.
    engine = connect()
    try:
        start = time.perf_counter()
        with pytest.raises(QueryTimeout), engine.time_limit(0.2):
            time.sleep(0.4)
            engine.execute(engine.backend.sql(SLOW_SQL))
        assert time.perf_counter() - start < 3.0
    finally:
        engine.close()


def test_work_that_ends_in_time_is_untouched() -> None:
    engine = connect()
    try:
        with engine.time_limit(5.0):
            assert int(engine.execute(engine.backend.sql("SELECT 7 AS x").x.max())) == 7
        with engine.time_limit(None):  # no limit at all
            assert int(engine.execute(engine.backend.sql("SELECT 8 AS x").x.max())) == 8
    finally:
        engine.close()


def test_other_errors_pass_through() -> None:
    engine = connect()
    try:
        with pytest.raises(EngineError) as caught, engine.time_limit(5.0):
            engine.execute(engine.backend.sql("SELECT 'abc' AS x").x.cast("int64").max())
        assert not isinstance(caught.value, QueryTimeout)
    finally:
        engine.close()


@pytest.mark.spark
def test_spark_job_group_is_cancelled_at_the_limit() -> None:
    pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        pytest.skip("Spark needs a Java 17 runtime")
    session = spark_session("local[2]")
    engine = Engine("spark", ibis.pyspark.connect(session), _session=session)
    slow = engine.backend.sql(SLOW_SPARK_SQL)
    error = _stopped_in_time(engine, slow, 2.0, within=30.0)
    assert str(error).startswith("the customer search took longer than 2 s and was stopped")
    # The thread's job group is cleared: later jobs run, and are not in the cancelled group.
    assert session.sparkContext.getLocalProperty("spark.jobGroup.id") is None
    assert int(engine.execute(engine.backend.sql("SELECT 42 AS x").x.max())) == 42
