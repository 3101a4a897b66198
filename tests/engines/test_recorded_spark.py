"""Recorded runs on Spark: a backfill with a stability policy and an override gives the same
grades, history and counts as on DuckDB."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from tests.services.conftest import PROJECT, write_months
from tierwise.engine import spark_session
from tierwise.services import history as history_service
from tierwise.services import overrides as override_service
from tierwise.services import runs
from tierwise.services.grading import Project
from tierwise.services.overrides import OverrideRequest

DATES = [date(2025, 6, 30), date(2025, 7, 31), date(2025, 8, 31)]
SCHEMES = ["tier", "steady"]


def record_backfill(folder: Path, engine: str) -> dict[str, Any]:
    write_months(folder, PROJECT.replace("as_of: 2026-06-30", f"as_of: 2026-06-30\n{engine}"))
    project = Project.open(folder)
    # An override is for a customer a run graded: the first date first, then the override
    # from the next month on, then the rest.
    outcomes = runs.backfill(project, SCHEMES, DATES[:1], actor="analyst")
    override_service.create(project, OverrideRequest("tier", "C5", kind="pin", tier="gold",
                                                     reason="key account",
                                                     valid_from=date(2025, 7, 1)),
                            actor="analyst")
    outcomes += runs.backfill(project, SCHEMES, DATES[1:], actor="analyst")
    store = runs.open_store(project)
    try:
        spells = {(s, c): [(x.tier, x.valid_from, x.valid_to, x.source) for x in
                           history_service.history(store, s, c)]
                  for s in SCHEMES for c in ("C2", "C5")}
    finally:
        store.close()
    return {
        "grades": [pq.read_table(Path(o.folder or "") / "grades.parquet").sort_by(
            "customer_id").drop_columns(["tier_label_en", "tier_label_zh"]).to_pylist()
            for o in outcomes],
        "counts": [o.counts for o in outcomes],
        "spells": spells,
    }


@pytest.mark.spark
def test_recorded_backfill_is_identical_on_spark(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pyspark")
    spark_session("local[2]")
    monkeypatch.delenv("TIERWISE_STORE_URL", raising=False)
    on_duckdb = record_backfill(tmp_path / "duckdb", "")
    on_spark = record_backfill(tmp_path / "spark", 'engine: {kind: spark, master: "local[2]"}')
    assert on_spark["spells"] == on_duckdb["spells"]
    assert on_spark["counts"] == on_duckdb["counts"]
    for a, b in zip(on_duckdb["grades"], on_spark["grades"], strict=True):
        assert a == b
    # The policy held C2 in gold in July, and the override pinned C5 from July on.
    assert on_duckdb["spells"][("steady", "C2")][0][:2] == ("gold", DATES[0])
    assert on_duckdb["spells"][("tier", "C5")][1][3] == "override"
