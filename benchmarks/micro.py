"""Measure what each part of tierwise's generated SQL costs, against leaner variants.

    python benchmarks/micro.py --size 10M [--repeat 3] [--only F]

First captures the SQL tierwise generates (by running both schemes on the 1M data with the engine
adapter wrapped, as benchmarks/profile.py does), then runs that SQL and hand-written variants of it
on the given size, in one DuckDB connection over the Parquet files, and prints wall and CPU seconds
(CPU = all threads of this process) of each, best of ``--repeat``. Each variant is wrapped in
``CREATE OR REPLACE TEMP TABLE`` so results stay in DuckDB and no transfer to Python is timed.

The variants isolate one cause each:

* F*: the per-customer aggregate (indicators) with and without the TRIM/NULLIF tierwise applies
  to Parquet string columns and the DECIMAL(38, 6) sum;
* C*: the data checks: tierwise's query, the same flags without the unknown-customer semi-join,
  and the unknown customers found from the per-customer aggregate instead;
* X: checks and indicators fused into one scan of the transactions;
* G*: grading on the feature table: tierwise's value and rfm queries, the bare rules CASE, RFM by
  ntile (three sorts), by rank() (tie-aware, sorts) and by counts per distinct value (tie-aware,
  tierwise's method without the reason and gap texts).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402
import run as bench  # noqa: E402

AS_OF = generate.END.isoformat()
STRIP = "' \t\n\r\x0b\x0c'"


def capture() -> dict[str, str]:
    """The SQL of every engine call of a tierwise run of both schemes on the 1M data."""
    from tierwise.engine import Engine
    from tierwise.services.grading import Project, run

    generate.generate("1M", quiet=True)
    folder = bench.write_project("1M")
    calls: dict[str, str] = {}
    scheme = {"name": ""}
    originals = {k: getattr(Engine, k) for k in ("execute", "to_arrow", "materialize")}

    def wrap(kind: str) -> None:
        original = originals[kind]

        def recorded(self: Engine, *a: object, **kw: object) -> object:
            expr = a[-1] if kind == "materialize" else a[0]
            calls[f"{scheme['name']}_{len(calls):02d}_{kind}"] = self.sql(expr)  # type: ignore[arg-type]
            return original(self, *a, **kw)

        setattr(Engine, kind, recorded)

    for kind in originals:
        wrap(kind)
    try:
        project = Project.open(folder)
        for name in bench.SCHEMES:
            scheme["name"] = name
            run(project, name)
    finally:
        for kind, original in originals.items():
            setattr(Engine, kind, original)
    return calls


def local(sql: str) -> str:
    """Point captured SQL at this connection's views: tx, cu and feat."""
    sql = re.sub(r'"tw_transactions_[0-9a-f]{8}"', "tx", sql)
    sql = re.sub(r'"tw_customers_[0-9a-f]{8}"', "cu", sql)
    return re.sub(r'"temp"\."main"\."tw_features_[0-9a-f]{8}"', "feat", sql)


def pick(calls: dict[str, str], scheme: str, kind: str, starts: str, nth: int = 0) -> str:
    found = [
        sql
        for key, sql in calls.items()
        if key.startswith(scheme + "_") and key.endswith(kind) and sql.lstrip().startswith(starts)
    ]
    return local(found[nth])


WINDOWS = f"""
    count(*) FILTER (WHERE kind = 'sale' AND order_date > DATE '{AS_OF}' - INTERVAL 12 MONTH)
        AS orders_12m,
    count(*) FILTER (WHERE kind = 'sale' AND order_date > DATE '{AS_OF}' - INTERVAL 6 MONTH)
        AS orders_6m,
    {{spend}} AS spend_12m,
    max(order_date) FILTER (WHERE kind = 'sale') AS last_order
"""


SPEND_WINDOW = f"order_date > DATE '{AS_OF}' - INTERVAL 12 MONTH"
SUM_DOUBLE = f"sum(amount) FILTER (WHERE {SPEND_WINDOW})"
SUM_DECIMAL = f"sum(amount::DECIMAL(38, 6)) FILTER (WHERE {SPEND_WINDOW})::DOUBLE"


