"""The run service: several schemes from one load equal separate runs; explain and exports."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from tierwise import i18n
from tierwise.demo import write_retail
from tierwise.errors import NotFoundError, SpecError
from tierwise.services import runs as recorded
from tierwise.services.demo import copy_example
from tierwise.services.explain_run import explain
from tierwise.services.grading import Project, run, run_schemes


@pytest.fixture(scope="module")
def retail(tmp_path_factory: pytest.TempPathFactory) -> Project:
    folder = tmp_path_factory.mktemp("retail")
    copy_example("retail", folder)
    write_retail(folder / "data", customers=400)
    return Project.open(folder)


def test_several_schemes_equal_separate_runs(retail: Project, tmp_path: Path) -> None:
    def read(folder: Path) -> pa.Table:
        return pq.read_table(folder / "grades.parquet").sort_by("customer_id")

    together = {r.scheme: read(r.folder) for r in run_schemes(retail, ["value", "rfm", "rfm_cn"])}
    for name, table in together.items():
        assert read(run(retail, name).folder).equals(table), name


def test_outputs_hold_the_scheme_indicators_and_spec(retail: Project) -> None:
    result = run(retail, "value")
    features = pq.read_table(result.folder / "features.parquet")
    # Only the indicators the scheme reads, not the whole project's.
    assert features.column_names == ["customer_id", "orders_12m", "spend_12m", "orders_6m"]
    assert (result.folder / "run.json").read_text(encoding="utf-8").count('"method": "rules"') == 1
    assert "reasons" not in pq.read_table(result.folder / "grades.parquet").column_names


def test_explain_renders_reasons_and_gap(retail: Project) -> None:
    outcome = recorded.run(retail, ["value"], force=True)[0]
    assert outcome.folder is not None
    grades = pq.read_table(outcome.folder / "grades.parquet")
    low = grades.filter(pc.equal(grades["tier"], "low"))["customer_id"][0].as_py()
    exp = explain(retail, "value", low)
    assert exp.grade["tier"] == "low"
    assert exp.grade["reasons"].startswith("rule 'low' matched: ")
    assert exp.grade["gap"].startswith("to reach 'medium': ")
    # The scheme's indicators, and what its actions read (the win-back email's condition).
    assert set(exp.indicators) == {"orders_12m", "spend_12m", "orders_6m", "orders_24m"}


def test_exports_carry_texts(retail: Project) -> None:
    result = run(retail, "rfm", export=["csv", "xlsx"])
    csv = (result.folder / "grades.csv").read_bytes()
    assert csv.startswith(b"\xef\xbb\xbf")  # Excel reads the Chinese labels as UTF-8
    header = csv.decode("utf-8-sig").splitlines()[0]
    assert header.endswith('"reasons","gap to the next tier"')
    assert (result.folder / "grades.xlsx").stat().st_size > 0
    with i18n.use("zh-Hans"):  # the reader's language: Chinese labels and headers
        chinese = run(retail, "rfm", export=["csv"])
    text = (chinese.folder / "grades.csv").read_text(encoding="utf-8-sig")
    assert text.startswith('"客户ID","等级","等级名称"')
    assert "冠军客户" in text or "忠诚客户" in text


def test_unknown_names_are_clear_errors(retail: Project) -> None:
    with pytest.raises(NotFoundError, match="no scheme 'valeu'"):
        run(retail, "valeu")
    with pytest.raises(SpecError, match="unknown export format 'pdf'"):
        run(retail, "value", export=["pdf"])
    recorded.run(retail, ["value"], force=True)
    with pytest.raises(NotFoundError, match="has no grade"):
        explain(retail, "value", "NOBODY")


def test_schemes_with_the_same_indicators_share_one_features_file(retail: Project) -> None:
    # rfm and rfm_cn read the same indicators: the run writes their features once and links.
    results = {r.scheme: r.folder / "features.parquet" for r in run_schemes(retail,
                                                                          ["rfm", "rfm_cn", "value"])}
    tables = {name: pq.read_table(path) for name, path in results.items()}
    assert tables["rfm"].equals(tables["rfm_cn"])
    assert results["rfm"].stat().st_ino == results["rfm_cn"].stat().st_ino
    assert results["value"].stat().st_ino != results["rfm"].stat().st_ino
    assert tables["value"].column_names == ["customer_id", "orders_12m", "spend_12m", "orders_6m"]
    # Each folder's file stands alone: rerunning one scheme leaves the other's file intact.
    run(retail, "rfm")
    assert pq.read_table(results["rfm_cn"]).equals(tables["rfm_cn"])
    outcomes = recorded.run(retail, ["rfm", "rfm_cn"], force=True)
    files = [Path(o.folder or "") / "features.parquet" for o in outcomes]
    assert files[0].stat().st_ino == files[1].stat().st_ino
    assert pq.read_table(files[0]).sort_by("customer_id").equals(
        tables["rfm"].sort_by("customer_id"))


def test_a_failed_link_falls_back_to_a_copy(retail: Project, monkeypatch: pytest.MonkeyPatch
                                            ) -> None:
    import os

    def no_link(*_: object) -> None:
        raise OSError("links not supported here")

    monkeypatch.setattr(os, "link", no_link)
    results = {r.scheme: r.folder / "features.parquet" for r in run_schemes(retail,
                                                                          ["rfm", "rfm_cn"])}
    assert results["rfm"].stat().st_ino != results["rfm_cn"].stat().st_ino
    assert pq.read_table(results["rfm"]).equals(pq.read_table(results["rfm_cn"]))
