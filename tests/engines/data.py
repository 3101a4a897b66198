"""The generated data set and project that every engine grades identically.

Seeded numpy, written as CSV with ISO dates, so each engine sees the same text and parses it itself.
Built to hit the edges where engines disagree: refunds (negative amounts), many customers tied in
frequency, customers without orders or visits, whole and fractional money sums, timestamps, and
empty optional text.
"""

from __future__ import annotations

import csv
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

AS_OF = date(2026, 6, 30)
CUSTOMERS = 300
TRANSACTIONS = 3000
VISITS = 1500

PROJECT = """\
name: parity
as_of: 2026-06-30
engine: {engine}
output: {output}
sources:
  customers:
    path: {data}/customers.csv
    columns:
      customer_id: {{type: string}}
      name: {{type: string}}
      region: {{type: string, required: false}}
      signup_date: {{type: date}}
  transactions:
    path: {data}/orders.csv
    time: order_date
    refunds: "kind == 'refund'"
    columns:
      order_id: {{type: string}}
      customer_id: {{type: string}}
      order_date: {{type: date}}
      amount: {{type: float, nonnegative: true}}
      kind: {{type: string}}
      channel: {{type: string}}
      items: {{type: int}}
  visits:
    path: {data}/visits.csv
    time: visited_at
    columns:
      visit_id: {{type: string}}
      customer_id: {{type: string}}
      visited_at: {{type: timestamp}}
      pages: {{type: int}}
indicators:
  orders_12m: {{source: transactions, agg: count, window: 12m, where: "kind == 'sale'"}}
  orders_all: {{source: transactions, agg: count}}
  refunds_12m: {{source: transactions, agg: count, window: 365d, where: "kind == 'refund'"}}
  spend_12m: {{source: transactions, agg: sum, column: amount, window: 12m}}
  spend_prev_12m: {{source: transactions, agg: sum, column: amount, window: {{length: 12m, offset: 12m}}}}
  spend_90d: {{source: transactions, agg: sum, column: amount, window: 90d}}
  avg_sale: {{source: transactions, agg: avg, column: amount, where: "kind == 'sale'"}}
  min_sale: {{source: transactions, agg: min, column: amount, where: "kind == 'sale' and amount > 0"}}
  max_amount_6m: {{source: transactions, agg: max, column: amount, window: 6m}}
  items_max: {{source: transactions, agg: max, column: items}}
  channels: {{source: transactions, agg: count_distinct, column: channel, where: "kind == 'sale'"}}
  first_amount: {{source: transactions, agg: first, column: amount}}
  last_amount: {{source: transactions, agg: last, column: amount, where: "kind == 'sale'"}}
  last_channel: {{source: transactions, agg: last, column: channel}}
  days_since_first: {{source: transactions, agg: days_since_first}}
  recency: {{source: transactions, agg: days_since_last, where: "kind == 'sale'"}}
  visits_30d: {{source: visits, agg: count, window: 30d}}
  pages_3m: {{source: visits, agg: sum, column: pages, window: 3m}}
  days_since_visit: {{source: visits, agg: days_since_last}}
  first_visit_days: {{source: visits, agg: days_since_first, where: "pages >= 2"}}
  signup: {{attribute: signup_date}}
  region: {{attribute: region, default: unknown}}
  tenure_days: {{expr: "days_since(signup)"}}
  aov: {{expr: "spend_12m / orders_12m"}}
  growth: {{expr: "round(spend_12m - spend_prev_12m, 2)"}}
  engaged: {{expr: "coalesce(days_since_visit, 9999) <= 30 or visits_30d >= 3"}}
schemes:
  rules:
    method: rules
    value: spend_12m
    tiers:
      - {{key: vip, when: "orders_12m >= 8 and spend_12m >= 2000"}}
      - {{key: gold, when: "spend_12m >= 1500 or orders_12m >= 10"}}
      - {{key: silver, when: "orders_12m between 3 and 20 and channels >= 2"}}
      - {{key: north, when: "region == 'north' and orders_all > 0"}}
      - {{key: lapsed, when: "recency > 180 or is_null(recency)"}}
      - {{key: engaged, when: "engaged and aov >= 50.5"}}
      - {{key: other}}
    fallback: other
  score_min:
    method: scorecard
    value: spend_12m
    dimensions:
      - {{indicator: spend_12m, weight: 0.35, normalize: {{method: minmax, cap: [0, 4000]}}}}
      - {{indicator: orders_12m, weight: 0.25, normalize: percentile}}
      - {{indicator: recency, weight: 0.2, normalize: {{method: zscore, invert: true}}}}
      - {{indicator: tenure_days, weight: 0.05, normalize: {{method: bins, bins: [[null, 0], [365, 40], [730, 70], [1095, 100]]}}}}
      - {{indicator: days_since_visit, weight: 0.1, normalize: {{method: minmax, invert: true}}}}
      - {{indicator: items_max, weight: 0.05, normalize: {{method: minmax, cap: [5, null]}}}}
    tiers: [{{key: platinum, min_score: 70}}, {{key: gold, min_score: 45.5}}, {{key: silver, min_score: 20}}, {{key: basic}}]
  score_top:
    method: scorecard
    value: spend_12m
    dimensions:
      - {{indicator: spend_12m, weight: 40}}
      - {{indicator: avg_sale, weight: 20, normalize: {{method: percentile, invert: true}}}}
      - {{indicator: channels, weight: 20, normalize: {{method: zscore, cap: [null, 2]}}}}
      - {{indicator: visits_30d, weight: 20, normalize: {{method: minmax, cap: [1, 4]}}}}
    tiers: [{{key: top, top_share: 0.1}}, {{key: upper, top_share: 0.35}}, {{key: middle, top_share: 0.7}}, {{key: rest}}]
  rfm:
    method: rfm
    value: spend_12m
    recency: recency
    frequency: orders_12m
    monetary: spend_12m
  rfm_cn8:
    method: rfm
    recency: recency
    frequency: orders_12m
    monetary: spend_12m
    segments: cn8
  rfm_cuts:
    method: rfm
    recency: recency
    frequency: orders_12m
    monetary: spend_12m
    cuts:
      recency: [30, 90, 180, 365]
      frequency: [2, 4, 6, 10]
      monetary: [200, 500, 1000, 2500]
  abc_value:
    method: abc
    value: spend_12m
    tiers: [{{key: A, cumulative: 0.8}}, {{key: B, cumulative: 0.95}}, {{key: C}}]
  abc_customers:
    method: abc
    value: spend_12m
    by: customers
    tiers: [{{key: A, cumulative: 0.2}}, {{key: B, cumulative: 0.5}}, {{key: C}}]
"""

