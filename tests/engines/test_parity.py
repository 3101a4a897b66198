"""The shared engine suite: every indicator and every method gives the same grades on every engine.

DuckDB runs always; Spark runs under the ``spark`` marker (one session for the whole module, from
a module-scoped fixture). Each engine reads the same generated CSV files (see ``data.py``),
computes the feature table with every indicator, grades every scheme and runs one scheme through
the run service; the tests then require identical features, tiers, ranks, reasons and gaps, and
scores equal within 1e-9 relative. DuckDB-only tests at the end check hand-computed customers,
with the arithmetic beside them.
"""

from __future__ import annotations

import math
import shutil
import time
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pydantic import TypeAdapter

import tierwise.engine
from tierwise import i18n, methods
from tierwise.engine import connect, spark_session
from tierwise.errors import EngineError
from tierwise.indicators import CUSTOMER, feature_table
from tierwise.methods.base import fmt, rounded
from tierwise.services.grading import Project, check, load_inputs, run
from tierwise.spec.models import EngineSpec, SchemeSpec

from .data import AS_OF, SCHEMES, write_data, write_project

REL = 1e-9
# The scheme the tests also run through the whole run service (it has the rule analysis too).
SERVICE_SCHEME = "rules"
# Cluster schemes over the fixture's indicators: each engine fits its own model (the fit pulls
# the features in customer order, so both fit the same data) and assigns every customer in the
# engine. recency is missing for customers without a sale: the fitted fill takes its place.
_SCHEME_ADAPTER: TypeAdapter[SchemeSpec] = TypeAdapter(SchemeSpec)
CLUSTER_SCHEMES = {
    "cluster_kmeans": {
        "method": "cluster", "indicators": ["spend_12m", "orders_12m", "recency", "visits_30d"],
        "log": True, "k_range": [2, 5], "value": "spend_12m", "sample": 250,  # streamed, sampled
    },
    "cluster_gmm": {
        "method": "cluster", "algorithm": "gmm", "covariance": "full", "k": 3,
        "indicators": ["spend_12m", "orders_12m", "channels"], "transform": {"spend_12m": "log1p"},
        "value": "spend_12m",
    },
}


@dataclass
class Outcome:
    """What one engine made of the project."""

    features: pa.Table
    grades: dict[str, pa.Table]
    service_grades: pa.Table
    service_features: pa.Table
    analysis: Any
    seconds: float  # wall time of grade_all, to keep an eye on Spark's share of the suite
    models: dict[str, Any]  # the cluster schemes' fitted models, in their JSON form


def grade_all(project: Project) -> Outcome:
    """Every scheme on the project's engine: sources loaded and checked once, then each graded.

    The feature table is not materialized, as in the run service on Spark: every grade query
    recomputes it, so a feature that is not the same bits on every computation shows up here.
    Texts are rendered in English: a module fixture runs before each test's own language
    reset, so an earlier module's Chinese command would otherwise still be current.
    """
    with i18n.use(i18n.DEFAULT):
        return _grade_all(project)


