"""A small hand-made project whose tiers over 24 monthly runs are known in advance."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.conftest import write

# Orders on the 15th of these months (year, month) -> count.
ORDERS: dict[str, dict[tuple[int, int], int]] = {
    # one order every month, all the time: three in any 3-month window -> gold
    "C1": {(y, m): 1 for y in (2024, 2025, 2026) for m in range(1, 13)
           if (2024, 5) <= (y, m) <= (2026, 6)},
    # monthly until June 2025, then nothing
    "C2": {(y, m): 1 for y in (2024, 2025) for m in range(1, 13)
           if (2024, 5) <= (y, m) <= (2025, 6)},
    # four orders in January 2025 only
    "C3": {(2025, 1): 4},
    # a first order in March 2026
    "C4": {(2026, 3): 1},
    # C5 never orders
}
CUSTOMERS = ["C1", "C2", "C3", "C4", "C5"]


def month_index(y: int, m: int) -> int:
    return y * 12 + m - 1


def expected_tier(customer: str, as_of: date) -> str:
    """The rule by hand: orders in the 3 calendar months ending with the as-of month."""
    now = month_index(as_of.year, as_of.month)
    n = sum(c for (y, m), c in ORDERS.get(customer, {}).items()
            if now - 2 <= month_index(y, m) <= now)
    return "gold" if n >= 3 else "silver" if n >= 1 else "bronze"


PROJECT = """
name: months
as_of: 2026-06-30
sources:
  customers:
    path: customers.csv
    columns:
      customer_id: {type: string}
  transactions:
    path: orders.csv
    time: order_date
    columns:
      order_id: {type: string}
      customer_id: {type: string}
      order_date: {type: date}
      amount: {type: float, nonnegative: true}
indicators:
  orders_3m: {source: transactions, agg: count, window: 3m}
  spend_3m: {source: transactions, agg: sum, column: amount, window: 3m, default: 0}
schemes:
  tier:
    method: rules
    value: spend_3m
    tiers:
      - {key: gold, label: Gold, when: "orders_3m >= 3"}
      - {key: silver, label: Silver, when: "orders_3m >= 1"}
      - {key: bronze, label: Bronze}
    fallback: bronze
  steady:
    method: rules
    tiers:
      - {key: gold, when: "orders_3m >= 3"}
      - {key: silver, when: "orders_3m >= 1"}
      - {key: bronze}
    fallback: bronze
    stability: {downgrade_after: 2}
    overrides: {require_approval: true}
"""


def write_months(folder: Path, project: str = PROJECT) -> Path:
    write(folder, "tierwise.yaml", project)
    write(folder, "customers.csv", "customer_id\n" + "\n".join(CUSTOMERS) + "\n")
    rows = ["order_id,customer_id,order_date,amount"]
    for customer, months in ORDERS.items():
        for (y, m), count in sorted(months.items()):
            rows += [f"{customer}-{y}{m:02d}-{i},{customer},{y}-{m:02d}-15,100"
                     for i in range(count)]
    write(folder, "orders.csv", "\n".join(rows) + "\n")
    return folder


@pytest.fixture
def months(tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The project, with its store on SQLite or PostgreSQL."""
    monkeypatch.setenv("TIERWISE_STORE_URL", store_url)
    monkeypatch.setenv("TIERWISE_USER", "analyst")
    return write_months(tmp_path / "months")
