"""Time the store at scale: a 24-month backfill, history lookups, run summaries, size on disk.

    python benchmarks/store.py --size 100M --head     # 10M customers x 24 monthly runs
    python benchmarks/store.py --size 10M --runs 3    # a quick check (1M customers)
    python benchmarks/store.py --size 100M --reuse    # keep a complete earlier backfill

``--head`` measures HEAD's ``src/`` exported with ``git archive`` (put first on ``PYTHONPATH``),
so concurrent edits of the work tree do not leak into the figures; without it the work tree is
measured, as ``run.py`` does.

docs/architecture.md section 5 asks for a per-customer history lookup under 50 ms and a run summary under
200 ms at 10M customers x 24 runs. The script works in its own project folder,
``benchmarks/data/<size>/store-bench/`` (``tierwise.yaml`` pointing at the size's Parquet files,
with ``output/`` and the SQLite store ``.tierwise/store.db`` inside it), so it never touches the
other benchmarks' outputs. ``TIERWISE_STORE_URL`` is removed from the environment of every child.

1. **Backfill** (a child process): the ``value`` scheme (the retail rules) for the ``--runs``
   month-ends ending on the last generated date, in one ``services.runs.backfill`` call, the
   product path (it shares one scan of the transactions among a batch of dates, and merges the
   history's change files every few runs). Each run is timed from the service's progress calls:
   its wall time and phases (features, grading, writing, merging the history), CPU, the CPU other
   processes used meanwhile, and its peak RSS (``VmHWM``, reset at each run). The call starts once
   the cores have been idle for 2 s; when other processes used more than 10% of its CPU time it is
   run again from scratch (``--retries``). With ``--per-run`` each date is its own ``backfill``
   call instead (no shared scan), and a contended run is run again with ``force``. Without
   ``--reuse`` the folder's store and output are deleted first; with it, dates already in the
   history are kept (their figures come from the previous results file, else from the store).
2. **Lookups** (a fresh child process): opening the store; the cold first ``history.history``
   call; ``--lookups`` random customers (seeded) through ``history`` and through ``tier_on`` for a
   date in the middle of the history; what one lookup is made of; the same lookup on the files a
   history reads just before a merge, and on the per-run change files alone (no merge);
   ``summary`` of the latest run, ``--summaries`` times. Correctness: for 20 customers and 3 runs
   (first, middle, last), ``tier_on(as_of)`` must equal the tier in that run's ``grades.parquet``.
3. **Cold path** (three fresh processes): each import and the first call, timed apart.
4. **CLI**: ``tierwise history ID -s value -p FOLDER`` as a subprocess (median of 5), beside the
   bare interpreter start, ``import tierwise.cli.main`` and the modules the command imports.
5. **Size**: the SQLite file, the run folders of the history by file kind, the merged history.

Prints a table with the ratios to the targets and writes ``benchmarks/results/store-<size>.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402
from run import (  # noqa: E402
    RESULTS,
    RETRIES,
    TEMPLATE,
    as_of_of,
    code_state,
    cpu_busy,
    fmt_table,
    wait_quiet,
)

SCHEME = "value"
TARGET_HISTORY_MS = 50.0
TARGET_SUMMARY_MS = 200.0
STORE_ENV = "TIERWISE_STORE_URL"
VENV_BIN = Path(sys.executable).parent


# --------------------------------------------------------------------------------------- setup


def export_head() -> tuple[Path, str]:
    """HEAD's ``src/`` exported to ``benchmarks/data/.src-<commit>/`` (uncommitted edits left out)."""
    root = HERE.parent
    commit = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True, check=True).stdout.strip()
    dest = generate.DATA / f".src-{commit}"
    if not (dest / "src" / "tierwise").exists():
        dest.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(root), "archive", "HEAD", "src"],
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest / "src", commit


def bench_dir(size: str) -> Path:
    return generate.size_dir(size) / "store-bench"


def write_project(size: str) -> Path:
    """The benchmark project in ``data/<size>/store-bench/``, reading the size's Parquet files."""
    folder = bench_dir(size)
    folder.mkdir(parents=True, exist_ok=True)
    text = TEMPLATE.read_text(encoding="utf-8")
    text = text.replace("../data/1M/output", "output").replace("../data/1M/", "../")
    text = re.sub(r"(?m)^as_of: .*$", f"as_of: {as_of_of(generate.size_dir(size))}", text)
    (folder / "tierwise.yaml").write_text(text, encoding="utf-8")
    return folder


