"""Measure what each part of tierwise's generated SQL costs, against leaner variants.

    python benchmarks/micro.py --size 10M [--repeat 3] [--only F]

First captures the SQL tierwise generates (by running both schemes on the 1M data with the engine
adapter wrapped, as benchmarks/profile_steps.py does), then runs that SQL and hand-written variants of it
on the given size, in one DuckDB connection over the Parquet files, and prints wall and CPU seconds
(CPU = all threads of this process) of each, best of ``--repeat``. Each variant is wrapped in
``CREATE OR REPLACE TEMP TABLE`` so results stay in DuckDB and no transfer to Python is timed.

The variants isolate one cause each:

* F*, C0: hand-written references: the per-customer aggregate with a double or a DECIMAL(38, 6)
  sum, and the row checks alone;
* C1, T*: tierwise's checks and indicators: the customers check, the one scan that computes the
  row checks and the indicators per customer, the totals with the unknown customers found among
  that aggregate's keys, and the join to the customers;
* S*: measured suggestions: the row-check counts in the hand aggregate, tierwise's exact sum and
  an integer-cents sum, checks + indicators + the customer join as one statement, duplicate ids by
  counting;
* W*: writing the feature table: Arrow + pyarrow (as tierwise) or DuckDB's COPY;
* G*: grading on the feature table: tierwise's value and rfm queries, the bare rules CASE, RFM by
  ntile (three sorts), by rank() (tie-aware, sorts) and by counts per distinct value (tie-aware,
  tierwise's method, bare).

Statements this version of tierwise does not issue are listed as missing.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402
import run as bench  # noqa: E402

AS_OF = generate.END.isoformat()


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
    """Point captured SQL at this connection's tables: tx, cu, percust and feat."""
    sql = re.sub(r'"temp"\."main"\."tw_[a-z_]+_per_customer_[0-9a-f]{8}"', "percust", sql)
    sql = re.sub(r'"tw_transactions_[0-9a-f]{8}"', "tx", sql)
    sql = re.sub(r'"tw_customers_[0-9a-f]{8}"', "cu", sql)
    return re.sub(r'"temp"\."main"\."tw_features_[0-9a-f]{8}"', "feat", sql)


def find(calls: dict[str, str], scheme: str, kind: str, *marks: str) -> str | None:
    """The first captured statement of ``scheme`` and ``kind`` containing every mark, if any."""
    for key, sql in calls.items():
        if key.startswith(scheme + "_") and key.endswith(kind) and all(m in sql for m in marks):
            return local(sql)
    return None


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


