"""The clv method on Spark: the same fitted model and the same grades as on DuckDB.

The parity fixture's customers never drop out, which BG/NBD cannot fit, so this module grades
customers simulated from BG/NBD (tests/methods/test_clv.py) on both engines.
"""

from __future__ import annotations

import shutil
from typing import Any

import pandas as pd
import pytest

from tests.methods.conftest import AS_OF, scheme
from tests.methods.test_clv import clv_scheme, simulate
from tierwise import methods
from tierwise.engine import spark_session

pytestmark = pytest.mark.spark


def _grades(con: Any, table: Any) -> tuple[Any, pd.DataFrame]:
    spec = scheme(clv_scheme(value="spend_all"))
    model = methods.fit(spec, table, as_of=AS_OF)
    graded = methods.grade(spec, table, as_of=AS_OF, model=model)
    out = con.execute(graded).sort_values("customer_id").reset_index(drop=True)
    return model, out


def test_clv_identical_on_spark() -> None:
    import ibis

    pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        pytest.skip("Spark needs a Java 17 runtime")
    features, _ = simulate(400, seed=5)
    frame = pd.DataFrame(features)
    duck = ibis.duckdb.connect()
    spark = ibis.pyspark.connect(spark_session("local[2]"))
    d_model, d = _grades(duck, duck.create_table("clv_features", frame))
    # A temporary view: nothing is written to the Spark warehouse.
    session = spark_session("local[2]")
    session.createDataFrame(frame).createOrReplaceTempView("clv_features")
    s_model, s = _grades(spark, spark.table("clv_features"))
    assert d_model == s_model
    assert d["tier"].tolist() == s["tier"].tolist()
    for column in ("clv", "clv_low", "clv_high", "p_alive", "expected_purchases", "score"):
        pd.testing.assert_series_equal(d[column], s[column], check_exact=False, rtol=1e-9)