SCHEMES = [
    "rules",
    "score_min",
    "score_top",
    "rfm",
    "rfm_cn8",
    "rfm_cuts",
    "abc_value",
    "abc_customers",
]

# Hand-built customers appended to the generated ones, checked value by value in the tests.
HAND_ORDERS = [
    # C9001: two sales and a refund in the last 12 months, one sale the year before.
    ("H1", "C9001", "2026-06-20", "1200.00", "sale", "web", "3"),
    ("H2", "C9001", "2026-03-31", "850.50", "sale", "store", "1"),
    ("H3", "C9001", "2026-04-02", "-100.50", "refund", "store", "1"),
    ("H4", "C9001", "2025-01-15", "400.00", "sale", "web", "2"),
    # C9002: a single sale exactly at the 12-month window edge (2025-06-30 is outside it).
    ("H5", "C9002", "2025-06-30", "99.99", "sale", "app", "1"),
    ("H6", "C9002", "2025-07-01", "0.01", "sale", "app", "1"),
]
HAND_CUSTOMERS = [
    ("C9001", "Hand One", "north", "2024-06-30"),
    ("C9002", "Hand Two", "", "2026-06-30"),
    ("C9003", "Hand Three", "south", "2019-02-28"),  # no orders, no visits
]


def write_data(folder: Path, seed: int = 20261130) -> None:
    """Write customers.csv, orders.csv and visits.csv into ``folder``."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    ids = [f"C{i:04d}" for i in range(1, CUSTOMERS + 1)]
    regions = ["north", "south", "east", "west", ""]
    with (folder / "customers.csv").open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["customer_id", "name", "region", "signup_date"])
        for cid in ids:
            signup = AS_OF - timedelta(days=int(rng.integers(0, 2400)))
            region = regions[int(rng.choice(5, p=[0.3, 0.25, 0.2, 0.15, 0.1]))]
            out.writerow([cid, f"客户 {cid}", region, signup.isoformat()])
        out.writerows(HAND_CUSTOMERS)

    # A skewed order count per customer (many share the same count); one in ten never orders.
    weights = rng.pareto(2.5, CUSTOMERS) + 0.3
    weights[rng.random(CUSTOMERS) < 0.1] = 0
    owners = rng.choice(CUSTOMERS, size=TRANSACTIONS, p=weights / weights.sum())
    days = np.minimum(rng.exponential(330, TRANSACTIONS), 3 * 365 - 1).astype(int)
    # Whole amounts for a third of orders, cents for the rest; some amounts repeat exactly.
    cents = rng.lognormal(9.5, 1.0, TRANSACTIONS).round()
    whole = rng.random(TRANSACTIONS) < 0.33
    cents[whole] = cents[whole] // 100 * 100
    popular = rng.random(TRANSACTIONS) < 0.2
    cents[popular] = rng.choice([1999, 4999, 9900], size=int(popular.sum()))
    refund = rng.random(TRANSACTIONS) < 0.06
    channels = np.array(["web", "store", "app"])[rng.integers(0, 3, TRANSACTIONS)]
    items = rng.integers(1, 6, TRANSACTIONS)
    with (folder / "orders.csv").open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(
            ["order_id", "customer_id", "order_date", "amount", "kind", "channel", "items"]
        )
        for i in range(TRANSACTIONS):
            amount = cents[i] / 100 * (-1 if refund[i] else 1)
            out.writerow(
                [
                    f"O{i:05d}",
                    ids[owners[i]],
                    (AS_OF - timedelta(days=int(days[i]))).isoformat(),
                    f"{amount:.2f}",
                    "refund" if refund[i] else "sale",
                    channels[i],
                    int(items[i]),
                ]
            )
        out.writerows(HAND_ORDERS)

    visitors = rng.choice(CUSTOMERS, size=VISITS)
    seconds = rng.integers(0, 200 * 86400, VISITS)
    start = datetime.combine(AS_OF, datetime.min.time()) + timedelta(days=1)
    with (folder / "visits.csv").open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["visit_id", "customer_id", "visited_at", "pages"])
        for i in range(VISITS):
            when = start - timedelta(seconds=int(seconds[i]) + 1)
            out.writerow(
                [f"V{i:05d}", ids[visitors[i]], when.isoformat(sep=" "), int(rng.integers(1, 9))]
            )
        out.writerow(["HV1", "C9001", "2026-06-30 23:59:59", "4"])
        out.writerow(["HV2", "C9001", "2026-05-31 08:00:00", "1"])


def write_project(folder: Path, *, data: Path, engine: str) -> None:
    """Write ``tierwise.yaml`` into ``folder`` reading the CSV files in ``data``."""
    folder.mkdir(parents=True, exist_ok=True)
    text = PROJECT.format(engine=engine, output=str(folder / "output"), data=str(data))
    (folder / "tierwise.yaml").write_text(text, encoding="utf-8")
