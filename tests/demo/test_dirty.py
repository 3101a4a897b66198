"""The dirty retail copy: one broken row per data-quality check, everything else untouched."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from tierwise.demo import DirtyRow, write_dirty_retail, write_retail

CUSTOMERS = 400


def _rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[DirtyRow]]:
    clean = tmp_path_factory.mktemp("clean")
    dirty = tmp_path_factory.mktemp("dirty")
    write_retail(clean, customers=CUSTOMERS)
    cases = write_dirty_retail(dirty, customers=CUSTOMERS)
    return clean, dirty, cases


def test_every_check_has_its_case(written: tuple[Path, Path, list[DirtyRow]]) -> None:
    _, _, cases = written
    seen = sorted((c.file, c.check, c.column, c.value) for c in cases)
    assert seen == sorted([
        ("customers.csv", "duplicate_id", "customer_id", "C000006"),
        ("orders.csv", "unparseable", "amount", "12,5"),
        ("orders.csv", "unparseable", "order_date", "2026-02-30"),
        ("orders.csv", "unknown_customer", "customer_id", "C999999"),
        ("orders.csv", "negative", "amount", next(c.value for c in cases if c.check == "negative")),
        ("orders.csv", "future_event", "order_date", "2026-07-03"),
    ])


def test_each_case_is_in_the_file_at_its_row(written: tuple[Path, Path, list[DirtyRow]]) -> None:
    _, dirty, cases = written
    for case in cases:
        rows = _rows(dirty / case.file)
        header, data = rows[0], rows[1:]
        # Rows are numbered from 1 after the header, as the data-quality report numbers them.
        assert data[case.row - 1][header.index(case.column)] == case.value, case


def test_the_broken_rows_are_the_only_changes(written: tuple[Path, Path, list[DirtyRow]]) -> None:
    clean, dirty, cases = written
    clean_orders, dirty_orders = _rows(clean / "orders.csv"), _rows(dirty / "orders.csv")
    assert len(clean_orders) == len(dirty_orders)
    changed = {i for i, (a, b) in enumerate(zip(clean_orders, dirty_orders, strict=True)) if a != b}
    assert changed == {c.row for c in cases if c.file == "orders.csv"}

    clean_cust, dirty_cust = _rows(clean / "customers.csv"), _rows(dirty / "customers.csv")
    twin = next(c for c in cases if c.check == "duplicate_id")
    assert dirty_cust[: twin.row] == clean_cust[: twin.row]
    assert dirty_cust[twin.row + 1:] == clean_cust[twin.row:]
    original, copy = dirty_cust[twin.row - 1], dirty_cust[twin.row]
    assert original[0] == copy[0] == twin.value
    assert original != copy  # a second registration, from another city


def test_broken_values_are_what_they_claim(written: tuple[Path, Path, list[DirtyRow]]) -> None:
    _, dirty, cases = written
    rows = _rows(dirty / "orders.csv")
    header, data = rows[0], rows[1:]
    kind = header.index("kind")
    negative = next(c for c in cases if c.check == "negative")
    assert float(negative.value) < 0 and data[negative.row - 1][kind] == "sale"
    future = next(c for c in cases if c.check == "future_event")
    assert date.fromisoformat(future.value) > date(2026, 6, 30)
    assert data[future.row - 1][kind] == "sale"
    bad_date = next(c for c in cases if c.check == "unparseable" and c.column == "order_date")
    with pytest.raises(ValueError):
        date.fromisoformat(bad_date.value)
    # The decimal comma is quoted, so the file still has five columns on every row.
    assert '"12,5"' in (dirty / "orders.csv").read_text(encoding="utf-8")
    assert all(len(r) == len(header) for r in data)
    customers = {r[0] for r in _rows(dirty / "customers.csv")[1:]}
    assert "C999999" not in customers
