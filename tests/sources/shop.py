"""A small shop project for the source tests: three customers, five orders, one rules scheme.

As of 2026-06-30 the 12-month window is (2025-06-30, 2026-06-30]:
  c1: o1 80 + o2 50 = 130 spend, 2 sales          -> high  (spend_12m >= 100)
  c2: o3 30 + o4 -10 (a refund) = 20 spend, 1 sale -> mid   (orders_12m >= 1)
  c3: o5 is from 2025-03-01, outside the window    -> other (fallback)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import write
from tierwise.errors import DataError
from tierwise.services.grading import Project, RunResult, run

YAML = """
name: shop
as_of: 2026-06-30
sources:
  customers:
    path: customers.csv
    columns:
      customer_id: {type: string}
      name: {type: string}
      signup_date: {type: date}
  transactions:
    path: orders.csv
    time: order_date
    refunds: "kind == 'refund'"
    columns:
      order_id: {type: string}
      customer_id: {type: string}
      order_date: {type: date}
      amount: {type: float, nonnegative: true}
      kind: {type: string}
indicators:
  orders_12m: {source: transactions, agg: count, where: "kind == 'sale'", window: 12m}
  spend_12m: {source: transactions, agg: sum, column: amount, window: 12m}
schemes:
  value:
    method: rules
    tiers:
      - {key: high, when: "spend_12m >= 100"}
      - {key: mid, when: "orders_12m >= 1"}
      - {key: other}
    fallback: other
"""

CUSTOMERS = """
customer_id,name,signup_date
c1,Ann,2024-01-15
c2,Bob,2024-03-02
c3,Cy,2025-07-09
"""

ORDERS = """
order_id,customer_id,order_date,amount,kind
o1,c1,2026-01-05,80.00,sale
o2,c1,2026-03-10,50.00,sale
o3,c2,2026-02-11,30.00,sale
o4,c2,2026-02-20,-10.00,refund
o5,c3,2025-03-01,500.00,sale
"""

GRADES = {"c1": "high", "c2": "mid", "c3": "other"}


def shop(
    folder: Path,
    *,
    yaml: str = YAML,
    customers: str | None = CUSTOMERS,
    orders: str | None = ORDERS,
) -> Path:
    """Write the shop project into ``folder``; ``None`` leaves a file out."""
    write(folder, "tierwise.yaml", yaml)
    if customers is not None:
        write(folder, "customers.csv", customers)
    if orders is not None:
        write(folder, "orders.csv", orders)
    return folder


def run_fails(folder: Path, scheme: str = "value", **options: Any) -> DataError:
    """Run ``scheme``, expect a DataError, and check that the failed run wrote nothing."""
    project = Project.open(folder)
    with pytest.raises(DataError) as info:
        run(project, scheme, **options)
    assert not (folder / project.spec.output).exists(), "a failed run must leave no output"
    return info.value


def tiers(result: RunResult) -> dict[str, str]:
    """customer_id -> tier key, read back from the run's grades file."""
    import pyarrow.parquet as pq

    table = pq.read_table(result.folder / "grades.parquet", columns=["customer_id", "tier"])
    return dict(zip(table["customer_id"].to_pylist(), table["tier"].to_pylist(), strict=True))


def features(result: RunResult) -> dict[str, dict[str, Any]]:
    """customer_id -> indicator values, read back from the run's features file."""
    import pyarrow.parquet as pq

    rows = pq.read_table(result.folder / "features.parquet").to_pylist()
    return {row.pop("customer_id"): row for row in rows}