def rfm_lean() -> str:
    """G5 plus what tierwise's rfm output carries: segment, rank, score, code (no next-score)."""
    cells: dict[str, tuple[int, Any]] = {
        "champions": (1, lambda r, fm: r == 5 and fm >= 4),
        "loyal_customers": (2, lambda r, fm: r in (3, 4) and fm >= 4),
        "potential_loyalists": (3, lambda r, fm: r >= 4 and fm in (2, 3)),
        "new_customers": (4, lambda r, fm: r == 5 and fm == 1),
        "promising": (5, lambda r, fm: r == 4 and fm == 1),
        "need_attention": (6, lambda r, fm: r == 3 and fm == 3),
        "about_to_sleep": (7, lambda r, fm: r == 3 and fm <= 2),
        "cant_lose_them": (8, lambda r, fm: r <= 2 and fm == 5),
        "at_risk": (9, lambda r, fm: r <= 2 and fm in (3, 4)),
        "hibernating": (10, lambda r, fm: r == 2 and fm <= 2),
        "lost": (11, lambda r, fm: r == 1 and fm <= 2),
    }
    # The 25 (r, fm) cells as a lookup table: one hash join instead of a 27-branch CASE twice.
    values = ", ".join(
        f"({r}, {fm}, '{key}', {rank})"
        for r in range(1, 6)
        for fm in range(1, 6)
        for key, (rank, holds) in cells.items()
        if holds(r, fm)
    )
    return f"""
        WITH scores AS ({rfm_counts()}),
        cells(r, fm, tier, tier_rank) AS (VALUES {values})
        SELECT s.customer_id, cells.tier, cells.tier_rank, s.r + s.f + s.m AS score,
               s.r AS r_score, s.f AS f_score, s.m AS m_score,
               s.r::VARCHAR || s.f::VARCHAR || s.m::VARCHAR AS rfm_code
        FROM scores AS s JOIN cells ON cells.r = s.r AND cells.fm = (s.f + s.m + 1) // 2
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


EXACT_SUM = (
    "CAST(sum(CAST(round(CASE WHEN isnan(amount) OR abs(amount) = 'inf'::DOUBLE THEN NULL "
    f"ELSE amount END * 1000000.0, 0) AS BIGINT)) FILTER (WHERE {SPEND_WINDOW}) AS DOUBLE) "
    "/ 1000000.0"
)
CENTS_SUM = f"sum(CAST(round(amount * 100) AS BIGINT)) FILTER (WHERE {SPEND_WINDOW}) / 100.0"
BAD = f"""count(*) AS __rows,
    count(*) FILTER (WHERE customer_id IS NULL OR order_date IS NULL OR amount IS NULL
        OR kind IS NULL OR (amount < 0 AND kind IS DISTINCT FROM 'refund')
        OR order_date > DATE '{AS_OF}') AS __bad,"""


CHEAP_FLAGS = f"""count(*) AS __rows,
    count(*) - count(customer_id) AS missing_customer_id,
    count(*) - count(order_date) AS missing_order_date,
    count(*) - count(amount) AS missing_amount,
    count(*) - count(kind) AS missing_kind,
    count(*) FILTER (WHERE amount < 0 AND kind <> 'refund') AS negative_amount,
    count(*) FILTER (WHERE order_date > DATE '{AS_OF}') AS future_event,"""


def with_flags(sql: str, flags: str = BAD) -> str:
    return sql.replace("SELECT customer_id,", f"SELECT customer_id, {flags}", 1)


def one_statement(spend: str = SUM_DOUBLE) -> str:
    """Checks, indicators and the join to the customers as one statement (no materialized step)."""
    return f"""SELECT c.customer_id, a.* EXCLUDE (customer_id)
        FROM cu AS c LEFT JOIN ({with_flags(aggregate(spend=spend))}) AS a
        ON a.customer_id = c.customer_id"""


def variants(calls: dict[str, str]) -> list[tuple[str, str, str | None, str]]:
    """(id, description, SQL or None when this tierwise version has no such statement, table)."""
    return [
        ("F1", "aggregate per customer, hand (double sum)", aggregate(), "result"),
        ("F2", "F1 with the sum over DECIMAL(38,6)", aggregate(spend=SUM_DECIMAL), "result"),
        ("C0", "transaction flags alone, one scan", f"SELECT {FLAGS} FROM tx", "result"),
        (
            "C1",
            "tierwise checks: customers (duplicate ids)",
            find(calls, "value", "execute", '"duplicate_id:'),
            "result",
        ),
        (
            "T1",
            "tierwise per-customer aggregate: checks + indicators, one scan",
            find(calls, "value", "materialize", '"__bad"'),
            "percust",
        ),
        (
            "T2",
            "tierwise check totals + unknown customers from T1's keys",
            find(calls, "value", "execute", '"__unknown"'),
            "result",
        ),
        (
            "T3",
            "tierwise features: customers LEFT JOIN T1",
            find(calls, "value", "materialize", "LEFT OUTER JOIN"),
            "result",
        ),
        ("S1", "F1 + the row-check counts (__rows, __bad)", with_flags(aggregate()), "result"),
        (
            "S1b",
            "F1 + per-check counts, nulls by count(*) - count(col)",
            with_flags(aggregate(), CHEAP_FLAGS),
            "result",
        ),
        ("S2", "F1 with tierwise's exact sum (millionths)", aggregate(spend=EXACT_SUM), "result"),
        ("S3", "F1 with an integer-cents sum", aggregate(spend=CENTS_SUM), "result"),
        (
            "S4",
            "S1 + LEFT JOIN customers in one statement (T1 + T3 fused)",
            one_statement(),
            "result",
        ),
        (
            "S5",
            "S4 with the exact (millionths) sum",
            one_statement(spend=EXACT_SUM),
            "result",
        ),
        (
            "S6",
            "duplicate customer ids by count(*) - count(DISTINCT id)",
            "SELECT count(*) - count(DISTINCT customer_id) AS duplicates, "
            "count(*) FILTER (WHERE customer_id IS NULL) AS missing FROM cu",
            "result",
        ),
        ("G1", "rules: tier CASE only, hand", RULES, "result"),
        ("G2", "tierwise value grades", find(calls, "value", "to_arrow", '"tier"'), "result"),
        ("G3", "RFM by ntile (3 sorts), hand", RFM_NTILE, "result"),
        ("G4", "RFM tie-aware by rank() (3 sorts)", RFM_RANK, "result"),
        ("G5", "RFM tie-aware by counts per value, bare", rfm_counts(), "result"),
        ("G6", "tierwise rfm grades", find(calls, "rfm", "to_arrow", '"tier"'), "result"),
        ("G7", "G5 + segment by a 25-cell lookup, score, code", rfm_lean(), "result"),
    ]


def main(argv: list[str] | None = None) -> int:
    import duckdb

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=list(generate.SIZES), required=True)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--only", help="run the variants whose id starts with this, e.g. G")
    parser.add_argument("--no-wait", action="store_true", help="do not wait for a quiet machine")
    parser.add_argument("--set", action="append", default=[], help="DuckDB setting, e.g. threads=1")
    args = parser.parse_args(argv)
    calls = capture()
    generate.generate(args.size, quiet=True)
    folder = generate.size_dir(args.size)
    bench.warm(folder)
    con = duckdb.connect()
    for setting in args.set:
        key, value = setting.split("=", 1)
        con.execute(f"SET {key} = '{value}'")
    con.execute(f"CREATE VIEW tx AS SELECT * FROM read_parquet('{folder}/transactions.parquet')")
    con.execute(f"CREATE VIEW cu AS SELECT * FROM read_parquet('{folder}/customers.parquet')")
    con.execute(
        f"""CREATE TEMP TABLE feat AS
            SELECT c.customer_id, DATE '{AS_OF}' - a.last_order AS days_since_last_order,
                   coalesce(a.orders_12m, 0) AS orders_12m, coalesce(a.spend_12m, 0) AS spend_12m,
                   coalesce(a.orders_6m, 0) AS orders_6m
            FROM cu AS c LEFT JOIN ({aggregate()}) AS a ON a.customer_id = c.customer_id"""
    )
    extra = f"; settings {', '.join(args.set)}" if args.set else ""
    print(f"{args.size}: best of {args.repeat}; wall s, CPU s (both threads){extra}")
    for ident, text, sql, table in variants(calls):
        if args.only and not ident.startswith(args.only) and table != "percust":
            continue
        if sql is None:
            print(f"  {ident:3s}       -       -  {text}: no such statement in this version")
            continue
        best: tuple[float, float] | None = None
        for _ in range(args.repeat):
            if not args.no_wait:
                bench.wait_quiet(limit=300)
            clock, cpu = time.perf_counter(), time.process_time()
            con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {sql}")
            took = (time.perf_counter() - clock, time.process_time() - cpu)
            best = took if best is None or took[0] < best[0] else best
        assert best is not None
        print(f"  {ident:3s} {best[0]:7.2f} {best[1]:7.2f}  {text}", flush=True)
    if not args.only or args.only.startswith("W"):
        writes(con, folder, repeat=args.repeat, wait=not args.no_wait)
    return 0


def writes(con: Any, folder: Path, *, repeat: int, wait: bool) -> None:
    """The feature table to Parquet: fetched to Arrow and written by pyarrow (tierwise), or COPY."""
    import pyarrow.parquet as pq

    out = folder / "micro"
    out.mkdir(exist_ok=True)

    def arrow() -> None:
        pq.write_table(con.execute("SELECT * FROM feat").to_arrow_table(), out / "a.parquet")

    def copy() -> None:
        con.execute(f"COPY feat TO '{out / 'b.parquet'}' (FORMAT parquet)")

    for ident, text, work in (
        ("W1", "feature table: fetch to Arrow + pyarrow write_table", arrow),
        ("W2", "feature table: DuckDB COPY TO parquet", copy),
    ):
        best: tuple[float, float] | None = None
        for _ in range(repeat):
            if wait:
                bench.wait_quiet(limit=300)
            clock, cpu = time.perf_counter(), time.process_time()
            work()
            took = (time.perf_counter() - clock, time.process_time() - cpu)
            best = took if best is None or took[0] < best[0] else best
        assert best is not None
        print(f"  {ident:3s} {best[0]:7.2f} {best[1]:7.2f}  {text}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