def _grade_all(project: Project) -> Outcome:
    start = time.perf_counter()
    engine = connect(project.spec.engine, base=project.root)
    try:
        tables, report = load_inputs(project, engine, as_of=AS_OF)
        assert report.ok, report.summary()
        features = feature_table(project.spec, tables, as_of=AS_OF)
        feature_arrow = engine.to_arrow(features.order_by(CUSTOMER))
        grades = {}
        for name in SCHEMES:
            # Only the scheme's indicators, as a run computes them.
            scheme = project.spec.schemes[name]
            wanted = methods.scheme_indicators(scheme)
            own = feature_table(project.spec, tables, as_of=AS_OF, indicators=wanted)
            graded = methods.grade(scheme, own, as_of=AS_OF)
            # The texts too, rendered on this engine: they must read the same on both.
            texts = methods.with_texts(scheme, graded.join(own, CUSTOMER), as_of=AS_OF)
            graded = texts.select(*graded.columns, "reasons", "gap").order_by(CUSTOMER)
            grades[name] = engine.to_arrow(graded)
        models = {}
        for name, body in CLUSTER_SCHEMES.items():
            scheme = _SCHEME_ADAPTER.validate_python(body)
            own = feature_table(project.spec, tables, as_of=AS_OF,
                                indicators=methods.scheme_indicators(scheme))
            fitted = methods.fit(scheme, own, as_of=AS_OF)
            assert fitted is not None
            models[name] = fitted.to_json()  # compared as run.json holds it
            graded = methods.grade(scheme, own, as_of=AS_OF, model=fitted)
            texts = methods.with_texts(scheme, graded.join(own, CUSTOMER), as_of=AS_OF)
            graded = texts.select(*graded.columns, "reasons", "gap").order_by(CUSTOMER)
            grades[name] = engine.to_arrow(graded)
    finally:
        engine.close()
    result = run(project, SERVICE_SCHEME)
    return Outcome(
        features=feature_arrow,
        grades=grades,
        service_grades=pq.read_table(result.folder / "grades.parquet").sort_by(CUSTOMER),
        service_features=pq.read_table(result.folder / "features.parquet").sort_by(CUSTOMER),
        analysis=result.analysis,
        seconds=time.perf_counter() - start,
        models=models,
    )


def differences(left: pa.Table, right: pa.Table, *, limit: int = 12) -> list[str]:
    """Cell by cell: floats within ``REL`` relative (NaN equals NaN), everything else equal."""
    if left.schema != right.schema:
        return [f"schemas differ:\n{left.schema}\n---\n{right.schema}"]
    if left.num_rows != right.num_rows:
        return [f"{left.num_rows} rows against {right.num_rows}"]
    ids = left[CUSTOMER].to_pylist()
    if ids != right[CUSTOMER].to_pylist():
        return ["customers differ or come in another order"]
    found = []
    for name in left.column_names:
        floating = pa.types.is_floating(left.schema.field(name).type)
        for cid, a, b in zip(ids, left[name].to_pylist(), right[name].to_pylist(), strict=True):
            if floating and a is not None and b is not None:
                same = (math.isnan(a) and math.isnan(b)) or math.isclose(
                    a, b, rel_tol=REL, abs_tol=1e-12
                )
            else:
                same = a == b
            if not same:
                found.append(f"{cid} {name}: {a!r} != {b!r}")
    return found[:limit] + ([f"... {len(found) - limit} more"] if len(found) > limit else [])


# ---------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("parity-data")
    write_data(folder)
    return folder


def project_on(tmp_path_factory: pytest.TempPathFactory, data: Path, engine: str) -> Project:
    folder = tmp_path_factory.mktemp("parity-project")
    write_project(folder, data=data, engine=engine)
    return Project.open(folder)


@pytest.fixture(scope="module")
def duckdb(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Outcome:
    return grade_all(project_on(tmp_path_factory, data_dir, "duckdb"))


@pytest.fixture(scope="module")
def spark() -> Any:
    """The Spark session of this module (left running: other modules' getOrCreate() reuse it)."""
    pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        pytest.skip("Spark needs a Java 17 runtime")
    return spark_session("local[2]")


@pytest.fixture(scope="module")
def spark_outcome(spark: Any, tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Outcome:
    # The mapping form of `engine:`; connect() picks up the module's running session.
    return grade_all(project_on(tmp_path_factory, data_dir, '{kind: spark, master: "local[2]"}'))


# ----------------------------------------------------------------------------------- engine parity


@pytest.mark.spark
def test_features_identical_on_spark(duckdb: Outcome, spark_outcome: Outcome) -> None:
    assert duckdb.features.num_rows == 303
    assert differences(duckdb.features, spark_outcome.features) == []


@pytest.mark.spark
@pytest.mark.parametrize("scheme", [*SCHEMES, *CLUSTER_SCHEMES])
def test_grades_identical_on_spark(scheme: str, duckdb: Outcome, spark_outcome: Outcome) -> None:
    assert differences(duckdb.grades[scheme], spark_outcome.grades[scheme]) == []


def same_model(a: Any, b: Any, path: str = "model") -> list[str]:
    """Where two fitted models differ: floats beyond ``REL`` relative, anything else unequal."""
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return [f"{path}: keys {sorted(a)} != {sorted(b)}"]
        return [d for k in a for d in same_model(a[k], b[k], f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} items != {len(b)}"]
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True))
                for d in same_model(x, y, f"{path}[{i}]")]
    if isinstance(a, float) and isinstance(b, float):
        return [] if math.isclose(a, b, rel_tol=REL, abs_tol=1e-12) else [f"{path}: {a} != {b}"]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


