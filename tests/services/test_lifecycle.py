"""Lifecycle stages over runs: new, active, silent, lost, and won back after being lost."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.conftest import write
from tierwise.services import runs, scheme_admin
from tierwise.services.grading import Project, run

YAML = """
name: shop
sources:
  customers:
    path: customers.csv
    columns: {customer_id: {type: string}}
  transactions:
    path: orders.csv
    time: order_date
    future_events: ignore   # past dates are graded from today's extract
    columns: {customer_id: {type: string}, order_date: {type: date}, amount: {type: float}}
indicators:
  days_since_first_order: {source: transactions, agg: days_since_first}
  days_since_last_order: {source: transactions, agg: days_since_last}
"""
# X: one order in January 2024, then back in March 2025; Y: first order in March 2025;
# Z: ordered in September 2024 only; N: never ordered.
ORDERS = [("X", "2024-01-15"), ("X", "2025-03-10"), ("Y", "2025-03-20"), ("Z", "2024-09-05")]


@pytest.fixture
def shop(tmp_path: Path) -> Project:
    write(tmp_path, "tierwise.yaml", YAML)
    write(tmp_path, "customers.csv", "customer_id\nX\nY\nZ\nN\n")
    write(tmp_path, "orders.csv", "customer_id,order_date,amount\n" + "".join(
        f"{c},{d},10\n" for c, d in ORDERS))
    project = Project.open(tmp_path)
    store = runs.open_store(project)
    try:
        scheme_admin.create(store, project, scheme_admin.NewScheme("life", template="lifecycle"),
                            actor="ada")
    finally:
        store.close()
    return project


def _stages(project: Project, day: date) -> dict[str, str]:
    [done] = runs.run(project, ["life"], as_of=day)
    assert done.status == "done"
    table = pq.read_table(Path(str(done.folder)) / "grades.parquet", columns=["customer_id", "tier"])
    return dict(zip(*table.to_pydict().values(), strict=True))


def test_won_back_means_lost_in_the_previous_run(shop: Project) -> None:
    # X's last order is 382 days old: lost. Z silent, N never bought: lost.
    assert _stages(shop, date(2025, 1, 31)) == {"X": "lost", "Y": "lost", "Z": "silent",
                                                "N": "lost"}
    # X bought again after being lost: won back (not merely active); Y is new.
    assert _stages(shop, date(2025, 3, 31)) == {"X": "won_back", "Y": "new", "Z": "silent",
                                                "N": "lost"}
    # A run later X is active again (the previous stage was won back, not lost).
    assert _stages(shop, date(2025, 4, 30))["X"] == "active"


def test_an_unrecorded_run_has_no_previous_tier(shop: Project) -> None:
    import json

    from tierwise.services.scheme_admin import template

    # The template's scheme in tierwise.yaml (JSON is YAML), graded outside the store: X is
    # active, since nothing says it was lost before.
    body = json.dumps(template("lifecycle").scheme, ensure_ascii=False)
    path = shop.root / "tierwise.yaml"
    path.write_text(path.read_text(encoding="utf-8") + f"schemes:\n  life2: {body}\n",
                    encoding="utf-8")
    result = run(Project.open(shop.root), "life2", as_of=date(2025, 3, 31))
    assert {t.key: t.customers for t in result.tiers}["won_back"] == 0


def test_explain_shows_the_previous_stage(shop: Project) -> None:
    from tests.cli.running import invoke

    _stages(shop, date(2025, 1, 31))
    _stages(shop, date(2025, 3, 31))
    shown = invoke("explain", "-s", "life", "X", "-p", shop.root)
    flat = " ".join(shown.output.replace("│", " ").split())
    assert "won_back" in flat and "tier in the previous run" in flat and "lost" in flat, shown.output