def month_ends(end: date, count: int) -> list[date]:
    """The ``count`` month-ends ending with ``end``'s month (``backfill_dates``' own rule)."""
    from dateutil.relativedelta import relativedelta

    from tierwise.services.runs import backfill_dates

    start = (end - relativedelta(months=count - 1)).replace(day=1)
    dates = backfill_dates(start, end, "month")
    assert len(dates) == count, dates
    return dates


def pct(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) by the nearest-rank rule."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def stats_ms(seconds: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {"n": len(ms), "median": statistics.median(ms), "p95": pct(ms, 0.95),
            "max": max(ms), "min": min(ms), "mean": statistics.fmean(ms)}


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop(STORE_ENV, None)
    return env


def cpu_self() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mib(reset: bool = False) -> float:
    """This process's peak RSS since the last reset (``VmHWM``); ``reset`` starts a new peak."""
    peak = 0.0
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmHWM"):
                peak = int(line.split()[1]) / 1024
    if reset:
        try:
            with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
                handle.write("5")
        except OSError:
            pass
    return peak


# ---------------------------------------------------------------------------------- 1. backfill


def _history(store: Any) -> list[Any]:
    from tierwise.errors import TierwiseError
    from tierwise.store import runs as store_runs

    with store.connect() as conn:
        try:
            return store_runs.history_runs(conn, SCHEME)
        except TierwiseError:  # the scheme is not in the store yet
            return []


def _changes_rows(folder: str | Path) -> int:
    import pyarrow.parquet as pq

    return pq.read_metadata(Path(folder) / "changes.parquet").num_rows


PHASES = (("loading", "features"), ("grading", "grade"), ("writing", "write"),
          ("compacting", "merge_history"))


class Recorder:
    """The service's progress calls, with the time, the machine's and own CPU, and peak RSS."""

    def __init__(self) -> None:
        self.events: list[tuple[float, str, float, float, float]] = []

    def __call__(self, message: str) -> None:
        peak = peak_rss_mib(reset=message.startswith("as of "))
        self.events.append((time.perf_counter(), message, cpu_busy(), cpu_self(), peak))

    def runs(self, end: tuple[float, float, float, float]) -> list[dict[str, Any]]:
        """Per run (from one "as of" call to the next): wall, phases, CPU, other CPU, peak."""
        starts = [i for i, e in enumerate(self.events) if e[1].startswith("as of ")]
        out = []
        for n, i in enumerate(starts):
            j = starts[n + 1] if n + 1 < len(starts) else None
            stop = self.events[j][:1] + self.events[j][2:4] if j is not None else end[:3]
            peak = self.events[j][4] if j is not None else end[3]
            t0, msg, busy0, cpu0, _ = self.events[i]
            phases: dict[str, float] = {}
            inner = self.events[i + 1:j] if j is not None else self.events[i + 1:]
            marks = [*((e[0], e[1]) for e in inner), (stop[0], "")]
            for (at, what), (nxt, _) in pairwise(marks):
                for prefix, name in PHASES:
                    if what.startswith(prefix):
                        phases[name] = phases.get(name, 0.0) + nxt - at
            if marks:
                phases["start"] = marks[0][0] - t0
            cpu = stop[2] - cpu0
            out.append({"as_of": msg.removeprefix("as of "), "wall": stop[0] - t0, "cpu": cpu,
                        "other_cpu": max(0.0, stop[1] - busy0 - cpu), "phases": phases,
                        "peak_mib": peak})
        return out


def child_backfill(size: str, dates: list[date], per_run: bool) -> dict[str, Any]:
    """Backfill the dates not yet in the history: one ``backfill`` call, or one per date."""
    from tierwise.services import runs
    from tierwise.services.grading import Project

    folder = bench_dir(size)
    project = Project.open(folder)
    store = runs.open_store(project)
    have = {r.as_of for r in _history(store)}
    store.close()
    todo = [d for d in dates if d not in have]
    measured: list[dict[str, Any]] = []
    if not todo:
        return {"measured": measured}
    if per_run:
        for day in todo:
            for attempt in range(RETRIES + 1):
                row = _timed_backfill(project, [day], force=attempt > 0)
                contended = row["other_cpu"] > 0.1 * row["cpu"] + 1.0
                r = row["runs"][-1]
                print(f"  {day}: run {r['run_id']}, {row['wall']:6.2f} s wall, "
                      f"{row['cpu']:6.2f} s CPU, {r['changes']:>10,} changes; other processes "
                      f"{row['other_cpu']:.1f} CPU s"
                      + ("; contended, run again" if contended and attempt < RETRIES else ""),
                      file=sys.stderr, flush=True)
                if not contended or attempt == RETRIES:
                    measured.append({**r, "attempt": attempt + 1, "waited": row["waited"]})
                    break
        return {"measured": measured, "mode": "per-run"}
    row = _timed_backfill(project, todo, force=False)
    for r in row["runs"]:
        print(f"  {r['as_of']}: run {r['run_id']}, {r['wall']:6.2f} s wall, {r['cpu']:6.2f} s "
              f"CPU, {r['changes']:>10,} changes, peak {r['peak_mib']:,.0f} MiB; other "
              f"processes {r['other_cpu']:.1f} CPU s", file=sys.stderr, flush=True)
    return {"measured": row["runs"], "mode": "one call", "call": {
        k: v for k, v in row.items() if k != "runs"}}