@pytest.mark.spark
@pytest.mark.parametrize("scheme", CLUSTER_SCHEMES)
def test_cluster_models_alike_on_spark(scheme: str, duckdb: Outcome,
                                       spark_outcome: Outcome) -> None:
    assert same_model(duckdb.models[scheme], spark_outcome.models[scheme]) == []


@pytest.mark.spark
def test_run_service_identical_on_spark(duckdb: Outcome, spark_outcome: Outcome) -> None:
    assert differences(duckdb.service_grades, spark_outcome.service_grades) == []
    assert differences(duckdb.service_features, spark_outcome.service_features) == []
    assert duckdb.analysis == spark_outcome.analysis


def test_every_tier_of_the_fixture_is_exercised(duckdb: Outcome) -> None:
    """The data set reaches the branches the parity tests are meant to cover."""
    rules = duckdb.grades["rules"]
    assert set(rules["tier"].to_pylist()) == {
        "vip", "gold", "silver", "north", "lapsed", "engaged", "other"
    }  # fmt: skip
    assert any("also matched lower-priority" in r for r in rules["reasons"].to_pylist())
    for scheme in ("score_min", "score_top", "abc_value", "abc_customers"):
        assert len(set(duckdb.grades[scheme]["tier"].to_pylist())) >= 3, scheme
    assert len(set(duckdb.grades["rfm"]["tier"].to_pylist())) >= 8
    assert len(set(duckdb.grades["rfm_cn8"]["tier"].to_pylist())) == 8
    kmeans = duckdb.grades["cluster_kmeans"]
    assert duckdb.models["cluster_kmeans"]["chosen_by"]["criterion"] == "silhouette"
    assert duckdb.models["cluster_kmeans"]["rows"] == {"customers": 303, "fitted": 250}
    assert len(set(kmeans["tier"].to_pylist())) == duckdb.models["cluster_kmeans"]["k"] >= 2
    assert len(set(duckdb.grades["cluster_gmm"]["tier"].to_pylist())) == 3
    assert duckdb.features["recency"].null_count > 0  # the cluster fill is exercised
    # Frequency ties: most customers share their 12-month order count with others.
    orders = duckdb.features["orders_12m"].to_pylist()
    assert sum(orders.count(v) > 1 for v in orders) > 250


# ------------------------------------------------------------------------- formatting and loading

FMT_CASES = [
    # value, fmt to 2 decimals, fmt to 1 decimal, rounded to 2 decimals
    (-483.315, "-483.32", "-483.3", -483.32),  # half away from zero on the decimal value
    (1.005, "1.01", "1", 1.01),  # binary 1.00499999999999989: DuckDB's round() gives 1.0
    (2.675, "2.68", "2.7", 2.68),
    (-0.001, "0", "0", 0.0),  # no "-0"
    (0.30000000000000004, "0.30", "0.3", 0.3),
    (200.00000000000003, "200", "200", 200.0),  # a float sum that should be whole
    (1e7, "10000000", "10000000", 1e7),  # Spark would print 1.0E7
    (12345678.91, "12345678.91", "12345678.9", 12345678.91),
    (123456789012.5, "123456789012.50", "123456789012.5", 123456789012.5),
    (1e14 + 0.5, "100000000000001", "100000000000001", 1e14 + 0.5),  # from 1e12 on: whole
    (None, "null", "null", None),
]


def _fmt_rows(engine_spec: EngineSpec) -> list[dict[str, Any]]:
    import ibis

    values = [v for v, *_ in FMT_CASES]
    table = ibis.memtable(
        pa.table({"i": list(range(len(values))), "v": pa.array(values, pa.float64())})
    )
    expr = table.select("i", f2=fmt(table.v), f1=fmt(table.v, 1), r2=rounded(table.v, 2)).order_by(
        "i"
    )
    engine = connect(engine_spec)
    try:
        return engine.to_arrow(expr).to_pylist()
    finally:
        engine.close()


