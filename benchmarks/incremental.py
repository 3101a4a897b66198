"""Re-grading from kept state against a full run and the tie-aware hand query.

    python benchmarks/incremental.py --size 100M --repeat 2

Uses the data of ``benchmarks/generate.py`` (generated when missing) and lays out, under
``benchmarks/data/<size>/incremental/``:

* ``tx/part-0.parquet``: a link to the generated transactions (up to the as-of date ``D``);
* ``tx/part-1.parquet``: 1% of those rows again, dated ``D + 1`` (the day's new orders);
* ``inc/``: the benchmark project with ``incremental: true``; ``cold/``: the same without.

First ``build`` grades ``value`` and ``rfm`` as of ``D`` with only ``part-0`` present, which reads
everything and keeps the state (timed once). Then ``part-1`` is added and each round, one after
another in fresh processes (odd rounds in this order, even rounds in the reverse, so that a
machine whose speed drifts favours no run; the ratios are also given round by round):

* ``regrade``: the incremental project as of ``D + 1`` from the state of ``D`` (restored before
  each round), reading the state, the new file and the rows that left a window;
* ``cold``: the project without state, as of ``D + 1``: reads all 101% of the rows;
* ``files-only``: the four files the ``cold`` round wrote, read into memory and written again
  as a run writes them; only the writes are timed. No re-grade that writes every customer's
  grades and indicators can take less;
* ``hand-tied``: benchmarks/hand.sql with tie-aware quintiles, as of ``D + 1`` over both files.

Then every customer's indicators, value tier and RFM scores, segment and code of ``regrade`` are
compared with ``cold``'s: the count that differs must be 0. Wall time, CPU and peak RSS are the
child process's (``os.wait4``); rounds wait for a quiet machine, as in ``run.py``.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402
import run  # noqa: E402

SCHEMES = ("value", "rfm")


def layout(size: str) -> Path:
    """The incremental folder for ``size`` (made on first use); returns it."""
    if not generate.exists(size):  # in a child process too (see below)
        subprocess.run([sys.executable, str(HERE / "generate.py"), "--transactions", size],
                       check=True)
    data = generate.size_dir(size)
    base = data / "incremental"
    day = date.fromisoformat(run.as_of_of(data))
    (base / "tx").mkdir(parents=True, exist_ok=True)
    part0 = base / "tx" / "part-0.parquet"
    if not part0.exists():
        part0.symlink_to(data / "transactions.parquet")
    new = base / "new-day.parquet"
    if not new.exists():
        # In a child process: a child's peak RSS counts its parent's memory at the fork, so
        # the parent must not have held 100M rows when the timed children start.
        sql = f"""
            COPY (SELECT customer_id, DATE '{day + timedelta(days=1)}' AS order_date, amount, kind
                  FROM read_parquet('{data / "transactions.parquet"}')
                  USING SAMPLE 1 PERCENT (bernoulli, 42))
            TO '{new}' (FORMAT parquet)"""
        subprocess.run([sys.executable, "-c", f"import duckdb; duckdb.sql({sql!r})"], check=True)
    text = (HERE / "project" / "tierwise.yaml").read_text(encoding="utf-8")
    text = text.replace("../data/1M/customers.parquet", "../../customers.parquet")
    text = text.replace("../data/1M/transactions.parquet", "../tx\n    format: parquet")
    text = text.replace("../data/1M/output", "output")
    for name, incremental in (("inc", True), ("cold", False)):
        (base / name).mkdir(exist_ok=True)
        body = re.sub(r"(?m)^output: .*$", f"output: output\nincremental: {str(incremental).lower()}",
                      text)
        (base / name / "tierwise.yaml").write_text(body, encoding="utf-8")
    (base / "as_of").write_text(day.isoformat(), encoding="utf-8")
    return base


def child(tool: str, size: str) -> dict[str, Any]:
    base = generate.size_dir(size) / "incremental"
    day = date.fromisoformat((base / "as_of").read_text(encoding="utf-8"))
    if tool == "hand-tied":
        import duckdb

        out = base / "hand-tied.parquet"
        sql = run.hand_sql(tied=True).format(
            transactions=base / "tx" / "*.parquet", customers=base.parent / "customers.parquet",
            as_of=day + timedelta(days=1), output=out)
        clock = time.perf_counter()
        con = duckdb.connect()
        con.execute(sql)
        con.close()
        return {"query": time.perf_counter() - clock}
    if tool == "files-only":
        return files_only(base, day + timedelta(days=1))
    clock = time.perf_counter()
    from tierwise.services import grading

    result: dict[str, Any] = {"import": time.perf_counter() - clock}
    folder = base / ("cold" if tool == "cold" else "inc")
    project = grading.Project.open(folder)
    when = day if tool == "build" else day + timedelta(days=1)
    start = time.perf_counter()
    for done in grading.run_schemes(project, list(SCHEMES), as_of=when):
        result[done.scheme] = dict(done.timings)
    result["service"] = time.perf_counter() - start
    result["notes"] = list(done.quality.state.values())
    return result


def files_only(base: Path, day: date) -> dict[str, Any]:
    """The time to write the cold run's four files from tables already in memory.

    The files of the last ``cold`` round are read into DuckDB tables, then written again
    through the engine as a run writes them (the label columns from their fixed lists). That
    is what any run costs that writes every customer's grades and indicators, with nothing
    read, computed or checked: the least a re-grade can take while each run folder holds
    complete files.
    """
    import tempfile

    from tierwise.engine import connect
    from tierwise.services.grading import Project
    from tierwise.services.resolved import ResolvedScheme
    from tierwise.services.run_files import closed_columns

    spec = Project.open(base / "cold").spec
    engine = connect()
    timed: dict[str, float] = {}
    # Beside the runs' output, on the same disk.
    with tempfile.TemporaryDirectory(prefix="files-only-", dir=base) as tmp:
        for scheme in SCHEMES:
            # The columns a run writes from their lists, as the pipeline names them.
            closed = closed_columns(ResolvedScheme.of(scheme, spec.schemes[scheme]))
            for kind in ("grades", "features"):
                path = base / "cold" / "output" / scheme / day.isoformat() / f"{kind}.parquet"
                table = engine.materialize(kind, engine.read_parquet(kind, path))
                clock = time.perf_counter()
                engine.write_parquet(table, Path(tmp) / f"{scheme}-{kind}.parquet",
                                     closed=closed if kind == "grades" else None)
                timed[f"{scheme} {kind}"] = time.perf_counter() - clock
    engine.close()
    return {"files": timed, "writes": sum(timed.values())}


def compare(base: Path, day: date) -> dict[str, int]:
    """Customers whose indicators or grades differ between ``regrade`` and ``cold``."""
    import duckdb

    out: dict[str, int] = {}
    for scheme in SCHEMES:
        for kind in ("features", "grades"):
            a = base / "inc" / "output" / scheme / day.isoformat() / f"{kind}.parquet"
            b = base / "cold" / "output" / scheme / day.isoformat() / f"{kind}.parquet"
            cols = [c for c, *_ in duckdb.sql(f"DESCRIBE SELECT * FROM '{b}'").fetchall()]
            keep = [c for c in cols if c not in ("customer_id",)]
            differ = " OR ".join(f"a.{c} IS DISTINCT FROM b.{c}" for c in keep)
            n = duckdb.sql(f"""
                SELECT count(*) FROM '{a}' a FULL JOIN '{b}' b USING (customer_id)
                WHERE a.customer_id IS NULL OR b.customer_id IS NULL OR {differ}""").fetchone()
            total = duckdb.sql(f"SELECT count(*) FROM '{b}'").fetchone()
            assert n is not None and total is not None
            out[f"{scheme} {kind} differing"] = int(n[0])
            out[f"{scheme} customers"] = int(total[0])
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1M", choices=list(generate.SIZES))
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--child")
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.size), default=str))
        return 0
    base = layout(args.size)
    day = date.fromisoformat((base / "as_of").read_text(encoding="utf-8"))
    script = Path(__file__)
    part1 = base / "tx" / "part-1.parquet"
    part1.unlink(missing_ok=True)
    shutil.rmtree(base / "inc" / "output", ignore_errors=True)
    run.warm(base.parent)
    built = run.spawn("build", args.size, script=script)
    print(f"build (as of {day}, state kept): {built['wall']:.2f} s, peak {built['peak_mib']:,.0f}"
          f" MiB; {built['report']['notes']}")
    saved = base / "state-saved"
    shutil.rmtree(saved, ignore_errors=True)
    shutil.copytree(base / "inc" / "output" / ".state", saved)
    part1.symlink_to(base / "new-day.parquet")
    rounds: dict[str, list[dict[str, Any]]] = {
        "regrade": [], "cold": [], "files-only": [], "hand-tied": []}
    for i in range(args.repeat):
        for tool in run.in_turn(list(rounds), i):
            if tool == "regrade":
                shutil.rmtree(base / "inc" / "output" / ".state")
                shutil.copytree(saved, base / "inc" / "output" / ".state")
            res = run.spawn(tool, args.size, script=script)
            rounds[tool].append(res)
            print(f"round {i + 1} {tool}: {res['wall']:.2f} s wall, {res['cpu']:.1f} CPU s, "
                  f"peak {res['peak_mib']:,.0f} MiB, other CPU {res['other_cpu']:.1f} s"
                  + (f"; {res['report'].get('notes')}" if tool == "regrade" else "")
                  + (f"; writes {res['report']['writes']:.2f} s" if tool == "files-only"
                     else ""))
    wall = {t: statistics.median(r["wall"] for r in rs) for t, rs in rounds.items()}
    # Only the writes count: reading the files into memory is no part of a run.
    wall["files-only"] = statistics.median(r["report"]["writes"] for r in rounds["files-only"])
    peak = {t: max(r["peak_mib"] for r in rs) for t, rs in rounds.items()}
    checks = compare(base, day + timedelta(days=1))  # after the timed children: see layout()
    print(f"\nmedians of {args.repeat} round(s) at {args.size}:")
    for tool in rounds:
        print(f"  {tool:10s} {wall[tool]:7.2f} s  peak {peak[tool]:7,.0f} MiB")
    print(f"  regrade / cold       = {wall['regrade'] / wall['cold']:.3f} (target <= 0.15)")
    print(f"  regrade / hand-tied  = {wall['regrade'] / wall['hand-tied']:.3f} (target <= 0.25)")
    print(f"  cold / hand-tied     = {wall['cold'] / wall['hand-tied']:.3f} (target <= 1.2)")
    print(f"  files only / cold    = {wall['files-only'] / wall['cold']:.3f} (writing a run's "
          f"four files from memory: no re-grade that writes complete files takes less)")
    for a, b in (("regrade", "cold"), ("regrade", "hand-tied"), ("cold", "hand-tied")):
        by_round = run.paired(rounds[a], rounds[b])
        print(f"  {a} / {b} by round = {', '.join(f'{r:.3f}' for r in by_round)}; median "
              f"{statistics.median(by_round):.3f}")
    for key, value in checks.items():
        print(f"  {key}: {value:,}")
    steps = {t: rounds[t][-1]["report"] for t in ("regrade", "cold")}
    print("  steps (last round):", json.dumps(steps, default=str))
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    (results / f"incremental-{args.size}.json").write_text(json.dumps(
        {"code": run.code_state(), "build": built, "rounds": rounds, "checks": checks},
        indent=1, default=str), encoding="utf-8")
    return 1 if any(v for k, v in checks.items() if "differing" in k) else 0


if __name__ == "__main__":
    raise SystemExit(main())