def _timed_backfill(project: Any, days: list[date], *, force: bool) -> dict[str, Any]:
    from tierwise.services import runs

    waited = wait_quiet()
    record = Recorder()
    peak_rss_mib(reset=True)
    busy, cpu0 = cpu_busy(), cpu_self()
    clock = time.perf_counter()
    outcomes = runs.backfill(project, [SCHEME], days, force=force, progress=record)
    end = (time.perf_counter(), cpu_busy(), cpu_self(), peak_rss_mib())
    wall, cpu = end[0] - clock, end[2] - cpu0
    done = [o for o in outcomes if o.status == "done"]
    per_run = record.runs(end)
    by_day = {o.as_of.isoformat(): o for o in done}
    for r in per_run:
        o = by_day[r["as_of"]]
        r.update({"run_id": o.run.id, "timings": o.timings, "customers": o.run.customers,
                  "changes": _changes_rows(o.folder), "folder": str(o.folder),
                  "reused": False})
    return {"wall": wall, "cpu": cpu, "other_cpu": max(0.0, end[1] - busy - cpu),
            "waited": waited, "runs": per_run}


def backfill_rows(size: str, dates: list[date], measured: list[dict[str, Any]]
                  ) -> list[dict[str, Any]]:
    """One row per history run: measured now, else from the previous results, else the store."""
    from tierwise.services import runs
    from tierwise.services.grading import Project

    previous: dict[int, dict[str, Any]] = {}
    old = RESULTS / f"store-{size}.json"
    if old.exists():
        for row in json.loads(old.read_text(encoding="utf-8")).get("backfill", {}).get("runs", []):
            previous[int(row["run_id"])] = {**row, "reused": True}
    now = {int(r["run_id"]): r for r in measured}
    store = runs.open_store(Project.open(bench_dir(size)))
    history = _history(store)
    store.close()
    got = [r.as_of for r in history]
    if got != dates:
        raise SystemExit(f"the history holds {[str(d) for d in got]}, expected "
                         f"{[str(d) for d in dates]}; run without --reuse")
    rows = []
    for r in history:
        if r.id in now:
            rows.append(now[r.id])
        elif r.id in previous:
            rows.append(previous[r.id])
        else:  # only the run's own record: finished - started, no CPU or contention figures
            rows.append({"as_of": r.as_of.isoformat(), "run_id": r.id,
                         "wall": (r.finished_at - r.started_at).total_seconds(), "cpu": None,
                         "other_cpu": None, "phases": {}, "peak_mib": None,
                         "timings": r.timings, "customers": r.customers,
                         "changes": _changes_rows(r.folder), "folder": r.folder,
                         "reused": True, "from_store_record": True})
    return rows


# ----------------------------------------------------------------------------------- 2. lookups