def aggregate(*, spend: str = SUM_DOUBLE, source: str = "tx") -> str:
    return f"SELECT customer_id, {WINDOWS.format(spend=spend)} FROM {source} GROUP BY customer_id"


TRIMMED = (
    f"(SELECT NULLIF(TRIM(customer_id, {STRIP}), '') AS customer_id, order_date, amount, "
    f"NULLIF(TRIM(kind, {STRIP}), '') AS kind FROM tx)"
)

FLAGS = f"""
    count(*) AS rows,
    count(*) FILTER (WHERE customer_id IS NULL) AS missing_customer_id,
    count(*) FILTER (WHERE order_date IS NULL) AS missing_order_date,
    count(*) FILTER (WHERE amount IS NULL) AS missing_amount,
    count(*) FILTER (WHERE kind IS NULL) AS missing_kind,
    count(*) FILTER (WHERE amount < 0 AND kind IS DISTINCT FROM 'refund') AS negative_amount,
    count(*) FILTER (WHERE order_date > DATE '{AS_OF}') AS future_event
"""

RFM_NTILE = """
    SELECT customer_id,
        ntile(5) OVER (ORDER BY days_since_last_order DESC NULLS FIRST) AS r,
        ntile(5) OVER (ORDER BY orders_12m) AS f,
        ntile(5) OVER (ORDER BY spend_12m) AS m
    FROM feat
"""

RFM_RANK = """
    SELECT customer_id,
        1 + floor(5 * (rank() OVER (ORDER BY coalesce(-days_since_last_order, '-inf'::DOUBLE)) - 1)
                  / count(*) OVER ()) AS r,
        1 + floor(5 * (rank() OVER (ORDER BY orders_12m) - 1) / count(*) OVER ()) AS f,
        1 + floor(5 * (rank() OVER (ORDER BY spend_12m) - 1) / count(*) OVER ()) AS m
    FROM feat
"""


def rfm_counts() -> str:
    """Tie-aware scores from counts per distinct value (tierwise's method), bare."""
    parts = []
    for dim, key in (
        ("r", "coalesce(-days_since_last_order, '-inf'::DOUBLE)"),
        ("f", "orders_12m"),
        ("m", "spend_12m"),
    ):
        parts.append(f"""{dim}_counts AS (
            SELECT k, (1 + floor(5 * (sum(c) OVER (ORDER BY k) - c) / sum(c) OVER ()))::INT AS s
            FROM (SELECT {key} AS k, count(*) AS c FROM feat GROUP BY ALL))""")
    return f"""
        WITH {", ".join(parts)}
        SELECT customer_id, r_counts.s AS r, f_counts.s AS f, m_counts.s AS m
        FROM feat
        JOIN r_counts ON r_counts.k = coalesce(-days_since_last_order, '-inf'::DOUBLE)
        JOIN f_counts ON f_counts.k = orders_12m
        JOIN m_counts ON m_counts.k = spend_12m
    """


RULES = """
    SELECT customer_id,
        CASE
            WHEN orders_12m >= 10 AND spend_12m >= 10000 THEN 'high'
            WHEN (orders_12m BETWEEN 5 AND 9 AND spend_12m BETWEEN 5000 AND 9999)
                OR (orders_12m >= 10 AND spend_12m < 10000) THEN 'medium'
            WHEN orders_12m BETWEEN 1 AND 4 AND spend_12m < 5000 THEN 'low'
            WHEN orders_6m = 0 THEN 'churn_risk'
            ELSE 'unclassified'
        END AS tier
    FROM feat
"""


