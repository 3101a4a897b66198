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
        tmp_path: Path, fmt: str) -> None:
    error = run_fails(_project(tmp_path, fmt, ORDERS + "o6,c1,2026-04-01,-15.00,sale\n"))
    assert {(f.source, f.check): f.count for f in error.report.findings} == {
        ("transactions", "negative"): 1}
    assert error.report.rows == {"customers": 3, "transactions": 6}
