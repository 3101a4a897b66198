"""Where tierwise spends its time: every engine call of a run, timed, with its SQL.

    python benchmarks/profile.py --size 10M [--scheme value] [--explain]

Runs ``tierwise.services.grading.run`` for the schemes (default: value and rfm) with the engine
adapter's ``execute``, ``to_arrow`` and ``materialize`` wrapped to time each call, prints one line
per call (seconds, kind, the query's first words) and writes each call's SQL to
``benchmarks/data/<size>/sql/<scheme>_<nn>_<kind>.sql``. With ``--explain``, each statement is
also run once more under ``EXPLAIN ANALYZE`` and the plan saved beside it (``.plan.txt``), from a
fresh connection with the same inputs registered, so the plans show the operators' timings.
Nothing in src/ is changed: the wrapping is done on the class at run time, in this process only.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402
import run as bench  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=list(generate.SIZES), required=True)
    parser.add_argument("--scheme", action="append", choices=bench.SCHEMES)
    parser.add_argument("--explain", action="store_true", help="save EXPLAIN ANALYZE plans")
    args = parser.parse_args(argv)
    generate.generate(args.size, quiet=True)
    folder = bench.write_project(args.size)
    bench.warm(folder)
    sql_dir = folder / "sql"
    sql_dir.mkdir(exist_ok=True)
    for old in sql_dir.glob("*"):
        old.unlink()

    from tierwise.engine import Engine
    from tierwise.services.grading import Project, run

    calls: list[tuple[str, str, float, float, str]] = []
    current = {"scheme": ""}

    def wrap(kind: str) -> None:
        original = getattr(Engine, kind)

        def timed(self: Engine, *a: object, **kw: object) -> object:
            expr = a[-1] if kind == "materialize" else a[0]
            sql = self.sql(expr)  # type: ignore[arg-type]
            if args.explain and self.kind == "duckdb":
                plan = self.backend.con.execute(f"EXPLAIN ANALYZE {sql}").fetchall()
                text = "\n".join(str(row[-1]) for row in plan)
                name = f"{current['scheme']}_{len(calls):02d}_{kind}.plan.txt"
                (sql_dir / name).write_text(text, encoding="utf-8")
            clock, cpu = time.perf_counter(), time.process_time()
            out = original(self, *a, **kw)
            seconds = time.perf_counter() - clock
            calls.append((current["scheme"], kind, seconds, time.process_time() - cpu, sql))
            (sql_dir / f"{current['scheme']}_{len(calls) - 1:02d}_{kind}.sql").write_text(
                sql + "\n", encoding="utf-8"
            )
            return out

        setattr(Engine, kind, timed)

    for kind in ("execute", "to_arrow", "materialize"):
        wrap(kind)

    project = Project.open(folder)
    for scheme in args.scheme or bench.SCHEMES:
        current["scheme"] = scheme
        waited = bench.wait_quiet()
        busy = bench.cpu_busy()
        clock, cpu = time.perf_counter(), time.process_time()
        result = run(project, scheme)
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
        print(f"  engine calls: {engine_s:.2f} s ({engine_cpu:.2f} CPU s) of {total:.2f} s")
    print(f"\nSQL written to {sql_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