def variants(calls: dict[str, str]) -> list[tuple[str, str, str]]:
    """(id, description, SQL) of every timed statement."""
    agg = aggregate()
    return [
        ("F1", "aggregate per customer, hand (double sum)", agg),
        ("F2", "F1 + DECIMAL(38,6) sum", aggregate(spend=SUM_DECIMAL)),
        ("F3", "F1 on TRIM/NULLIF'd strings", aggregate(source=TRIMMED)),
        (
            "F4",
            "F1 + TRIM/NULLIF + DECIMAL sum",
            aggregate(spend=SUM_DECIMAL, source=TRIMMED),
        ),
        ("F5", "tierwise indicators (value scheme)", pick(calls, "value", "materialize", "SELECT")),
        ("F6", "tierwise indicators (rfm scheme)", pick(calls, "rfm", "materialize", "SELECT")),
        ("C1", "tierwise checks: customers", pick(calls, "value", "execute", "SELECT", 0)),
        ("C2", "tierwise checks: transactions", pick(calls, "value", "execute", "SELECT", 1)),
        ("C3", "transaction flags, no unknown-customer join", f"SELECT {FLAGS} FROM tx"),
        ("C4", "C3 on TRIM/NULLIF'd strings", f"SELECT {FLAGS} FROM {TRIMMED}"),
        (
            "C5",
            "unknown customers from the aggregate (anti-join)",
            """SELECT count(*) AS unknown_customers, coalesce(sum(n), 0) AS unknown_rows
                FROM (SELECT customer_id, count(*) AS n FROM tx GROUP BY ALL) AS a
                WHERE customer_id IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM cu WHERE cu.customer_id = a.customer_id)""",
        ),
        (
            "X1",
            "checks + indicators fused: one scan, FULL JOIN",
            f"""SELECT coalesce(c.customer_id, a.customer_id) AS customer_id,
                       c.customer_id IS NULL AS unknown, a.* EXCLUDE (customer_id)
                FROM cu AS c FULL JOIN (
                    SELECT customer_id, {FLAGS}, {WINDOWS.format(spend=SUM_DOUBLE)}
                    FROM tx GROUP BY customer_id) AS a
                ON a.customer_id = c.customer_id""",
        ),
        ("G1", "rules: tier CASE only", RULES),
        ("G2", "tierwise value grades (with reasons, gap)", pick(calls, "value", "to_arrow", "")),
        ("G3", "RFM by ntile (3 sorts), hand", RFM_NTILE),
        ("G4", "RFM tie-aware by rank() (3 sorts)", RFM_RANK),
        ("G5", "RFM tie-aware by counts per value, bare", rfm_counts()),
        ("G6", "tierwise rfm grades (with reasons, gap)", pick(calls, "rfm", "to_arrow", "")),
    ]


def main(argv: list[str] | None = None) -> int:
    import duckdb

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=list(generate.SIZES), required=True)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--only", help="run the variants whose id starts with this, e.g. G")
    parser.add_argument("--no-wait", action="store_true", help="do not wait for a quiet machine")
    args = parser.parse_args(argv)
    calls = capture()
    generate.generate(args.size, quiet=True)
    folder = generate.size_dir(args.size)
    bench.warm(folder)
    con = duckdb.connect()
    con.execute(f"CREATE VIEW tx AS SELECT * FROM read_parquet('{folder}/transactions.parquet')")
    con.execute(f"CREATE VIEW cu AS SELECT * FROM read_parquet('{folder}/customers.parquet')")
    con.execute(
        f"""CREATE TEMP TABLE feat AS
            SELECT c.customer_id, DATE '{AS_OF}' - a.last_order AS days_since_last_order,
                   coalesce(a.orders_12m, 0) AS orders_12m, coalesce(a.spend_12m, 0) AS spend_12m,
                   coalesce(a.orders_6m, 0) AS orders_6m
            FROM cu AS c LEFT JOIN ({aggregate()}) AS a ON a.customer_id = c.customer_id"""
    )
    print(f"{args.size}: best of {args.repeat}; wall s, CPU s (both threads)")
    for ident, text, sql in variants(calls):
        if args.only and not ident.startswith(args.only):
            continue
        best: tuple[float, float] | None = None
        for _ in range(args.repeat):
            if not args.no_wait:
                bench.wait_quiet(limit=300)
            clock, cpu = time.perf_counter(), time.process_time()
            con.execute(f"CREATE OR REPLACE TEMP TABLE result AS {sql}")
            took = (time.perf_counter() - clock, time.process_time() - cpu)
            best = took if best is None or took[0] < best[0] else best
        assert best is not None
        print(f"  {ident:3s} {best[0]:7.2f} {best[1]:7.2f}  {text}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
