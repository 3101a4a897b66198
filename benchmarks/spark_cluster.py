"""Time the benchmark project on a standalone Spark cluster beside DuckDB, and compare grades.

    python benchmarks/spark_cluster.py --size 100M [--repeat N] [--master spark://host:7077]

Without ``--master`` a master and one worker (all cores, ``--worker-memory``) are started on
this machine from the installed pyspark (``scripts/spark_cluster.py``) and stopped at the end.
Each round runs, each in a fresh Python process and paired in the same round:

* ``tierwise``: ``run_schemes(project, ["value", "rfm"])`` on the embedded DuckDB, as
  ``benchmarks/run.py`` runs it;
* ``tierwise-spark``: the same project with ``engine: {kind: spark, master: ...}``: the driver
  in the child process, the executors in the worker's JVM.

Wall time is what is compared; the child's CPU time leaves out the executors (other processes),
so the machine's busy CPU over the run is printed too. Then the two outputs are compared
customer by customer: indicators (floats within 1e-9 relative), value tiers, R/F/M scores and
segments must be equal.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402
import run  # noqa: E402

CLUSTER = HERE.parent / "scripts" / "spark_cluster.py"
SCHEMES = run.SCHEMES


def write_spark_project(size: str, master: str, executor_memory: str) -> Path:
    """``<size>/spark/tierwise.yaml``: the benchmark project on the cluster, its own output."""
    folder = run.write_variant(size, "spark", "\n", "")
    text = (folder / "tierwise.yaml").read_text(encoding="utf-8")
    engine = (f'engine:\n  kind: spark\n  master: "{master}"\n  config:\n'
              f"    spark.executor.memory: {executor_memory}\n"
              "    spark.driver.memory: 4g\n    spark.sql.shuffle.partitions: 16\n")
    text = re.sub(r"(?m)^output: .*$", "output: output", text)
    (folder / "tierwise.yaml").write_text(engine + text, encoding="utf-8")
    return folder


def child_spark(folder: Path) -> dict[str, object]:
    """The benchmark's tierwise child on the Spark project in ``folder / 'spark'``."""
    return run.child_tierwise(folder / "spark")


def spawn(tool: str, size: str) -> dict[str, object]:
    """One tool in a fresh process (``run.spawn``), with the machine's CPU over its run: the
    executors work in the worker's JVM, which ``run.spawn`` counts as other processes."""
    res = run.spawn(tool, size, script=Path(__file__))
    res["machine_cpu"] = float(res["cpu"]) + float(res["other_cpu"])  # type: ignore[arg-type]
    return res


def compare(folder: Path, as_of: str) -> dict[str, int]:
    """Customers whose indicators, value tier or RFM grade differ between the two outputs."""
    import duckdb

    con = duckdb.connect()
    found = {}
    for scheme, columns in (("value", ["tier"]), ("rfm", ["tier", "r", "f", "m"])):
        for kind, cols in (("grades", columns), ("features", None)):
            a = folder / "output" / scheme / as_of / f"{kind}.parquet"
            b = folder / "spark" / "output" / scheme / as_of / f"{kind}.parquet"
            con.execute(f"CREATE OR REPLACE VIEW a AS SELECT * FROM read_parquet('{a}')")
            con.execute(f"CREATE OR REPLACE VIEW b AS SELECT * FROM read_parquet('{b}')")
            names = cols or [r[0] for r in con.execute("DESCRIBE a").fetchall()
                             if r[0] != "customer_id"]
            kinds = dict(con.execute("SELECT column_name, column_type FROM "
                                     "(DESCRIBE a)").fetchall())
            tests = [
                f"NOT (abs(a.{c} - b.{c}) <= 1e-9 * greatest(abs(a.{c}), abs(b.{c})) + 1e-12 "
                f"OR (a.{c} IS NULL AND b.{c} IS NULL))" if kinds[c] in ("DOUBLE", "FLOAT")
                else f"a.{c} IS DISTINCT FROM b.{c}" for c in names if c in kinds]
            sql = (f"SELECT count(*) FROM a FULL JOIN b USING (customer_id) "
                   f"WHERE a.customer_id IS NULL OR b.customer_id IS NULL OR {' OR '.join(tests)}")
            found[f"{scheme} {kind}"] = int(con.execute(sql).fetchone()[0])  # type: ignore[index]
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=list(generate.SIZES), required=True)
    parser.add_argument("--repeat", type=int, default=1, help="paired rounds (median reported)")
    parser.add_argument("--master", help="a running master; default: start one here")
    parser.add_argument("--worker-memory", default="12g", help="memory of the started worker")
    parser.add_argument("--executor-memory", default="10g")
    parser.add_argument("--child", choices=["tierwise", "tierwise-spark"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    folder = generate.size_dir(args.size)
    if args.child:
        child = run.child_tierwise if args.child == "tierwise" else child_spark
        print(json.dumps(child(folder)))
        return 0

    generate.generate(args.size)
    run.write_project(args.size)
    as_of = run.as_of_of(folder)
    run.warm(folder)
    cluster_dir = folder / "spark-cluster"
    master = args.master
    if master is None:
        master = subprocess.run(
            [sys.executable, str(CLUSTER), "start", str(cluster_dir), "--cores",
             str(os.cpu_count() or 2), "--memory", args.worker_memory],
            check=True, capture_output=True, text=True).stdout.strip()
    write_spark_project(args.size, master, args.executor_memory)
    print(f"data: {folder}, as of {as_of}, {os.cpu_count()} cores; master {master}")
    print(f"tierwise code: {run.code_state()}")
    results: dict[str, list[dict[str, object]]] = {"tierwise": [], "tierwise-spark": []}
    try:
        for round_ in range(args.repeat):
            for tool in results:
                res = spawn(tool, args.size)
                results[tool].append(res)
                print(f"round {round_ + 1} {tool:15s}: {res['wall']:7.2f} s wall, child CPU "
                      f"{res['cpu']:7.2f} s, machine CPU {res['machine_cpu']:7.2f} s, child "
                      f"peak {res['peak_mib']:6.0f} MiB", flush=True)
    finally:
        if args.master is None:
            subprocess.run([sys.executable, str(CLUSTER), "stop", str(cluster_dir)], check=False)
    wall = {t: statistics.median(float(r["wall"]) for r in rs)  # type: ignore[arg-type]
            for t, rs in results.items()}
    print(f"\nmedian wall: DuckDB {wall['tierwise']:.2f} s, Spark cluster "
          f"{wall['tierwise-spark']:.2f} s ({wall['tierwise-spark'] / wall['tierwise']:.2f}x)")
    steps = results["tierwise-spark"][-1]["report"]
    print("Spark steps (s):", json.dumps(steps))
    differ = compare(folder, as_of)
    print("customers differing (Spark against DuckDB):", differ)
    out = run.RESULTS / f"{args.size}-spark-cluster.json"
    out.write_text(json.dumps({"master": master, "results": results, "differ": differ},
                              indent=1, default=str), encoding="utf-8")
    return 0 if not any(differ.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
