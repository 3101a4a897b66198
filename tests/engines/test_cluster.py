"""The engine suite on a real Spark cluster: a standalone master and worker on this machine.

``scripts/spark_cluster.py`` starts them from the installed pyspark distribution (the master
and the worker are JVMs of their own, so every query runs on the worker's executor and the
data crosses the network as it does on a cluster). The sources lie in a temporary folder, a
path the worker shares with the driver. ``PYSPARK_PYTHON`` (the interpreter executors start
for a Python task) names a path that does not exist: grading must need no Python on the
workers, only Java and Spark.

The same comparisons as ``test_parity.py`` (features, every scheme's grades, reasons and gaps,
the fitted cluster models, one run through the run service) and ``test_recorded_spark.py``
(a recorded backfill with a stability policy and an override) are made against DuckDB.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import tierwise.engine
from tierwise.engine import spark_session
from tierwise.errors import EngineError

from .data import SCHEMES, write_data
from .test_parity import (
    CLUSTER_SCHEMES,
    Outcome,
    differences,
    grade_all,
    project_on,
    same_model,
)
from .test_recorded_spark import record_backfill

pytestmark = pytest.mark.spark

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "spark_cluster.py"
# Workers must not need Python: a Python task would fail to start its interpreter.
NO_PYTHON = "/nonexistent/python3"


def _stop_session() -> None:
    from pyspark import SparkContext

    if SparkContext._active_spark_context is not None:
        SparkContext._active_spark_context.stop()


@pytest.fixture(scope="module")
def master(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a standalone master with one worker (two cores), stopped after the module.

    A process has one Spark session: the local one other modules use is stopped first, and
    the cluster's is stopped at the end, so the next module starts a local one again.
    """
    pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        pytest.skip("Spark needs a Java 17 runtime")
    folder = tmp_path_factory.mktemp("spark-cluster")
    started = subprocess.run([sys.executable, str(SCRIPT), "start", str(folder)],
                             capture_output=True, text=True, timeout=300, check=False)
    assert started.returncode == 0, started.stderr
    url = started.stdout.strip()
    _stop_session()
    before = os.environ.get("PYSPARK_PYTHON")
    os.environ["PYSPARK_PYTHON"] = NO_PYTHON  # read when the session starts
    try:
        yield url
    finally:
        _stop_session()
        if before is None:
            os.environ.pop("PYSPARK_PYTHON", None)
        else:
            os.environ["PYSPARK_PYTHON"] = before
        subprocess.run([sys.executable, str(SCRIPT), "stop", str(folder)], timeout=120,
                       check=False)


def _engine(url: str) -> str:
    return f'{{kind: spark, master: "{url}", config: {{spark.executor.memory: 1g}}}}'


@pytest.fixture(scope="module")
def outcomes(master: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[
        tuple[Outcome, Outcome]]:
    data = tmp_path_factory.mktemp("cluster-data")
    write_data(data)
    on_duckdb = grade_all(project_on(tmp_path_factory, data, "duckdb"))
    # The run's files are written in slices of 40 rows, as 10M grades are in slices of
    # 500,000 (a fetch of them all exceeds the driver's result limit).
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tierwise.engine, "SPARK_WRITE_ROWS", 40)
        on_cluster = grade_all(project_on(tmp_path_factory, data, _engine(master)))
    yield on_duckdb, on_cluster


def test_the_session_runs_on_the_cluster(master: str, outcomes: Any) -> None:
    context = spark_session(master).sparkContext
    assert context.master == master
    # The driver and at least one executor of the worker.
    assert context._jsc.sc().getExecutorMemoryStatus().size() >= 2
    assert context.getConf().get("spark.executor.memory") == "1g"  # the project's config
    assert context.pythonExec == NO_PYTHON


def test_features_and_grades_identical_on_the_cluster(
        outcomes: tuple[Outcome, Outcome]) -> None:
    on_duckdb, on_cluster = outcomes
    assert on_duckdb.features.num_rows == 303
    assert differences(on_duckdb.features, on_cluster.features) == []
    for scheme in [*SCHEMES, *CLUSTER_SCHEMES]:
        assert differences(on_duckdb.grades[scheme], on_cluster.grades[scheme]) == [], scheme
    for scheme in CLUSTER_SCHEMES:
        assert same_model(on_duckdb.models[scheme], on_cluster.models[scheme]) == [], scheme
    assert differences(on_duckdb.service_grades, on_cluster.service_grades) == []
    assert differences(on_duckdb.service_features, on_cluster.service_features) == []
    assert on_duckdb.analysis == on_cluster.analysis


def test_recorded_backfill_identical_on_the_cluster(
        master: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TIERWISE_STORE_URL", raising=False)
    on_duckdb = record_backfill(tmp_path / "duckdb", "")
    on_cluster = record_backfill(tmp_path / "cluster", f"engine: {_engine(master)}")
    assert on_cluster["spells"] == on_duckdb["spells"]
    assert on_cluster["counts"] == on_duckdb["counts"]
    for a, b in zip(on_duckdb["grades"], on_cluster["grades"], strict=True):
        assert a == b


def test_another_master_in_the_same_process_is_refused(master: str) -> None:
    with pytest.raises(EngineError, match="already running in this process"):
        spark_session("local[2]")


def test_a_master_that_does_not_answer_is_named() -> None:
    with pytest.raises(EngineError, match=r"spark://127\.0\.0\.1:9 does not answer"):
        spark_session("spark://127.0.0.1:9")
