"""Generate the benchmark data: customers and transactions as Parquet, with DuckDB SQL.

    python benchmarks/generate.py --transactions 1M      # or 10M, 100M

writes ``benchmarks/data/<size>/customers.parquet`` and ``transactions.parquet`` (skipped when both
exist; ``--force`` rewrites them). Everything is a deterministic function of the row index, through
DuckDB's ``hash()``, so the same size always gives the same rows (``random()`` would not).

The shape, per customer ``k`` (customers = transactions / 10):

* 12% of customers never buy (they are in customers.parquet only).
* Buyers get a Lomax (Pareto II) number of orders, 1 + floor(12.4 * (u^(-1/2.2) - 1)): median
  about 5, mean about 11, a long tail (a few resellers with thousands). The per-customer counts are
  then rescaled over the running total so that the file has exactly the requested number of rows.
  Counts are small integers, so frequency is heavily tied, as in real data.
* Each buyer is active over a span of the two years: 30% since before the history starts, the rest
  from a uniform start; 35% stop buying at a uniform point of their span (churn). Order dates are
  uniform within the span, so recency and the 12/6-month counts vary realistically.
* Amounts are lognormal twice over: a per-customer mean order value (median 120, sigma 1.0) times a
  per-order factor (sigma 0.6), rounded to cents, so spend is heavy tailed.
* About 3% of rows are refunds: kind 'refund' and a negative amount; the rest are kind 'sale'.

Rows are written sorted by order date (as a date-ordered extract would be), shuffled within a day.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
SIZES = {"1M": 1_000_000, "10M": 10_000_000, "100M": 100_000_000}
END = date(2026, 6, 30)  # the last day of the history: the benchmark's as-of date
DAYS = 730  # two years of history, ending at END
START_SQL = f"(DATE '{END.isoformat()}' - {DAYS - 1})"  # the first day of the history

# A uniform double in [0, 1) from the hash of one BIGINT key (53 random bits). The key packs the
# customer index k, the order index j and a salt per variable into one integer: DuckDB's hash() of
# several arguments combines them weakly (hash(k, 1) and hash(k, 2) correlate at 0.59), while the
# hash of one integer is well mixed.
UNIFORM = "((hash({key}) >> 11)::DOUBLE / 9007199254740992.0)"


def key(salt: int, *, per_order: bool = False) -> str:
    """SQL for the packed key of customer k (and order j when ``per_order``) and ``salt``."""
    index = "((k << 24) | j)" if per_order else "k"
    return f"(({index} << 8) | {salt})"


def u(salt: int, *, per_order: bool = False) -> str:
    """SQL for a deterministic uniform [0, 1) value per customer (or per order) and ``salt``."""
    return UNIFORM.format(key=key(salt, per_order=per_order))


def normal(salt: int, *, per_order: bool = False) -> str:
    """SQL for a deterministic standard normal value (Box-Muller on two hashed uniforms)."""
    a, b = u(salt, per_order=per_order), u(salt + 1, per_order=per_order)
    return f"(sqrt(-2 * ln(1 - {a})) * cos(2 * pi() * {b}))"


def size_dir(size: str) -> Path:
    return DATA / size


def exists(size: str) -> bool:
    folder = size_dir(size)
    return (folder / "customers.parquet").exists() and (folder / "transactions.parquet").exists()


def customers_sql(n_customers: int, n_transactions: int) -> str:
    """Per-customer parameters, with exact order counts summing to ``n_transactions``."""
    return f"""
    CREATE TEMP TABLE params AS
    WITH base AS (
        SELECT
            k,
            {u(1)} < 0.88 AS buyer,
            -- Lomax order count (shape 2.2, scale 12.4), at least 1 for buyers
            1 + floor(12.4 * (pow(1 - {u(2)}, -1 / 2.2) - 1)) AS raw_orders,
            -- first active day, 0..729: 30% from the start of the history
            greatest(0, floor(({u(3)} * 1.3 - 0.3) * {DAYS}))::INTEGER AS first_day,
            {u(4)} < 0.35 AS churns,
            {u(5)} AS churn_at,
            -- per-customer mean order value, lognormal around 120
            120 * exp({normal(6)}) AS mean_value
        FROM range({n_customers}) AS t(k)
    ),
    spans AS (
        SELECT *,
            CASE WHEN churns
                 THEN first_day + floor(churn_at * ({DAYS} - first_day))::INTEGER
                 ELSE {DAYS} - 1 END AS last_day,
            CASE WHEN buyer THEN raw_orders ELSE 0 END::BIGINT AS w
        FROM base
    ),
    running AS (
        SELECT *, sum(w) OVER (ORDER BY k) AS cw, sum(w) OVER () AS total FROM spans
    )
    SELECT
        k,
        'C' || lpad((k + 1)::VARCHAR, 8, '0') AS customer_id,
        {START_SQL} + (first_day - floor({u(8)} * 400))::INTEGER AS signup_date,
        first_day,
        last_day,
        mean_value,
        -- rescale the counts so they sum to exactly n_transactions
        ((cw * {n_transactions} // total) - ((cw - w) * {n_transactions} // total))::BIGINT AS orders
    FROM running
    """


def transactions_sql(path: Path) -> str:
    day = f"(first_day + floor({u(11, per_order=True)} * (last_day - first_day + 1))::INTEGER)"
    amount = f"round(mean_value * exp(0.6 * {normal(12, per_order=True)}), 2)"
    refund = f"{u(14, per_order=True)} < 0.03"
    return f"""
    COPY (
        WITH rows AS (
            SELECT
                customer_id,
                {day} AS d,
                {amount} AS a,
                {refund} AS refund,
                (hash({key(15, per_order=True)}) >> 24)::BIGINT AS shuffle
            FROM params, range(orders) AS t(j)
            WHERE orders > 0
        )
        SELECT
            customer_id,
            {START_SQL} + d AS order_date,
            CASE WHEN refund THEN -a ELSE a END AS amount,
            CASE WHEN refund THEN 'refund' ELSE 'sale' END AS kind
        FROM rows
        ORDER BY d::BIGINT * 1099511627776 + shuffle
    ) TO '{path}' (FORMAT parquet, COMPRESSION zstd)
    """


def generate(size: str, *, force: bool = False, quiet: bool = False) -> Path:
    """Write the data for ``size`` unless it exists; returns its folder."""
    import duckdb

    folder = size_dir(size)
    if exists(size) and not force:
        if not quiet:
            print(f"{folder}: data exists, skipping (use --force to rewrite)")
        return folder
    n = SIZES[size]
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / ".tmp"
    tmp.mkdir(exist_ok=True)
    clock = time.perf_counter()
    # The sort of 100M rows spills to disk past the limit rather than take the shared machine.
    con = duckdb.connect(config={"temp_directory": str(tmp), "memory_limit": "8GB"})
    con.execute(customers_sql(n // 10, n))
    con.execute(
        f"COPY (SELECT customer_id, signup_date FROM params ORDER BY k) "
        f"TO '{folder / 'customers.parquet.part'}' (FORMAT parquet, COMPRESSION zstd)"
    )
    con.execute(transactions_sql(folder / "transactions.parquet.part"))
    con.close()
    for name in ("customers", "transactions"):
        (folder / f"{name}.parquet.part").rename(folder / f"{name}.parquet")
    tmp.rmdir()
    if not quiet:
        elapsed = time.perf_counter() - clock
        mib = sum(p.stat().st_size for p in folder.glob("*.parquet")) / 2**20
        print(
            f"{folder}: {n:,} transactions, {n // 10:,} customers in {elapsed:.1f} s, {mib:.0f} MiB"
        )
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", choices=list(SIZES), required=True)
    parser.add_argument("--force", action="store_true", help="rewrite existing files")
    args = parser.parse_args(argv)
    generate(args.transactions, force=args.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