def child_measure(size: str, dates: list[date], lookups: int, summaries: int, seed: int
                  ) -> dict[str, Any]:
    """History, tier_on and summary timings in a fresh process, plus the correctness check."""
    import random

    clock = time.perf_counter()
    import pyarrow.parquet as pq

    import tierwise
    from tierwise import engine as tw_engine
    from tierwise.indicators import CUSTOMER
    from tierwise.services import history as hs
    from tierwise.services import runs
    from tierwise.services.grading import Project
    from tierwise.store import runs as store_runs

    result: dict[str, Any] = {"import_s": time.perf_counter() - clock,
                              "tierwise_from": str(Path(tierwise.__file__).parent)}
    project = Project.open(bench_dir(size))

    ids_all = pq.read_table(generate.size_dir(size) / "customers.parquet",
                            columns=[CUSTOMER])[CUSTOMER]
    rng = random.Random(seed)
    picks = rng.sample(range(len(ids_all)), lookups + 1)
    ids = [ids_all[i].as_py() for i in picks]
    cold_id, ids = ids[0], ids[1:]
    del ids_all

    clock = time.perf_counter()
    store = runs.open_store(project)
    result["store_open_s"] = time.perf_counter() - clock
    clock = time.perf_counter()
    cold = hs.history(store, SCHEME, cold_id)
    result["history_cold_s"] = time.perf_counter() - clock
    result["history_cold_spells"] = len(cold)

    def timed(fn: Any, args_list: list[tuple]) -> tuple[list[float], list[Any], dict[str, float]]:
        waited = wait_quiet()
        busy, cpu0 = cpu_busy(), cpu_self()
        walls, outs = [], []
        for args in args_list:
            begin = time.perf_counter()
            outs.append(fn(*args))
            walls.append(time.perf_counter() - begin)
        cpu = cpu_self() - cpu0
        other = max(0.0, cpu_busy() - busy - cpu)
        return walls, outs, {"waited": waited, "cpu": cpu, "other_cpu": other,
                             "wall": sum(walls)}

    walls, spells, load = timed(hs.history, [(store, SCHEME, i) for i in ids])
    counts = [len(s) for s in spells]
    result["history"] = {**stats_ms(walls), "load": load, "walls_ms": [w * 1000 for w in walls],
                         "cpu_ms_per_call": load["cpu"] * 1000 / len(ids),
                         "spells_mean": statistics.fmean(counts), "spells_max": max(counts),
                         "no_history": sum(1 for c in counts if c == 0)}

    middle = date.fromordinal(dates[len(dates) // 2].toordinal() + 15)
    walls, found, load = timed(hs.tier_on, [(store, SCHEME, i, middle) for i in ids])
    result["tier_on"] = {**stats_ms(walls), "load": load, "walls_ms": [w * 1000 for w in walls],
                         "day": middle.isoformat(),
                         "graded": sum(1 for f in found if f is not None)}

    # What one lookup is made of, on the same customers, and the files it would read at other
    # points of the merge cycle.
    latest = hs.latest_run(store, SCHEME)
    with store.connect() as conn:
        history_runs = store_runs.history_runs(conn, SCHEME)
    per_run_files = [str(Path(r.folder) / "changes.parquet") for r in history_runs]
    parts: dict[str, list[float]] = {}

    def store_part() -> None:
        with store.connect() as conn:
            store_runs.history_runs(conn, SCHEME)

    parts["store query (history_runs)"], _, _ = timed(store_part, [()] * len(ids))
    try:
        from tierwise.services.history_files import COMPACT_AFTER, history_files
    except ImportError:  # before the merged history files
        history_files, COMPACT_AFTER = None, 0
    lookup = getattr(tw_engine, "lookup_parquet", None)
    files = history_files(history_runs) if history_files else per_run_files
    result["history_files"] = {"read_by_history": len(files), "merge_every": COMPACT_AFTER,
                               "files": [Path(f).name for f in files]}
    if history_files:
        parts["history_files (index.json)"], _, _ = timed(history_files,
                                                          [(history_runs,)] * len(ids))
    if lookup is not None:
        parts[f"lookup_parquet, {len(files)} file(s) as read"], _, _ = timed(
            lookup, [(files, CUSTOMER, i) for i in ids])
        merged = [f for f in files if Path(f).name.startswith("history-")]
        if merged and COMPACT_AFTER > 1:
            worst = merged + per_run_files[-(COMPACT_AFTER - 1):]
            name = f"lookup_parquet, merged + {COMPACT_AFTER - 1} run files (before a merge)"
            parts[name], _, _ = timed(lookup, [(worst, CUSTOMER, i) for i in ids])
        parts[f"lookup_parquet, {len(per_run_files)} run files (no merge)"], _, _ = timed(
            lookup, [(per_run_files, CUSTOMER, i) for i in ids])
    result["history_parts"] = {k: stats_ms(v) for k, v in parts.items()}

    # Correctness: tier_on(as_of) against the run's grades.parquet, 20 customers x 3 runs.
    runs_by_date = {r.as_of: r for r in history_runs}
    check_runs = [runs_by_date[d] for d in sorted({dates[0], dates[len(dates) // 2], dates[-1]})]
    sample = ids[:20]
    mismatches = []
    compared = 0
    for run in check_runs:
        grades = pq.read_table(Path(run.folder) / "grades.parquet", columns=[CUSTOMER, "tier"],
                               filters=[(CUSTOMER, "in", sample)])
        truth = dict(zip(grades[CUSTOMER].to_pylist(), grades["tier"].to_pylist(), strict=True))
        for cid in sample:
            spell = hs.tier_on(store, SCHEME, cid, run.as_of)
            got = spell.tier if spell else None
            compared += 1
            if got != truth.get(cid):
                mismatches.append({"customer": cid, "run_id": run.id,
                                   "as_of": run.as_of.isoformat(), "tier_on": got,
                                   "grades": truth.get(cid)})
    result["check"] = {"compared": compared, "runs": [r.id for r in check_runs],
                       "customers": len(sample), "mismatches": mismatches}
    store.close()

    # Run summary: a fresh store object, the latest run.
    store = runs.open_store(project)
    clock = time.perf_counter()
    first = hs.summary(store, latest.id)
    result["summary_cold_s"] = time.perf_counter() - clock
    walls, _, load = timed(hs.summary, [(store, latest.id)] * summaries)
    result["summary"] = {**stats_ms(walls), "load": load, "run_id": latest.id,
                         "tiers": {t.tier: t.customers for t in first.tiers}}
    store.close()
    result["sample_ids"] = ids
    return result


def child_cold(size: str, customer: str) -> dict[str, Any]:
    """The cold path of one lookup, step by step, in the order a fresh ``tierwise history`` takes.

    The imports the first ``history()`` call triggers (DuckDB, pyarrow, and pandas, which
    DuckDB's Python client imports on the first query with parameters) are timed on their own
    before it, so the first call is left with the lookup itself. ``loaded_by_first_call`` names
    the packages the call still imported.
    """
    out: dict[str, Any] = {}

    def lap(name: str, fn: Any) -> Any:
        clock = time.perf_counter()
        value = fn()
        out[name] = time.perf_counter() - clock
        return value

    lap("import tierwise.cli.main", lambda: __import__("tierwise.cli.main"))
    lap("import services.history, services.runs",
        lambda: (__import__("tierwise.services.history"), __import__("tierwise.services.runs")))
    from tierwise.services import history as hs
    from tierwise.services import runs
    from tierwise.services.grading import Project

    project = lap("Project.open", lambda: Project.open(bench_dir(size)))
    store = lap("open_store (Alembic check)", lambda: runs.open_store(project))
    lap("import duckdb", lambda: __import__("duckdb"))
    lap("import pyarrow", lambda: __import__("pyarrow"))
    lap("import pandas (DuckDB query parameters)", lambda: __import__("pandas"))
    before = {m.split(".")[0] for m in sys.modules}
    lap("first history() call, imports done", lambda: hs.history(store, SCHEME, customer))
    lap("second history() call", lambda: hs.history(store, SCHEME, customer))
    store.close()
    return {"steps": out,
            "loaded_by_first_call": sorted({m.split(".")[0] for m in sys.modules} - before)}


# --------------------------------------------------------------------------------------- 3. CLI


def time_command(cmd: list[str], repeat: int) -> dict[str, Any]:
    """Median wall of ``repeat`` runs of ``cmd``, each once the cores are idle."""
    walls, others = [], []
    out = b""
    for _ in range(repeat):
        wait_quiet()
        busy = cpu_busy()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        clock = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=child_env())
        out, err = proc.communicate()
        wall = time.perf_counter() - clock
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode:
            raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {err.decode()[-2000:]}")
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        walls.append(wall)
        others.append(max(0.0, cpu_busy() - busy - cpu))
    return {"median_s": statistics.median(walls), "min_s": min(walls), "walls": walls,
            "other_cpu_s_max": max(others), "stdout_tail": out.decode()[-800:]}


# -------------------------------------------------------------------------------------- 4. size


def tree_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def sizes(size: str, history: list[dict[str, Any]]) -> dict[str, Any]:
    folder = bench_dir(size)
    store_files = {p.name: p.stat().st_size for p in (folder / ".tierwise").glob("store.db*")}
    kinds: dict[str, int] = {"grades": 0, "features": 0, "changes": 0, "other": 0}
    wanted = {str(Path(r["folder"])) for r in history}
    outside = 0
    for run_dir in sorted((folder / "output" / SCHEME / "runs").iterdir()):
        if str(run_dir) not in wanted:
            outside += tree_bytes(run_dir)
            continue
        for path in run_dir.rglob("*"):
            if path.is_file():
                kind = path.name.split(".")[0]
                kinds[kind if kind in kinds else "other"] += path.stat().st_size
    merged = folder / "output" / SCHEME / "history"
    merged_bytes = tree_bytes(merged) if merged.exists() else 0
    runs_total = sum(kinds.values())
    return {"sqlite_bytes": sum(store_files.values()), "sqlite_files": store_files,
            "history_runs_bytes": kinds, "history_runs_total": runs_total,
            "per_run_mean_bytes": runs_total / max(1, len(history)),
            "merged_history_bytes": merged_bytes,
            "other_run_folders_bytes": outside,
            "total_bytes": sum(store_files.values()) + runs_total + merged_bytes + outside}


# ------------------------------------------------------------------------------------- report


def mib(n: float) -> str:
    return f"{n / 2**20:,.1f}"


def machine() -> dict[str, Any]:
    import platform

    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    versions = {}
    for mod in ("duckdb", "pyarrow", "ibis", "sqlalchemy"):
        try:
            versions[mod] = __import__(mod).__version__
        except Exception:
            versions[mod] = None
    return {"cores": os.cpu_count(), "cpu": model, "memory_gib": round(mem, 1),
            "kernel": platform.release(), "python": platform.python_version(), **versions}


def report(res: dict[str, Any]) -> None:
    bf = res["backfill"]
    m = res["measure"]
    h, t, s = m["history"], m["tier_on"], m["summary"]
    cli = res["cli"]
    size = res["size_on_disk"]
    hist = f"{TARGET_HISTORY_MS:.0f}"
    summ = f"{TARGET_SUMMARY_MS:.0f}"
    rows = [
        ["backfill: runs (mode)", f"{bf['count']} ({bf['mode']})", "", ""],
        ["backfill: total s", f"{bf['total_s']:.1f}", "", ""],
        ["backfill: mean / max s per run", f"{bf['mean_s']:.2f} / {bf['max_s']:.2f}", "", ""],
        ["backfill: peak RSS MiB (max of runs)",
         f"{bf['peak_mib']:,.0f}" if bf["peak_mib"] else "-", "", ""],
        ["backfill: changes rows (all runs)", f"{bf['changes_total']:,}", "", ""],
        [f"history ms ({m['history_files']['read_by_history']} file(s)): median",
         f"{h['median']:.1f}", hist, f"{h['median'] / TARGET_HISTORY_MS:.2f}"],
        ["history ms: p95", f"{h['p95']:.1f}", hist, f"{h['p95'] / TARGET_HISTORY_MS:.2f}"],
        ["history ms: max", f"{h['max']:.1f}", hist, f"{h['max'] / TARGET_HISTORY_MS:.2f}"],
        ["history: CPU ms per call", f"{h['cpu_ms_per_call']:.1f}", "", ""],
        ["history ms: cold first call (in process)", f"{m['history_cold_s'] * 1000:.1f}", hist,
         f"{m['history_cold_s'] * 1000 / TARGET_HISTORY_MS:.2f}"],
        [f"tier_on ms ({t['day']}): median / p95", f"{t['median']:.1f} / {t['p95']:.1f}", hist,
         f"{t['p95'] / TARGET_HISTORY_MS:.2f}"],
        ["summary ms: median / p95", f"{s['median']:.2f} / {s['p95']:.2f}", summ,
         f"{s['p95'] / TARGET_SUMMARY_MS:.3f}"],
        ["summary ms: cold first call", f"{m['summary_cold_s'] * 1000:.1f}", summ,
         f"{m['summary_cold_s'] * 1000 / TARGET_SUMMARY_MS:.3f}"],
        ["store open (Alembic check) ms", f"{m['store_open_s'] * 1000:.0f}", "", ""],
        [f"CLI history s (median of {len(cli['history']['walls'])})",
         f"{cli['history']['median_s']:.2f}", "", ""],
        ["  bare python start s", f"{cli['python_bare']['median_s']:.2f}", "", ""],
        ["  python + import tierwise.cli.main s", f"{cli['import_cli']['median_s']:.2f}", "", ""],
        ["  + services.history, runs imports s", f"{cli['import_history']['median_s']:.2f}", "",
         ""],
        ["SQLite store MiB", mib(size["sqlite_bytes"]), "", ""],
        ["run folders MiB: grades", mib(size["history_runs_bytes"]["grades"]), "", ""],
        ["run folders MiB: features", mib(size["history_runs_bytes"]["features"]), "", ""],
        ["run folders MiB: changes", mib(size["history_runs_bytes"]["changes"]), "", ""],
        ["run folders MiB: total", mib(size["history_runs_total"]), "", ""],
        ["merged history MiB", mib(size["merged_history_bytes"]), "", ""],
        ["on disk MiB: total", mib(size["total_bytes"]), "", ""],
    ]
    print()
    print(fmt_table(rows, ["figure", "value", "target", "ratio"]))
    print("\nthe cold path of one lookup in a fresh process (median of 3, ms):")
    for name, sec in m["cold_path"].items():
        print(f"  {name:45s} {sec * 1000:8.1f}")
    print(f"  (imported by the first call itself: {', '.join(m['cold_loaded']) or 'nothing'})")
    print("\none warm history lookup, in parts (median / p95 ms):")
    for name, p in m["history_parts"].items():
        print(f"  {name:60s} {p['median']:7.2f} / {p['p95']:7.2f}")
    if bf.get("call"):
        c = bf["call"]
        print(f"\nthe backfill call: {c['wall']:.1f} s wall, {c['cpu']:.1f} s CPU, other "
              f"processes {c['other_cpu']:.1f} CPU s")
    steps = ["start", *(name for _, name in PHASES)]
    print("\nper run (s): as_of, run, wall, CPU, " + ", ".join(steps)
          + ", peak MiB, changes, other CPU s")
    for r in bf["runs"]:
        ph = r.get("phases") or {}
        cpu = f"{r['cpu']:.1f}" if r.get("cpu") is not None else "-"
        peak = f"{r['peak_mib']:,.0f}" if r.get("peak_mib") else "-"
        other = f"{r['other_cpu']:.1f}" if r.get("other_cpu") is not None else "-"
        print(f"  {r['as_of']}  {r['run_id']:>3}  {r['wall']:6.2f}  {cpu:>6}  "
              + "  ".join(f"{ph.get(k, 0.0):6.2f}" for k in steps)
              + f"  {peak:>6}  {r['changes']:>10,}  {other:>5}"
              + ("  (reused)" if r.get("reused") else ""))
    check = m["check"]
    print(f"\ncheck: tier_on(as_of) vs grades.parquet for {check['customers']} customers x "
          f"{len(check['runs'])} runs ({check['compared']} comparisons): "
          f"{len(check['mismatches'])} mismatches")
    for miss in check["mismatches"][:10]:
        print(f"  MISMATCH {miss}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=list(generate.SIZES), required=True,
                        help="transactions (customers are a tenth)")
    parser.add_argument("--runs", type=int, default=24, help="month-ends to backfill")
    parser.add_argument("--reuse", action="store_true",
                        help="keep the runs already in the store (backfill only missing dates)")
    parser.add_argument("--per-run", action="store_true",
                        help="one backfill call per date (no shared scan), contended runs redone")
    parser.add_argument("--retries", type=int, default=1,
                        help="times a contended one-call backfill is run again from scratch")
    parser.add_argument("--lookups", type=int, default=200, help="random customers looked up")
    parser.add_argument("--summaries", type=int, default=50, help="summary calls timed")
    parser.add_argument("--cli-repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20261130)
    parser.add_argument("--head", action="store_true",
                        help="measure HEAD's src/ (exported with git archive), not the work tree")
    parser.add_argument("--child", choices=["backfill", "measure", "cold"], help=argparse.SUPPRESS)
    parser.add_argument("--customer", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.pop(STORE_ENV, None)
    code = None
    if args.head and not args.child:
        src, commit = export_head()
        os.environ["PYTHONPATH"] = os.pathsep.join(
            [str(src), *filter(None, [os.environ.get("PYTHONPATH")])])
        sys.path.insert(0, str(src))
        code = f"{commit} (HEAD's src/ exported; uncommitted edits not measured)"

    if not generate.exists(args.size):
        raise SystemExit(f"no data for {args.size}: run benchmarks/generate.py --transactions "
                         f"{args.size} (or benchmarks/run.py) first")
    end = date.fromisoformat(as_of_of(generate.size_dir(args.size)))
    dates = month_ends(end, args.runs)

    if args.child == "backfill":
        print(json.dumps(child_backfill(args.size, dates, args.per_run), default=str))
        return 0
    if args.child == "cold":
        print(json.dumps(child_cold(args.size, args.customer)))
        return 0
    if args.child == "measure":
        print(json.dumps(child_measure(args.size, dates, args.lookups, args.summaries,
                                       args.seed), default=str))
        return 0

    folder = bench_dir(args.size)

    def wipe() -> None:
        for sub in ("output", ".tierwise"):
            shutil.rmtree(folder / sub, ignore_errors=True)

    if not args.reuse:
        wipe()
    write_project(args.size)
    code = code or code_state()
    import tierwise

    print(f"project: {folder}; {args.runs} month-ends {dates[0]} .. {dates[-1]}; "
          f"tierwise {code} from {Path(tierwise.__file__).parent}", flush=True)

    def spawn(kind: str, *extra: str) -> tuple[dict[str, Any], dict[str, float]]:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--size", args.size,
               "--runs", str(args.runs), "--lookups", str(args.lookups),
               "--summaries", str(args.summaries), "--seed", str(args.seed), "--child", kind,
               *(["--per-run"] if args.per_run else []), *extra]
        clock = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=child_env())
        assert proc.stdout is not None
        output = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        if os.waitstatus_to_exitcode(status):
            raise SystemExit(f"child {kind} failed ({os.waitstatus_to_exitcode(status)})")
        facts = {"wall": time.perf_counter() - clock, "cpu": usage.ru_utime + usage.ru_stime,
                 "peak_mib": usage.ru_maxrss / 1024}
        return json.loads(output.strip().splitlines()[-1]), facts

    discarded = []
    for attempt in range(args.retries + 1):
        print("backfill:", flush=True)
        done, facts = spawn("backfill")
        call = done.get("call")
        contended = bool(call) and call["other_cpu"] > 0.1 * call["cpu"] + 1.0
        fresh = not args.reuse or len(done["measured"]) == len(dates)
        if contended and fresh and attempt < args.retries:
            print(f"  contended: other processes used {call['other_cpu']:.1f} CPU s during the "
                  f"backfill's {call['cpu']:.1f}; run again from scratch", flush=True)
            discarded.append(call)
            wipe()
            continue
        break
    rows = backfill_rows(args.size, dates, done["measured"])
    walls = [float(r["wall"]) for r in rows]
    peaks = [float(r["peak_mib"]) for r in rows if r.get("peak_mib")]
    backfill = {
        "mode": done.get("mode", "reused"), "count": len(rows),
        # the whole call when it ran every date (store opening, batching included)
        "total_s": call["wall"] if call and len(done["measured"]) == len(rows) else sum(walls),
        "runs_sum_s": sum(walls),
        "mean_s": statistics.fmean(walls), "max_s": max(walls),
        "median_s": statistics.median(walls),
        "changes_total": sum(int(r["changes"]) for r in rows),
        "measured_now": len(done["measured"]), "call": call, "discarded": discarded,
        "child_wall_s": facts["wall"], "child_cpu_s": facts["cpu"],
        "child_peak_mib": facts["peak_mib"], "peak_mib": max(peaks) if peaks else None,
        "runs": rows,
    }
    old = RESULTS / f"store-{args.size}.json"
    if not done["measured"] and old.exists():  # all reused: keep the measured call's figures
        before = json.loads(old.read_text(encoding="utf-8"))
        same = [r["run_id"] for r in before["backfill"]["runs"]] == [r["run_id"] for r in rows]
        if same:
            backfill = {**before["backfill"], "reused_from": before.get("measured_at"),
                        "reused_code": before.get("code")}
    phases: dict[str, float] = {}
    for r in rows:
        for k, v in (r.get("phases") or {}).items():
            phases[k] = phases.get(k, 0.0) + float(v)
    backfill["phases_total_s"] = phases

    print("measuring lookups and summaries ...", flush=True)
    measure, mfacts = spawn("measure")
    measure["child"] = mfacts
    ids = measure.pop("sample_ids")
    cold = []
    for cid in ids[:3]:
        wait_quiet()
        cold.append(spawn("cold", "--customer", cid)[0])
    measure["cold_path"] = {k: statistics.median(c["steps"][k] for c in cold)
                            for k in cold[0]["steps"]}
    measure["cold_loaded"] = sorted({m for c in cold for m in c["loaded_by_first_call"]})

    print("timing the CLI ...", flush=True)
    py = sys.executable
    cli = {
        "history": time_command([str(VENV_BIN / "tierwise"), "history", ids[0], "-s", SCHEME,
                                 "-p", str(folder)], args.cli_repeat),
        "import_cli": time_command([py, "-c", "import tierwise.cli.main"], args.cli_repeat),
        "import_history": time_command(
            [py, "-c", "import tierwise.cli.main, tierwise.services.history, "
             "tierwise.services.runs"], args.cli_repeat),
        "python_bare": time_command([py, "-c", "pass"], args.cli_repeat),
        "customer": ids[0],
    }

    res = {
        "size": args.size, "customers": generate.SIZES[args.size] // 10, "runs": args.runs,
        "dates": [d.isoformat() for d in dates], "code": code,
        "measured_at": datetime.now().isoformat(timespec="seconds"), "machine": machine(),
        "targets_ms": {"history": TARGET_HISTORY_MS, "summary": TARGET_SUMMARY_MS},
        "backfill": backfill, "measure": measure, "cli": cli,
        "size_on_disk": sizes(args.size, rows),
    }
    report(res)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"store-{args.size}.json"
    out.write_text(json.dumps(res, indent=2, default=str), encoding="utf-8")
    print(f"\nwritten: {out}")
    return 1 if measure["check"]["mismatches"] else 0


if __name__ == "__main__":
    sys.exit(main())
