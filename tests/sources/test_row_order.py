"""Row-order independence: shuffling the rows of the CSV files changes no grade."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import write
from tierwise.services.grading import Project, run

YAML = """
name: shop
as_of: 2026-06-30
sources:
  customers:
    path: customers.csv
    columns:
      customer_id: {type: string}
      signup_date: {type: date}
  transactions:
    path: orders.csv
    time: order_date
    refunds: "kind == 'refund'"
    columns:
      customer_id: {type: string}
      order_date: {type: date}
      amount: {type: float, nonnegative: true}
      kind: {type: string}
indicators:
  orders_12m: {source: transactions, agg: count, where: "kind == 'sale'", window: 12m}
  spend_12m: {source: transactions, agg: sum, column: amount, window: 12m}
  last_amount: {source: transactions, agg: last, column: amount}
  days_since_last: {source: transactions, agg: days_since_last, where: "kind == 'sale'"}
schemes:
  value:
    method: rules
    tiers:
      - {key: high, when: "spend_12m >= 100"}
      - {key: mid, when: "orders_12m >= 2 or last_amount >= 50"}
      - {key: low}
    fallback: low
  abc:
    method: abc
    value: spend_12m
    tiers: [{key: A, cumulative: 0.8}, {key: B, cumulative: 0.95}, {key: C}]
  score:
    method: scorecard
    dimensions:
      - {indicator: spend_12m, weight: 0.6, normalize: percentile}
      - {indicator: orders_12m, weight: 0.4}
    tiers: [{key: gold, min_score: 60}, {key: silver, min_score: 30}, {key: bronze}]
  rfm:
    method: rfm
    recency: days_since_last
    frequency: orders_12m
    monetary: spend_12m
"""

CUSTOMERS = ["customer_id,signup_date", *(f"c{i},2024-0{1 + i % 9}-15" for i in range(1, 10))]
# Ties on purpose (equal spend, equal last dates, two orders on one day for c5) so that an
# order-dependent tie break would show. Amounts are multiples of 0.25, so every sum is exact
# in floating point whatever the order of addition.
ORDERS = [
    "customer_id,order_date,amount,kind",
    "c1,2026-01-05,80.00,sale",
    "c1,2026-03-10,50.00,sale",
    "c2,2026-02-11,30.00,sale",
    "c2,2026-02-20,-10.00,refund",
    "c3,2025-03-01,500.00,sale",
    "c4,2026-06-30,40.00,sale",
    "c4,2026-06-01,40.00,sale",
    "c5,2026-05-05,60.00,sale",
    "c5,2026-05-05,45.25,sale",
    "c6,2026-05-05,60.00,sale",
    "c6,2026-01-01,45.25,sale",
    "c7,2025-12-24,12.50,sale",
    "c8,2026-06-30,130.00,sale",
    "c8,2026-06-30,-130.00,refund",
]
SCHEMES = ["value", "abc", "score", "rfm"]


def _grades(rows_customers: list[str], rows_orders: list[str]) -> dict[str, pa.Table]:
    import pyarrow.parquet as pq

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write(folder, "tierwise.yaml", YAML)
        write(folder, "customers.csv", "\n".join([CUSTOMERS[0], *rows_customers]) + "\n")
        write(folder, "orders.csv", "\n".join([ORDERS[0], *rows_orders]) + "\n")
        project = Project.open(folder)
        out = {}
        for scheme in SCHEMES:
            result = run(project, scheme)
            out[scheme] = pq.read_table(result.folder / "grades.parquet").sort_by("customer_id")
        return out


@functools.cache
def _baseline() -> dict[str, pa.Table]:
    return _grades(CUSTOMERS[1:], ORDERS[1:])


def test_baseline_grades_are_spread_over_tiers() -> None:
    # A scheme that put everyone in one tier would pass the shuffle test trivially.
    for scheme, table in _baseline().items():
        assert len(set(table["tier"].to_pylist())) >= 2, scheme


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(customers=st.permutations(CUSTOMERS[1:]), orders=st.permutations(ORDERS[1:]))
def test_grades_do_not_depend_on_row_order(customers: list[str], orders: list[str]) -> None:
    shuffled = _grades(customers, orders)
    for scheme in SCHEMES:
        expected, got = _baseline()[scheme], shuffled[scheme]
        assert got.equals(expected), (scheme, got.to_pylist(), expected.to_pylist())
