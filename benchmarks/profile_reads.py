"""What one customer's profile costs to read at scale: attributes and the latest events.

    python benchmarks/generate.py --transactions 10M
    python benchmarks/profile_reads.py --size 10M [--csv]

Reads the profile of 20 customers spread over the id range with
``tierwise.services.profile.attributes`` and ``recent_events`` (20 rows a source) from the
generated Parquet files (1M customers and 10M transactions at 10M), and with ``--csv`` also from
the same data written once as CSV files (``data/<size>/csv/``), and prints the median and the
slowest read. The data is sorted by order date, not by customer, as an extract would be: no
row group can be skipped, so every lookup scans the customer column.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402

PROJECT = """
name: profile-reads
as_of: 2026-06-30
sources:
  customers:
    path: {folder}/customers.{ext}
    columns:
      customer_id: {{type: string}}
      signup_date: {{type: date}}
  transactions:
    path: {folder}/transactions.{ext}
    time: order_date
    refunds: "kind == 'refund'"
    columns:
      customer_id: {{type: string}}
      order_date: {{type: date}}
      amount: {{type: float}}
      kind: {{type: string}}
indicators:
  orders: {{source: transactions, agg: count}}
schemes:
  s:
    method: rules
    tiers:
      - {{key: a, when: "orders >= 1"}}
      - {{key: b}}
    fallback: b
"""


def measure(folder: Path, ext: str, ids: list[str]) -> list[float]:
    """Seconds per profile read (attributes and events) of each of ``ids``."""
    from tierwise.services import profile
    from tierwise.services.project import Project

    project_dir = folder / f"profile-{ext}"
    project_dir.mkdir(exist_ok=True)
    data = folder if ext == "parquet" else folder / "csv"
    (project_dir / "tierwise.yaml").write_text(PROJECT.format(folder=data, ext=ext),
                                               encoding="utf-8")
    project = Project.open(project_dir)
    profile.recent_events(project, ids[0])  # imports and first connection, not timed
    times = []
    for customer in ids:
        start = time.perf_counter()
        profile.attributes(project, customer)
        events = profile.recent_events(project, customer)
        times.append(time.perf_counter() - start)
        assert len(events[0].rows) <= profile.EVENT_ROWS
    return times


def main(argv: list[str] | None = None) -> int:
    """Measure and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", default="10M", choices=list(generate.SIZES))
    parser.add_argument("--csv", action="store_true", help="also read CSV copies of the data")
    args = parser.parse_args(argv)
    folder = generate.generate(args.size, quiet=True)
    import duckdb

    # 20 customers spread over the whole id range.
    ids = [r[0] for r in duckdb.sql(
        f"SELECT customer_id FROM '{folder}/customers.parquet' USING SAMPLE 20 ROWS "
        "(reservoir, 7)").fetchall()]
    kinds = ["parquet"]
    if args.csv:
        (folder / "csv").mkdir(exist_ok=True)
        for name in ("customers", "transactions"):
            target = folder / "csv" / f"{name}.csv"
            if not target.exists():
                duckdb.sql(f"COPY (SELECT * FROM '{folder}/{name}.parquet') TO '{target}' "
                           "(HEADER, DELIMITER ',')")
        kinds.append("csv")
    for ext in kinds:
        times = measure(folder, ext, ids)
        print(f"{args.size} {ext}: profile read (attributes + 20 latest orders) "
              f"median {statistics.median(times) * 1000:.0f} ms, "
              f"slowest {max(times) * 1000:.0f} ms over {len(times)} customers")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
