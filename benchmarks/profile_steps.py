"""Where tierwise spends its time: every engine call of a run, timed, with its SQL.

    python benchmarks/profile_steps.py --size 10M [--scheme value] [--explain]

Runs ``tierwise.services.grading.run`` for the schemes (default: value and rfm) with the engine
adapter's ``execute``, ``to_arrow``, ``materialize`` and ``write_parquet`` wrapped to time each call, prints one line
per call (seconds, kind, the query's first words) and writes each call's SQL to
``benchmarks/data/<size>/sql/<scheme>_<nn>_<kind>.sql``. With ``--explain``, each statement is
first run once under ``EXPLAIN (ANALYZE, FORMAT json)`` on the same connection, the plan saved
beside it (``.plan.json``) and its five most expensive operators printed (operator time is summed
over threads); the timed call then runs the statement again.
Nothing in src/ is changed: the wrapping is done on the class at run time, in this process only.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402
import run as bench  # noqa: E402


def top_operators(plan: dict[str, Any], count: int = 5) -> list[str]:
    """The operators with the most time (summed over threads) in an EXPLAIN ANALYZE JSON plan."""
    found: list[tuple[float, str]] = []

    def walk(node: dict[str, Any]) -> None:
        seconds = float(node.get("operator_timing", 0.0))
        info = json.dumps(node.get("extra_info", {}), ensure_ascii=False)
        info = " ".join(info.split())[:110]
        rows = node.get("operator_cardinality", 0)
        found.append(
            (
                seconds,
                f"{seconds:6.2f} s  {node.get('operator_name', '?'):15s} {rows:>11,} rows  {info}",
            )
        )
        for child in node.get("children", []):
            walk(child)

    walk(plan)
    found.sort(reverse=True)
    total = sum(s for s, _ in found)
    return [f"plan: {total:.2f} s over all operators, top:"] + [t for _, t in found[:count]]


def explain_hand(folder: Path) -> None:
    """The hand query's plan with operator timings (its COPY's SELECT, as CREATE TABLE AS)."""
    import duckdb

    sql = bench.HAND_SQL.read_text(encoding="utf-8").format(
        transactions=folder / "transactions.parquet",
        customers=folder / "customers.parquet",
        as_of=bench.as_of_of(folder),
        output=folder / "hand" / "explained.parquet",
    )
    bench.wait_quiet()
    con = duckdb.connect()
    plan = con.execute(f"EXPLAIN (ANALYZE, FORMAT json) {sql}").fetchall()
    (folder / "sql").mkdir(exist_ok=True)
    (folder / "sql" / "hand.plan.json").write_text(plan[0][1], encoding="utf-8")
    data = json.loads(plan[0][1])
    print(
        f"hand query: {data.get('latency', 0.0):.2f} s wall, {data.get('cpu_time', 0.0):.2f} s CPU"
    )
    for line in top_operators(data, count=8):
        print(f"  {line}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=list(generate.SIZES), required=True)
    parser.add_argument("--scheme", action="append", choices=bench.SCHEMES)
    parser.add_argument("--explain", action="store_true", help="save EXPLAIN ANALYZE plans")
    parser.add_argument(
        "--hand", action="store_true", help="instead, EXPLAIN ANALYZE the hand-written query"
    )
    parser.add_argument(
        "--recorded", action="store_true",
        help="profile the recorded run (tierwise run: store, change files) in a new store",
    )
    args = parser.parse_args(argv)
    generate.generate(args.size, quiet=True)
    folder = bench.write_project(args.size)
    bench.warm(folder)
    sql_dir = folder / "sql"
    sql_dir.mkdir(exist_ok=True)
    for old in sql_dir.glob("*"):
        old.unlink()

    if args.hand:
        explain_hand(folder)
        return 0

    from tierwise.engine import Engine
    from tierwise.services.grading import Project, run

    calls: list[tuple[str, str, float, float, str]] = []
    tops: dict[str, list[str]] = {}
    current = {"scheme": ""}

    def wrap(kind: str) -> None:
        original = getattr(Engine, kind)

        def timed(self: Engine, *a: object, **kw: object) -> object:
            expr = a[-1] if kind == "materialize" else a[0]
            sql = self.sql(expr)  # type: ignore[arg-type]
            if args.explain and self.kind == "duckdb" and kind != "write_parquet":
                plan = self.backend.con.execute(f"EXPLAIN (ANALYZE, FORMAT json) {sql}").fetchall()
                name = f"{current['scheme']}_{len(calls):02d}_{kind}"
                (sql_dir / f"{name}.plan.json").write_text(plan[0][1], encoding="utf-8")
                tops[name] = top_operators(json.loads(plan[0][1]))
            clock, cpu = time.perf_counter(), time.process_time()
            out = original(self, *a, **kw)
            seconds = time.perf_counter() - clock
            calls.append((current["scheme"], kind, seconds, time.process_time() - cpu, sql))
            (sql_dir / f"{current['scheme']}_{len(calls) - 1:02d}_{kind}.sql").write_text(
                sql + "\n", encoding="utf-8"
            )
            return out

        setattr(Engine, kind, timed)

    for kind in ("execute", "to_arrow", "materialize", "write_parquet"):
        wrap(kind)

    project = Project.open(folder)
    store = None
    if args.recorded:
        import os
        import tempfile

        from tierwise.services import runs

        store = tempfile.TemporaryDirectory(prefix="tw-store-")
        os.environ["TIERWISE_STORE_URL"] = f"sqlite:///{store.name}/store.db"

    def grade(scheme: str) -> Any:
        if not args.recorded:
            return run(project, scheme)
        return runs.run(project, [scheme], force=True, actor="benchmark")[0]

    for scheme in args.scheme or bench.SCHEMES:
        current["scheme"] = scheme
        waited = bench.wait_quiet()
        busy = bench.cpu_busy()
        clock, cpu = time.perf_counter(), time.process_time()
        result = grade(scheme)
        total, total_cpu = time.perf_counter() - clock, time.process_time() - cpu
        other = bench.cpu_busy() - busy - total_cpu
        print(
            f"\n{scheme}: {total:.2f} s wall, {total_cpu:.2f} s CPU (other processes {other:.1f} "
            f"CPU s; waited {waited:.0f} s for a quiet machine); steps "
            + ", ".join(f"{k} {v:.2f}" for k, v in result.timings.items())
        )
        engine_s = engine_cpu = 0.0
        for i, (sch, kind, seconds, cpu_s, sql) in enumerate(calls):
            if sch != scheme:
                continue
            engine_s += seconds
            engine_cpu += cpu_s
            head = " ".join(sql.split())[:80]
            print(f"  {i:02d} {seconds:6.2f} s {cpu_s:6.2f} CPU s  {kind:11s} {head}")
            for line in tops.get(f"{scheme}_{i:02d}_{kind}", []):
                print(f"        {line}")
        print(f"  engine calls: {engine_s:.2f} s ({engine_cpu:.2f} CPU s) of {total:.2f} s")
    print(f"\nSQL written to {sql_dir}")
    if store is not None:
        store.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
