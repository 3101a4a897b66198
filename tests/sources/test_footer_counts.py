"""A Parquet event source's rows are counted from its footers, not per customer in the scan.

The same findings and counts as a CSV source, whose rows are counted in the scan; the rows of
unknown customers are counted apart, and only when there are any.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pyarrow.csv as pv
import pyarrow.parquet as pq
import pytest

from tests.sources.shop import GRADES, ORDERS, YAML, run_fails, shop, tiers
from tierwise.services.grading import Project, run
from tierwise.sources import checks

OPTIONAL_ID = YAML.replace("      customer_id: {type: string}\n      order_date",
                           "      customer_id: {type: string, required: false}\n      order_date")


def _project(folder: Path, fmt: str, orders: str, yaml: str = YAML) -> Path:
    """The shop with ``orders`` as orders.csv, or as orders.parquet (typed as declared)."""
    if fmt == "csv":
        return shop(folder, yaml=yaml, orders=orders)
    shop(folder, yaml=yaml.replace("path: orders.csv", "path: orders.parquet"), orders=None)
    table = pv.read_csv(io.BytesIO(orders.strip().encode()), convert_options=pv.ConvertOptions(
        column_types={"order_id": "string", "customer_id": "string", "order_date": "date32",
                      "amount": "float64", "kind": "string"}, strings_can_be_null=True))
    pq.write_table(table, folder / "orders.parquet", row_group_size=3)
    return folder


@pytest.fixture
def apart(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How often the rows were counted apart, and with how many unknown customers."""
    calls: list[int] = []
    counted = checks._counted_apart

    def spy(*args: Any, unknown_keys: int, **kwargs: Any) -> dict[str, int]:
        calls.append(unknown_keys)
        return counted(*args, unknown_keys=unknown_keys, **kwargs)

    monkeypatch.setattr(checks, "_counted_apart", spy)
    return calls


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_unknown_customers_count_their_rows(tmp_path: Path, fmt: str, apart: list[int]) -> None:
    orders = ORDERS + ("o6,c9,2026-04-01,15.00,sale\no7,c9,2026-04-02,5.00,sale\n"
                       "o8,c8,2024-01-01,1.00,sale\n")
    error = run_fails(_project(tmp_path, fmt, orders))
    assert isinstance(error.report, checks.QualityReport)
    assert {(f.source, f.check): f.count for f in error.report.findings} == {
        ("transactions", "unknown_customer"): 3}
    assert error.report.rows == {"customers": 3, "transactions": 8}
    assert apart == ([2] if fmt == "parquet" else [])  # c9 and c8: two unknown customers


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_rows_without_a_customer_id_are_counted_and_grade_no_one(
        tmp_path: Path, fmt: str, apart: list[int]) -> None:
    folder = _project(tmp_path, fmt, ORDERS + "o6,,2026-04-01,15.00,sale\n", yaml=OPTIONAL_ID)
    result = run(Project.open(folder), "value")
    assert tiers(result) == GRADES
    assert result.quality.ok and result.quality.rows == {"customers": 3, "transactions": 6}
    assert apart == ([0] if fmt == "parquet" else [])  # no unknown customer: no anti-join


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_negative_sale_is_found_without_a_row_count_per_customer(
        tmp_path: Path, fmt: str, apart: list[int]) -> None:
    error = run_fails(_project(tmp_path, fmt, ORDERS + "o6,c1,2026-04-01,-15.00,sale\n"))
    assert {(f.source, f.check): f.count for f in error.report.findings} == {
        ("transactions", "negative"): 1}
    assert error.report.rows == {"customers": 3, "transactions": 6}
    assert apart == ([0] if fmt == "parquet" else [])


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_future_order_ignored_is_counted_and_reported_as_info(
        tmp_path: Path, fmt: str, apart: list[int]) -> None:
    yaml = YAML.replace("    refunds:", "    future_events: ignore\n    refunds:", 1)
    folder = _project(tmp_path, fmt, ORDERS + "o6,c3,2026-07-01,5000.00,sale\n", yaml=yaml)
    result = run(Project.open(folder), "value")
    assert tiers(result) == GRADES  # c3's 5000 after the as-of date is not counted
    [finding] = result.quality.findings
    assert (finding.check, finding.severity, finding.count) == ("future_event", "info", 1)
    assert result.quality.rows == {"customers": 3, "transactions": 6}
    assert apart == ([0] if fmt == "parquet" else [])


def test_two_parquet_sources_keep_their_counts_apart(tmp_path: Path, apart: list[int]) -> None:
    yaml = YAML.replace("indicators:", """  visits:
    path: visits.parquet
    time: visit_date
    columns:
      customer_id: {type: string}
      visit_date: {type: date}
indicators:
  visits_12m: {source: visits, agg: count, window: 12m}""").replace(
        "      - {key: other}", "      - {key: browser, when: \"visits_12m >= 2\"}\n"
        "      - {key: other}")
    folder = _project(tmp_path, "parquet", ORDERS, yaml=yaml)
    visits = "customer_id,visit_date\nc3,2026-05-01\nc3,2026-05-02\nc9,2026-05-03\n"
    pq.write_table(pv.read_csv(io.BytesIO(visits.encode()), convert_options=pv.ConvertOptions(
        column_types={"customer_id": "string", "visit_date": "date32"})),
        folder / "visits.parquet")
    error = run_fails(folder)
    assert {(f.source, f.check): f.count for f in error.report.findings} == {
        ("visits", "unknown_customer"): 1}
    assert error.report.rows == {"customers": 3, "transactions": 5, "visits": 3}
    assert sorted(apart) == [0, 1]  # the orders: no unknown customer; the visits: c9
    (folder / "visits.parquet").unlink()
    visits = "customer_id,visit_date\nc3,2026-05-01\nc3,2026-05-02\n"
    pq.write_table(pv.read_csv(io.BytesIO(visits.encode()), convert_options=pv.ConvertOptions(
        column_types={"customer_id": "string", "visit_date": "date32"})),
        folder / "visits.parquet")
    assert tiers(run(Project.open(folder), "value")) == {**GRADES, "c3": "browser"}
