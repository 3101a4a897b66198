"""Record linkage on Spark (splink's Spark backend) links the same records as on DuckDB."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tierwise.demo._systems import SYSTEMS, build
from tierwise.engine import spark_session
from tierwise.sources import linkage
from tierwise.spec.linkage import LinkageSpec

pytestmark = pytest.mark.spark
# Three fields, two training blocks: each EM iteration is a Spark job, and local mode runs them
# slowly; the comparison needs the same model on both engines, not the richest one.
SPEC = LinkageSpec.model_validate({
    "systems": {s: {"source": f"{s}_members"} for s in SYSTEMS},
    "fields": {"name": "name", "mobile": "phone", "email": "email"},
})


def test_linkage_on_spark_equals_duckdb(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("splink")
    pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        pytest.skip("Spark needs a Java 17 runtime")
    # Fewer random pairs for u than a real run counts, on both engines alike: Spark's local
    # mode is slow at sampling, and the comparison needs the same model on both.
    monkeypatch.setattr(linkage, "U_PAIRS", 2e5)
    systems = build(300, seed=11)
    records = linkage.records(SPEC, systems.tables, {s: "member_id" for s in SYSTEMS})
    on_duckdb = linkage.link(SPEC, records)
    on_spark = linkage.link(SPEC, records, spark=spark_session("local[2]"))
    customers = dict(zip(on_duckdb.mapping["unique_id"].to_pylist(),
                         on_duckdb.mapping["customer_id"].to_pylist(), strict=True))
    differ = [r for r, c in zip(on_spark.mapping["unique_id"].to_pylist(),
                                on_spark.mapping["customer_id"].to_pylist(), strict=True)
              if customers[r] != c]
    assert differ == []
    def pairs(review: object) -> set[tuple[str, str]]:
        return set(zip(review["unique_id_l"].to_pylist(),  # type: ignore[index]
                       review["unique_id_r"].to_pylist(), strict=True))  # type: ignore[index]

    assert pairs(on_spark.review) == pairs(on_duckdb.review)
    probability = dict(zip(zip(on_duckdb.review["unique_id_l"].to_pylist(),
                               on_duckdb.review["unique_id_r"].to_pylist(), strict=True),
                           on_duckdb.review["match_probability"].to_pylist(), strict=True))
    for a, b, p in zip(on_spark.review["unique_id_l"].to_pylist(),
                       on_spark.review["unique_id_r"].to_pylist(),
                       on_spark.review["match_probability"].to_pylist(), strict=True):
        # u comes from random pairs, drawn by each engine's own sampler: close, not equal.
        assert p == pytest.approx(probability[(a, b)], abs=0.05)
    truth = {linkage.record_id(s, i): p for s, i, p in zip(
        systems.truth["system"].to_pylist(), systems.truth["source_id"].to_pylist(),
        systems.truth["person"].to_pylist(), strict=True)}
    found = linkage.accuracy(on_spark.mapping, truth)
    assert found.precision >= 0.95 and found.recall >= 0.95


def test_linked_customers_grade_alike_on_spark(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """One linkage version graded on DuckDB and on Spark: the same grades and indicators, each
    system's orders mapped to the linked customer by the engine's own join."""
    pytest.importorskip("splink")
    pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        pytest.skip("Spark needs a Java 17 runtime")
    from tests.services.test_linked_grading import EXAMPLE, _link
    from tierwise.demo import write_linked
    from tierwise.services.grading import Project
    from tierwise.services.runs import run

    monkeypatch.delenv("TIERWISE_STORE_URL", raising=False)
    duck = tmp_path / "duckdb"
    duck.mkdir()
    shutil.copyfile(EXAMPLE / "tierwise.yaml", duck / "tierwise.yaml")
    write_linked(duck / "data", people=200, as_of=date(2026, 6, 30), seed=5)
    _link(duck)
    spark = tmp_path / "spark"
    shutil.copytree(duck, spark)
    text = (spark / "tierwise.yaml").read_text(encoding="utf-8")
    (spark / "tierwise.yaml").write_text(text.replace(
        "as_of: 2026-06-30", 'as_of: 2026-06-30\nengine: {kind: spark, master: "local[2]"}'),
        encoding="utf-8")
    spark_session("local[2]")
    found = {}
    for name, folder in (("duckdb", duck), ("spark", spark)):
        outcome = run(Project.open(folder), ["value"], actor="test")[0]
        files = Path(outcome.folder or "")
        found[name] = [pq.read_table(files / f).sort_by("customer_id").to_pylist()
                       for f in ("grades.parquet", "features.parquet")]
    assert found["spark"][1] == found["duckdb"][1]
    assert [(g["customer_id"], g["tier"]) for g in found["spark"][0]] == [
        (g["customer_id"], g["tier"]) for g in found["duckdb"][0]]