def _check_fmt(rows: list[dict[str, Any]]) -> None:
    for row, (value, f2, f1, r2) in zip(rows, FMT_CASES, strict=True):
        assert (row["f2"], row["f1"]) == (f2, f1), value
        assert row["r2"] == r2 or (r2 is not None and math.isclose(row["r2"], r2)), value


def test_fmt_and_rounded_on_duckdb() -> None:
    _check_fmt(_fmt_rows(EngineSpec(kind="duckdb")))


@pytest.mark.spark
def test_fmt_and_rounded_on_spark(spark: Any) -> None:
    _check_fmt(_fmt_rows(EngineSpec(kind="spark")))


@pytest.mark.spark
def test_spark_writes_in_slices_what_joins_in_memory_tables(
        spark: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A fitted model's cut points or a run's overrides are in-memory tables (ibis memtables):
    # the sliced write must register them before Spark reads the query, and every row must
    # land in exactly one slice.
    import ibis

    monkeypatch.setattr(tierwise.engine, "SPARK_WRITE_ROWS", 3)
    engine = connect(EngineSpec(kind="spark"))
    try:
        base = engine.register_arrow("base", pa.table({"k": list(range(10)),
                                                       "v": [float(i) / 3 for i in range(10)]}))
        cuts = ibis.memtable(pa.table({"k": list(range(10)), "w": [f"c{i}" for i in range(10)]}))
        engine.write_parquet(base.join(cuts, "k"), tmp_path / "joined.parquet")
    finally:
        engine.close()
    found = pq.read_table(tmp_path / "joined.parquet")
    assert found.num_rows == 10 and pq.ParquetFile(tmp_path / "joined.parquet").num_row_groups > 1
    assert found.sort_by("k").to_pydict() == {"k": list(range(10)),
                                              "v": [float(i) / 3 for i in range(10)],
                                              "w": [f"c{i}" for i in range(10)]}


@pytest.mark.spark
def test_master_session_uses_the_session_running_in_the_process(spark: Any) -> None:
    # As on Databricks: the session exists before tierwise, with settings of its own.
    spark.conf.set("spark.sql.session.timeZone", "Asia/Shanghai")
    engine = connect(EngineSpec(kind="spark", master="session",
                                config={"spark.sql.shuffle.partitions": "3"}))
    try:
        assert engine.execute(engine.register_arrow("x", pa.table({"x": [1, 2]})).count()) == 2
        assert spark.conf.get("spark.sql.session.timeZone") == "UTC"  # dates read alike
        assert spark.conf.get("spark.sql.shuffle.partitions") == "3"  # the project's config
    finally:
        engine.close()
        spark.conf.set("spark.sql.shuffle.partitions", "4")
    with pytest.raises(EngineError, match=r"spark\.executor\.memory cannot be changed in a "
                                          "running Spark session"):
        connect(EngineSpec(kind="spark", master="session",
                           config={"spark.executor.memory": "3g"}))


@pytest.mark.spark
def test_master_session_without_a_session_says_so(spark: Any,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from pyspark import SparkContext

    monkeypatch.setattr(SparkContext, "_active_spark_context", None)
    with pytest.raises(EngineError, match="none is running; start one first"):
        spark_session("session")


TYPED = pa.table(
    {
        "s": pa.array(["a", None, "c"]),
        "i": pa.array([1, None, 3], pa.int64()),
        "f": pa.array([1.5, None, float("nan")]),
        "d": pa.array([date(2026, 1, 1), None, date(2024, 2, 29)]),
        "t": pa.array([datetime(2026, 6, 30, 23, 59, 59), None, datetime(2025, 1, 1)], pa.timestamp("us")),
        "m": pa.array([Decimal("1.25"), None, Decimal("123456789.10")], pa.decimal128(12, 2)),
        "b": pa.array([True, None, False]),
    }
)  # fmt: skip


def _roundtrip(kind: str) -> pa.Table:
    engine = connect(EngineSpec(kind=kind))
    try:
        table = engine.register_arrow("typed", TYPED)
        out = engine.to_arrow(table.mutate(i2=table.i * 2, null_s=table.s.isnull()).order_by("d"))
    finally:
        engine.close()
    return out


def _check_roundtrip(out: pa.Table) -> None:
    assert out.schema.field("i").type == pa.int64()  # not turned into a double by a null
    assert out.schema.field("m").type == pa.decimal128(12, 2)
    assert out.schema.field("d").type == pa.date32()
    assert pa.types.is_timestamp(out.schema.field("t").type)
    rows = out.to_pylist()
    # ORDER BY d: the engines differ in where NULL sorts, so look it up by value.
    by_s = {r["s"]: r for r in rows}
    assert by_s[None]["null_s"] is True and by_s[None]["i"] is None  # null, not the text 'NaN'
    assert by_s["a"]["i2"] == 2 and by_s["a"]["t"].replace(tzinfo=None) == datetime(
        2026, 6, 30, 23, 59, 59
    )
    assert by_s["c"]["m"] == Decimal("123456789.10")
    assert by_s["c"]["d"] == date(2024, 2, 29)


def test_register_arrow_keeps_types_on_duckdb() -> None:
    _check_roundtrip(_roundtrip("duckdb"))


@pytest.mark.spark
@pytest.mark.parametrize("arrow", [True, False], ids=["createDataFrame", "parquet"])
def test_register_arrow_keeps_types_on_spark(
    arrow: bool, spark: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PySpark 3.5 takes no Arrow table and gets a temporary Parquet file instead.
    monkeypatch.setattr(tierwise.engine, "spark_takes_arrow", lambda: arrow)
    _check_roundtrip(_roundtrip("spark"))


NAN_PROJECT = """\
name: nan
sources:
  customers:
    path: customers.csv
    columns: {customer_id: {type: string}}
  transactions:
    path: orders.csv
    time: order_date
    columns:
      customer_id: {type: string}
      order_date: {type: date}
      amount: {type: float}
"""


def _nan_findings(folder: Path, kind: str) -> list[str]:
    project = Project.open(folder)
    spec = project.spec.model_copy(update={"engine": EngineSpec(kind=kind)})
    return [str(f) for f in check(Project(spec, project.root), as_of=AS_OF).findings]


@pytest.mark.spark
def test_nan_text_checked_alike_on_spark(spark: Any, tmp_path: Path) -> None:
    (tmp_path / "tierwise.yaml").write_text(NAN_PROJECT, encoding="utf-8")
    (tmp_path / "customers.csv").write_text("customer_id\nC1\n", encoding="utf-8")
    orders = "customer_id,order_date,amount\nC1,2026-06-01,10.5\nC1,2026-06-02,NaN\n"
    (tmp_path / "orders.csv").write_text(orders, encoding="utf-8")
    duck = _nan_findings(tmp_path, "duckdb")
    # "NaN" is no amount: unparseable on both engines (ibis reads NaN as null only on Spark).
    assert len(duck) == 1 and "row 2: amount 'NaN' is not a valid float" in duck[0]
    assert _nan_findings(tmp_path, "spark") == duck


# ------------------------------------------------------------------- hand-computed (DuckDB only)
# As of 2026-06-30; a 12-month window is (2025-06-30, 2026-06-30], 6 months (2025-12-30, ...],
# 90 days (2026-04-01, ...], 30 days (2026-05-31, ...]; the year before is (2024-06-30, 2025-06-30].

HAND_FEATURES: dict[str, dict[str, Any]] = {
    "C9001": {
        "orders_12m": 2,  # sales H1 (06-20) and H2 (03-31); H4 is older, H3 a refund
        "orders_all": 4,
        "refunds_12m": 1,  # H3, within 365 days
        "spend_12m": 1950.0,  # 1200.00 + 850.50 - 100.50
        "spend_prev_12m": 400.0,  # H4 on 2025-01-15
        "spend_90d": 1099.5,  # 1200.00 - 100.50; H2 on 03-31 is just outside
        "avg_sale": 2450.5 / 3,  # (1200.00 + 850.50 + 400.00) / 3 sales
        "min_sale": 400.0,
        "max_amount_6m": 1200.0,
        "items_max": 3,
        "channels": 2,  # web, store
        "first_amount": 400.0,  # H4 is the earliest event
        "last_amount": 1200.0,  # H1 is the latest sale
        "last_channel": "web",
        "days_since_first": 531,  # 2025-01-15 -> 2026-01-15 (365) -> 06-15 (151) -> 06-30 (15)
        "recency": 10,  # last sale 2026-06-20
        "visits_30d": 1,  # HV1 2026-06-30 23:59:59 counts; HV2 2026-05-31 08:00 does not
        "pages_3m": 5.0,  # 4 + 1
        "days_since_visit": 0,  # a visit late on the as-of date is 0 days ago
        "first_visit_days": 0,  # only HV1 has pages >= 2
        "signup": date(2024, 6, 30),
        "region": "north",
        "tenure_days": 730,  # 365 + 365
        "aov": 975.0,  # 1950 / 2
        "growth": 1550.0,  # 1950 - 400
        "engaged": True,  # days_since_visit 0 <= 30
    },
    "C9002": {
        "orders_12m": 1,  # H6 on 2025-07-01; H5 on 2025-06-30 is the excluded window start
        "orders_all": 2,
        "refunds_12m": 0,
        "spend_12m": 0.01,
        "spend_prev_12m": 99.99,  # H5 closes the year before
        "spend_90d": 0.0,
        "avg_sale": 50.0,  # (99.99 + 0.01) / 2, exact as a decimal sum
        "min_sale": 0.01,
        "max_amount_6m": None,
        "items_max": 1,
        "channels": 1,
        "first_amount": 99.99,
        "last_amount": 0.01,
        "last_channel": "app",
        "days_since_first": 365,
        "recency": 364,
        "visits_30d": 0,
        "pages_3m": 0.0,  # sums default to 0
        "days_since_visit": None,
        "first_visit_days": None,
        "signup": date(2026, 6, 30),
        "region": "unknown",  # empty in the CSV, so the attribute's default
        "tenure_days": 0,
        "aov": 0.01,
        "growth": -99.98,  # round(0.01 - 99.99, 2)
        "engaged": False,
    },
    "C9003": {  # no orders, no visits
        "orders_12m": 0,
        "orders_all": 0,
        "refunds_12m": 0,
        "spend_12m": 0.0,
        "spend_prev_12m": 0.0,
        "spend_90d": 0.0,
        "avg_sale": None,
        "min_sale": None,
        "max_amount_6m": None,
        "items_max": None,
        "channels": 0,
        "first_amount": None,
        "last_amount": None,
        "last_channel": None,
        "days_since_first": None,
        "recency": None,
        "visits_30d": 0,
        "pages_3m": 0.0,
        "days_since_visit": None,
        "first_visit_days": None,
        "signup": date(2019, 2, 28),
        "region": "south",
        "tenure_days": 2679,  # 7 * 365 + 2 leap days to 2026-02-28, + 31 + 30 + 31 + 30
        "aov": None,  # 0 / 0
        "growth": 0.0,
        "engaged": False,
    },
}


def _row(table: pa.Table, customer: str) -> dict[str, Any]:
    rows = [r for r in table.to_pylist() if r[CUSTOMER] == customer]
    assert len(rows) == 1, customer
    return rows[0]


@pytest.mark.parametrize("customer", sorted(HAND_FEATURES))
def test_hand_computed_features(customer: str, duckdb: Outcome) -> None:
    row = _row(duckdb.features, customer)
    for name, expected in HAND_FEATURES[customer].items():
        if isinstance(expected, float):
            assert row[name] == pytest.approx(expected, rel=1e-12), name
        else:
            assert row[name] == expected, name


def test_hand_computed_rules(duckdb: Outcome) -> None:
    grades = duckdb.grades["rules"]
    one = _row(grades, "C9001")
    # spend 1950 >= 1500 makes gold; north (region north, 4 orders) and engaged (visit 0 days
    # ago, aov 975 >= 50.5) also hold; vip needs 8 orders (+6) and 2000 spend (+50).
    assert (one["tier"], one["tier_rank"]) == ("gold", 2)
    assert one["reasons"] == (
        "rule 'gold' matched: spend_12m >= 1500 or orders_12m >= 10 "
        "[orders_12m=2; spend_12m=1950]; also matched lower-priority north, engaged"
    )
    assert one["gap"] == "to reach 'vip': orders_12m +6 (>= 8), spend_12m +50 (>= 2000)"
    two = _row(grades, "C9002")
    # 364 days since the last sale > 180. The tier just above (north) tests text, so no
    # change of numbers reaches it: the gap names the nearest tier above that one can reach.
    assert (two["tier"], two["reasons"], two["gap"]) == (
        "lapsed",
        "rule 'lapsed' matched: recency > 180 or is_null(recency) [recency=364]",
        "to reach 'silver': orders_12m +2 (>= 3), channels +1 (>= 2)",
    )
    three = _row(grades, "C9003")
    assert three["reasons"].endswith("[recency=null]") and three["tier"] == "lapsed"


def test_hand_computed_rfm_cuts(duckdb: Outcome) -> None:
    grades = duckdb.grades["rfm_cuts"]
    # C9001: recency 10 <= 30 -> R 5; 2 orders reach the cut 2 -> F 2; spend 1950 passes 200,
    # 500, 1000 -> M 4; FM = ceil((2 + 4) / 2) = 3; R5 FM3 is potential_loyalists.
    one = _row(grades, "C9001")
    assert (one["tier"], one["rfm_code"], one["score"]) == ("potential_loyalists", "524", 11.0)
    assert one["gap"] == "F 2->3: orders_12m >= 4; M 4->5: spend_12m >= 2500"
    # C9002: 364 days passes the cuts 30, 90, 180 -> R = 5 - 3 = 2; F 1; M 1 -> hibernating.
    two = _row(grades, "C9002")
    assert (two["tier"], two["rfm_code"], two["score"]) == ("hibernating", "211", 4.0)
    assert two["gap"] == "R 2->3: recency <= 180; F 1->2: orders_12m >= 2; M 1->2: spend_12m >= 200"
    # C9003 never bought: a missing recency is beyond every cut -> R 1; R1 FM1 is lost.
    three = _row(grades, "C9003")
    assert (three["tier"], three["rfm_code"], three["score"]) == ("lost", "111", 3.0)


def test_hand_computed_scorecard_points(duckdb: Outcome) -> None:
    grades = duckdb.grades["score_min"]
    orders = duckdb.features["orders_12m"].to_pylist()
    fewer = sum(o < 2 for o in orders)
    one = _row(grades, "C9001")
    # orders_12m percentile: 100 * (customers with fewer than 2 orders) / (303 - 1).
    assert fewer == 68
    assert one["pts_orders_12m"] == pytest.approx(100 * 68 / 302)
    # tenure 730 days is in the bin starting at 730: 70 points; the latest visit (0 days, the
    # lowest value) scores 100 inverted; items_max capped at 5 is 5 for all: 50 points.
    assert (one["pts_tenure_days"], one["pts_days_since_visit"], one["pts_items_max"]) == (
        70.0,
        100.0,
        50.0,
    )
    three = _row(grades, "C9003")
    # No orders: nobody has fewer, 0 points; no visits: missing scores 0; tenure 2679 >= 1095.
    assert (three["pts_orders_12m"], three["pts_days_since_visit"], three["pts_tenure_days"]) == (
        0.0,
        0.0,
        100.0,
    )
    # The score is the weighted sum of the points, and the reason shows the same sum.
    weights = {"spend_12m": 0.35, "orders_12m": 0.25, "recency": 0.2, "tenure_days": 0.05}
    weights |= {"days_since_visit": 0.1, "items_max": 0.05}
    total = sum(one[f"pts_{name}"] * w for name, w in weights.items())
    assert one["score"] == pytest.approx(total, abs=5e-7)
    assert one["reasons"].startswith(f"score {total:.2f} = spend_12m 1950 -> ")
