"""Time tierwise against the hand-written DuckDB query on the generated data.

    python benchmarks/run.py --size 1M            # or 10M, 100M; --repeat N for N rounds

Generates the data when missing (benchmarks/generate.py), writes the project for the size into
``benchmarks/data/<size>/tierwise.yaml``, then runs, each in a fresh Python process:

* ``hand``: benchmarks/hand.sql through the duckdb module (one query, written to Parquet);
* ``tierwise``: ``tierwise.services.grading.run_schemes(project, ["value", "rfm"])``, the product
  path of ``tierwise run value rfm`` (read and check the sources once, indicators once, grade
  both schemes, rule analysis, write);
* ``hand-tied`` (with ``--tied``): the same query with tie-aware quintiles,
  ``1 + floor(5 * (rank() - 1) / N)`` instead of ``ntile(5)``: what a user writes by hand to get
  tierwise's RFM scores (ntile splits tied values, so the plain hand query does not compute the
  same result);
* ``tierwise-separate`` (with ``--separate``): one ``grading.run`` call per scheme.
* ``tierwise-recorded`` (with ``--recorded``): ``tierwise run value rfm`` as the CLI does it,
  recorded in a fresh store (a first run: every customer enters the history), so the figure
  includes saving the versions, the change files and the run rows.

Wall time, CPU time and peak RSS are those of the child process (``os.wait4``), so interpreter
start-up and imports are included. The files are read once before timing so every round reads
from the page cache. The machine may be shared: each child starts when the cores have been idle
for two seconds, and a round during which other processes used more than 10% of the child's CPU
time is run again (up to three times). Odd rounds run the tools in the order above, even rounds
in the reverse, so a machine whose speed drifts over minutes favours none; the tierwise /
hand-tied ratio is also printed round by round (each round's pair timed minutes apart at most).

Then the outputs are compared: indicator values and value tiers must be identical per customer;
tierwise's R/F/M scores must equal the tie-aware rule ``1 + floor(5 * below / N)`` recomputed with
``rank()``; the hand query's ntile() scores differ where a quintile boundary splits tied values,
and the script counts those customers (and, from the second run on, how many of the hand query's
own scores changed since its previous run). Results are also written to ``benchmarks/results/<size>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402

TEMPLATE = HERE / "project" / "tierwise.yaml"
HAND_SQL = HERE / "hand.sql"
RESULTS = HERE / "results"
SCHEMES = ("value", "rfm")
RETRIES = 3  # a round during which other processes used the CPU is run again, up to this often


# --------------------------------------------------------------------------------------- setup


def as_of_of(folder: Path) -> str:
    """The last generated date (from the Parquet statistics: instant)."""
    import duckdb

    path = folder / "transactions.parquet"
    return str(duckdb.sql(f"SELECT max(order_date) FROM read_parquet('{path}')").fetchone()[0])


def write_project(size: str) -> Path:
    """The benchmark project for ``size``: the template with local paths and the as-of date."""
    folder = generate.size_dir(size)
    text = TEMPLATE.read_text(encoding="utf-8")
    text = text.replace("../data/1M/output", "output").replace("../data/1M/", "")
    text = re.sub(r"(?m)^as_of: .*$", f"as_of: {as_of_of(folder)}", text)
    (folder / "tierwise.yaml").write_text(text, encoding="utf-8")
    return folder


def write_variant(size: str, name: str, indicators: str, schemes: str) -> Path:
    """A copy of the benchmark project in ``<size>/<name>/`` with more indicators and schemes.

    ``indicators`` and ``schemes`` are YAML lines (indented two spaces) added to the sections.
    """
    base = write_project(size)
    text = (base / "tierwise.yaml").read_text(encoding="utf-8")
    text = text.replace("path: customers.parquet", "path: ../customers.parquet")
    text = text.replace("path: transactions.parquet", "path: ../transactions.parquet")
    text = re.sub(r"(?m)^indicators:\n", "indicators:" + indicators, text, count=1)
    text = text.rstrip("\n") + "\n" + schemes
    folder = base / name
    folder.mkdir(exist_ok=True)
    (folder / "tierwise.yaml").write_text(text, encoding="utf-8")
    return folder


def code_state() -> str:
    """The tierwise code measured: commit, plus a digest of uncommitted changes under src/."""
    import hashlib

    root = HERE.parent

    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True)
        return done.stdout

    commit = git("rev-parse", "--short", "HEAD").strip() or "unknown"
    diff = git("diff", "HEAD", "--", "src") + git(
        "ls-files", "--others", "--exclude-standard", "src"
    )
    if not diff:
        return commit
    return f"{commit} + uncommitted src changes {hashlib.sha1(diff.encode()).hexdigest()[:10]}"


def warm(folder: Path) -> None:
    """Read the data files once so every timed run starts from the page cache."""
    for path in folder.glob("*.parquet"):
        with path.open("rb") as handle:
            while handle.read(1 << 24):
                pass


# ---------------------------------------------------------------------------------- machine load


def cpu_busy() -> float:
    """Seconds of busy CPU time of the whole machine since boot, all cores (from /proc/stat)."""
    with open("/proc/stat", encoding="ascii") as handle:
        fields = [int(x) for x in handle.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def wait_quiet(*, limit: float = 900.0, busy_share: float = 0.1) -> float:
    """Wait until the machine is idle (other work here shares the 2 cores); returns seconds waited.

    Idle means under ``busy_share`` of all cores busy over two consecutive one-second samples.
    Gives up after ``limit`` seconds: the contention is then visible in the run's "other CPU".
    """
    start = time.perf_counter()
    cores = os.cpu_count() or 1
    calm = 0
    while time.perf_counter() - start < limit:
        before = cpu_busy()
        time.sleep(1.0)
        calm = calm + 1 if (cpu_busy() - before) / cores < busy_share else 0
        if calm >= 2:
            break
    return time.perf_counter() - start


# -------------------------------------------------------------------------------------- children


# ntile(5) splits runs of equal values between two scores; the tie-aware score gives every
# customer 1 + floor(5 * below / N), with below = rank() - 1 customers strictly worse.
NTILE = [
    "ntile(5) OVER (ORDER BY days_since_last_order DESC NULLS FIRST) AS r_score",
    "ntile(5) OVER (ORDER BY orders_12m) AS f_score",
    "ntile(5) OVER (ORDER BY spend_12m) AS m_score",
]
TIED = [
    "1 + (5 * (rank() OVER (ORDER BY days_since_last_order DESC NULLS FIRST) - 1))"
    " // count(*) OVER () AS r_score",
    "1 + (5 * (rank() OVER (ORDER BY orders_12m) - 1)) // count(*) OVER () AS f_score",
    "1 + (5 * (rank() OVER (ORDER BY spend_12m) - 1)) // count(*) OVER () AS m_score",
]


def hand_sql(*, tied: bool = False) -> str:
    """hand.sql, or with ``tied`` its tie-aware variant (each ntile() replaced by rank())."""
    sql = HAND_SQL.read_text(encoding="utf-8")
    if tied:
        for old, new in zip(NTILE, TIED, strict=True):
            assert old in sql, f"hand.sql no longer holds {old!r}"
            sql = sql.replace(old, new)
    return sql


def child_hand(folder: Path, *, tied: bool = False) -> dict[str, object]:
    import duckdb

    out = folder / ("hand-tied" if tied else "hand") / "grades.parquet"
    out.parent.mkdir(exist_ok=True)
    if out.exists():  # kept to show that ntile's tie-break changes from run to run
        out.replace(out.with_name("previous.parquet"))
    sql = hand_sql(tied=tied).format(
        transactions=folder / "transactions.parquet",
        customers=folder / "customers.parquet",
        as_of=as_of_of(folder),
        output=out,
    )
    clock = time.perf_counter()
    con = duckdb.connect()
    con.execute(sql)
    con.close()
    return {"query": time.perf_counter() - clock}


def child_tierwise(folder: Path, *, separate: bool = False) -> dict[str, object]:
    """Both schemes through the grading service: one ``run_schemes`` call (one read, one check,
    one feature table, as ``tierwise run value rfm`` does), or with ``separate`` one ``run`` per
    scheme (the sources read and checked once per scheme)."""
    clock = time.perf_counter()
    from tierwise.services import grading

    result: dict[str, object] = {"import": time.perf_counter() - clock}
    project = grading.Project.open(folder)
    start = time.perf_counter()
    if separate or not hasattr(grading, "run_schemes"):
        for scheme in SCHEMES:
            begin = time.perf_counter()
            done = grading.run(project, scheme)
            result[scheme] = {**done.timings, "total": time.perf_counter() - begin}
    else:
        for done in grading.run_schemes(project, list(SCHEMES)):
            result[done.scheme] = dict(done.timings)
    result["service"] = time.perf_counter() - start
    return result


def child_recorded(folder: Path) -> dict[str, object]:
    """Both schemes as ``tierwise run value rfm`` runs them: recorded in an empty store."""
    import tempfile

    clock = time.perf_counter()
    from tierwise.services import grading, runs

    result: dict[str, object] = {"import": time.perf_counter() - clock}
    project = grading.Project.open(folder)
    with tempfile.TemporaryDirectory(prefix="tw-store-") as tmp:
        os.environ["TIERWISE_STORE_URL"] = f"sqlite:///{tmp}/store.db"
        start = time.perf_counter()
        for done in runs.run(project, list(SCHEMES), force=True, actor="benchmark"):
            result[done.scheme] = dict(done.timings)
        result["service"] = time.perf_counter() - start
    return result


TOOLS = {
    "hand": lambda folder: child_hand(folder),
    "hand-tied": lambda folder: child_hand(folder, tied=True),
    "tierwise": lambda folder: child_tierwise(folder),
    "tierwise-separate": lambda folder: child_tierwise(folder, separate=True),
    "tierwise-recorded": lambda folder: child_recorded(folder),
}


def spawn(tool: str, size: str, *, script: Path | None = None) -> dict[str, object]:
    """Run one tool in a fresh process; its wall time, peak RSS and reported timings.

    ``script`` is the benchmark whose ``--child`` runs the tool (this one by default); it
    prints its report as JSON on the last line.
    """
    target = script or Path(__file__)
    cmd = [sys.executable, str(target.resolve()), "--size", size, "--child", tool]
    waited = wait_quiet()
    busy = cpu_busy()
    clock = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - clock
    cpu = usage.ru_utime + usage.ru_stime
    other = max(0.0, cpu_busy() - busy - cpu)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{tool} failed with exit code {proc.returncode}")
    report = json.loads(output.strip().splitlines()[-1])
    return {
        "wall": wall,
        "cpu": cpu,
        "other_cpu": other,
        "waited": waited,
        "peak_mib": usage.ru_maxrss / 1024,
        "report": report,
    }


# --------------------------------------------------------------------------------------- checks


def verify(folder: Path, as_of: str, *, tied: bool = False) -> dict[str, object]:
    """Compare hand and tierwise outputs; see the module docstring."""
    import duckdb

    hand = folder / "hand" / "grades.parquet"
    out = folder / "output"
    con = duckdb.connect()
    con.execute(f"CREATE VIEW h AS SELECT * FROM read_parquet('{hand}')")
    con.execute(
        f"CREATE VIEW v AS SELECT * FROM read_parquet('{out}/value/{as_of}/grades.parquet')"
    )
    con.execute(f"CREATE VIEW r AS SELECT * FROM read_parquet('{out}/rfm/{as_of}/grades.parquet')")
    con.execute(
        f"CREATE VIEW vf AS SELECT * FROM read_parquet('{out}/value/{as_of}/features.parquet')"
    )
    con.execute(
        f"CREATE VIEW rf AS SELECT * FROM read_parquet('{out}/rfm/{as_of}/features.parquet')"
    )
    result: dict[str, object] = {}

    def one(sql: str) -> tuple:
        row = con.execute(sql).fetchone()
        assert row is not None
        return row

    n_hand, n_value, n_rfm = one(
        "SELECT (SELECT count(*) FROM h), (SELECT count(*) FROM v), (SELECT count(*) FROM r)"
    )
    result["customers"] = {"hand": n_hand, "value": n_value, "rfm": n_rfm}
    result["features_differ"] = one(
        """SELECT count(*) FILTER (WHERE h.customer_id IS NULL OR f.customer_id IS NULL
                   OR h.orders_12m IS DISTINCT FROM f.orders_12m
                   OR h.orders_6m IS DISTINCT FROM f.orders_6m
                   OR abs(h.spend_12m - f.spend_12m) > 0.005
                   OR h.days_since_last_order IS DISTINCT FROM g.days_since_last_order)
           FROM h FULL JOIN vf AS f USING (customer_id) LEFT JOIN rf AS g USING (customer_id)"""
    )[0]
    result["value_tiers_differ"] = one(
        "SELECT count(*) FROM h FULL JOIN v USING (customer_id) "
        "WHERE h.value_tier IS DISTINCT FROM v.tier"
    )[0]
    result["value_tiers"] = dict(
        con.execute("SELECT tier, count(*) FROM v GROUP BY tier ORDER BY min(tier_rank)").fetchall()
    )
    # The tie-aware rule, in SQL: rank() - 1 customers are strictly below (above, for recency).
    # On tierwise's own indicator values: its spend is an exact decimal sum, the hand query's a
    # double sum, and a last-bit difference between two equal spends changes their ranks.
    con.execute(
        """CREATE TABLE tie AS SELECT customer_id,
               1 + floor(5 * (rank() OVER (ORDER BY coalesce(-days_since_last_order, '-inf'::DOUBLE)) - 1)
                         / count(*) OVER ()) AS r,
               1 + floor(5 * (rank() OVER (ORDER BY orders_12m) - 1) / count(*) OVER ()) AS f,
               1 + floor(5 * (rank() OVER (ORDER BY spend_12m) - 1) / count(*) OVER ()) AS m
           FROM rf"""
    )
    result["rfm_vs_tie_rule_differ"] = one(
        "SELECT count(*) FROM r JOIN tie USING (customer_id) "
        "WHERE r.r_score <> tie.r OR r.f_score <> tie.f OR r.m_score <> tie.m"
    )[0]
    diff = one(
        """SELECT count(*) FILTER (WHERE h.r_score <> r.r_score),
                  count(*) FILTER (WHERE h.f_score <> r.f_score),
                  count(*) FILTER (WHERE h.m_score <> r.m_score),
                  count(*) FILTER (WHERE h.r_score <> r.r_score OR h.f_score <> r.f_score
                                   OR h.m_score <> r.m_score),
                  count(*) FILTER (WHERE h.rfm_segment <> r.tier)
           FROM h JOIN r USING (customer_id)"""
    )
    result["rfm_vs_ntile_differ"] = dict(
        zip(("r_score", "f_score", "m_score", "any_score", "segment"), diff, strict=True)
    )
    # Why: ntile gives customers with the same value different scores when a quintile boundary
    # falls inside their run of equal values. Count such values and the customers holding them.
    split = {}
    for dim, col in (
        ("r_score", "days_since_last_order"),
        ("f_score", "orders_12m"),
        ("m_score", "spend_12m"),
    ):
        split[dim] = one(
            f"""SELECT count(*), coalesce(sum(n), 0), coalesce(max(n), 0) FROM (
                    SELECT {col}, count(*) AS n FROM h GROUP BY {col}
                    HAVING count(DISTINCT {dim}) > 1)"""
        )
    result["ntile_split_values"] = {
        dim: {"values": v, "customers": c, "largest_tie": big} for dim, (v, c, big) in split.items()
    }
    previous = folder / "hand" / "previous.parquet"
    if previous.exists():
        result["hand_vs_previous_run"] = dict(
            zip(
                ("customers", "scores_differ", "segments_differ"),
                one(
                    f"""SELECT count(*),
                           count(*) FILTER (WHERE h.r_score <> p.r_score OR h.f_score <> p.f_score
                                            OR h.m_score <> p.m_score),
                           count(*) FILTER (WHERE h.rfm_segment <> p.rfm_segment)
                        FROM h JOIN read_parquet('{previous}') AS p USING (customer_id)"""
                ),
                strict=True,
            )
        )
    example = con.execute(
        """SELECT orders_12m, h.f_score AS ntile_score, r.f_score AS tierwise_score, count(*)
           FROM h JOIN r USING (customer_id)
           WHERE orders_12m IN (SELECT orders_12m FROM h GROUP BY orders_12m
                                HAVING count(DISTINCT f_score) > 1)
           GROUP BY ALL ORDER BY ALL"""
    ).fetchall()
    result["f_example"] = [list(row) for row in example]
    if tied:
        # The tie-aware hand query ranks its own double sums, tierwise its exact ones: a spend
        # that differs in the last bit between two customers could change a rank, so count.
        result["hand_tied_vs_tierwise_differ"] = dict(
            zip(
                ("customers", "scores_differ", "segments_differ", "value_tiers_differ"),
                one(
                    f"""SELECT count(*),
                           count(*) FILTER (WHERE t.r_score <> r.r_score OR t.f_score <> r.f_score
                                            OR t.m_score <> r.m_score),
                           count(*) FILTER (WHERE t.rfm_segment <> r.tier),
                           count(*) FILTER (WHERE t.value_tier <> v.tier)
                        FROM read_parquet('{folder}/hand-tied/grades.parquet') AS t
                        JOIN r USING (customer_id) JOIN v USING (customer_id)"""
                ),
                strict=True,
            )
        )
    con.close()
    return result


# ---------------------------------------------------------------------------------------- report


def fmt_table(rows: list[list[str]], head: list[str]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=True)]
    line = lambda r: "  ".join(str(x).rjust(w) for x, w in zip(r, widths, strict=True))  # noqa: E731
    return "\n".join([line(head), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def print_checks(c: dict[str, Any]) -> None:
    n = c["customers"]
    diff = c["rfm_vs_ntile_differ"]
    total = n["hand"] or 1
    print("\nverification (hand query vs tierwise outputs, joined on customer_id):")
    print(f"  customers: hand {n['hand']:,}, value {n['value']:,}, rfm {n['rfm']:,}")
    print(f"  indicator values differing (spend beyond 0.005): {c['features_differ']:,}")
    tiers = ", ".join(f"{k} {v:,}" for k, v in c["value_tiers"].items())
    print(f"  value tiers differing per customer: {c['value_tiers_differ']:,}  ({tiers})")
    print(
        "  tierwise R/F/M scores vs the tie-aware rule 1 + floor(5 * below / N), recomputed with "
        f"rank() on tierwise's indicators: {c['rfm_vs_tie_rule_differ']:,} differ"
    )
    print(
        f"  hand ntile vs tierwise: R differs for {diff['r_score']:,}, F {diff['f_score']:,}, "
        f"M {diff['m_score']:,} customers; any score {diff['any_score']:,} "
        f"({diff['any_score'] / total:.1%}); segment {diff['segment']:,} ({diff['segment'] / total:.1%})"
    )
    for dim, split in c["ntile_split_values"].items():
        print(
            f"    {dim}: ntile gave {split['values']} tied value(s) two scores; they hold "
            f"{split['customers']:,} customers (largest tie {split['largest_tie']:,})"
        )
    print(
        "    orders_12m, ntile F score, tierwise F score, customers (tied values split by ntile):"
    )
    for value, ntile, tie, count in c["f_example"]:
        print(f"      {value:>3}  {ntile}  {tie}  {count:,}")
    again = c.get("hand_vs_previous_run")
    if again:
        print(
            f"  hand query vs its previous run on the same data: RFM scores differ for "
            f"{again['scores_differ']:,} customers, segments for {again['segments_differ']:,} "
            "(ntile breaks ties in whatever order the threads deliver the rows)"
        )
    tied = c.get("hand_tied_vs_tierwise_differ")
    if tied:
        print(
            f"  hand-tied (rank-based quintiles) vs tierwise on {tied['customers']:,} customers: "
            f"R/F/M scores differ for {tied['scores_differ']:,}, segments for "
            f"{tied['segments_differ']:,}, value tiers for {tied['value_tiers_differ']:,}"
        )


def print_steps(tool: str, runs: list[dict[str, object]], median: float) -> None:
    """Per-step timings (``RunResult.timings``) of the run closest to the median."""
    mid = min(runs, key=lambda r: abs(float(r["wall"]) - median))  # type: ignore[arg-type]
    report = mid["report"]
    assert isinstance(report, dict)
    steps: list[str] = []
    for scheme in SCHEMES:
        steps += [k for k in report[scheme] if k not in steps]
    rows = [[scheme, *(f"{report[scheme].get(k, 0.0):.2f}" for k in steps)] for scheme in SCHEMES]
    print(
        f"\n{tool} steps (s) of the {mid['wall']:.2f} s run: import {report['import']:.2f}, "
        f"grading service {report['service']:.2f} (the rest is interpreter start and exit)"
    )
    print(fmt_table(rows, ["scheme", *steps]))
    shared = [k for k in steps if report[SCHEMES[0]].get(k) == report[SCHEMES[1]].get(k)]
    if shared and tool == "tierwise":
        print(f"({', '.join(shared)}: shared by both schemes, spent once)")


def in_turn(tools: list[str], round_: int) -> list[str]:
    """The tools in the order of round ``round_``: forward, then backward, and so on.

    The machine's speed drifts over minutes (by a third on some evenings); alternating the
    order puts each tool as often before the others as after them, so a drift favours none.
    """
    return list(tools) if round_ % 2 == 0 else list(reversed(tools))


def paired(runs: list[dict[str, Any]], against: list[dict[str, Any]]) -> list[float]:
    """Each round's wall time of ``runs`` over the same round's ``against``."""
    return [float(a["wall"]) / float(b["wall"]) for a, b in zip(runs, against, strict=True)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=list(generate.SIZES), required=True)
    parser.add_argument("--repeat", type=int, default=1, help="timed rounds (median reported)")
    parser.add_argument("--recorded", action="store_true",
                        help="also time the recorded run (store, change files) in a new store")
    parser.add_argument(
        "--separate",
        action="store_true",
        help="also time one grading.run call per scheme (sources read and checked per scheme)",
    )
    parser.add_argument("--tied", action="store_true",
                        help="also time the hand query with tie-aware quintiles (hand-tied)")
    parser.add_argument("--child", choices=list(TOOLS), help=argparse.SUPPRESS)
    parser.add_argument("--no-verify", action="store_true", help="skip the output comparison")
    args = parser.parse_args(argv)
    folder = generate.size_dir(args.size)

    if args.child:
        print(json.dumps(TOOLS[args.child](folder)))
        return 0

    clock = time.perf_counter()
    generated = not generate.exists(args.size)
    generate.generate(args.size)
    if generated:
        print(f"generation: {time.perf_counter() - clock:.1f} s")
    write_project(args.size)
    as_of = as_of_of(folder)
    warm(folder)
    disk = sum(p.stat().st_size for p in folder.glob("*.parquet")) / 2**20
    code = code_state()
    print(f"data: {folder} ({disk:.0f} MiB Parquet), as of {as_of}, {os.cpu_count()} cores")
    print(f"tierwise code: {code}")

    tools = ["hand", "tierwise", *(["hand-tied"] if args.tied else []),
             *(["tierwise-separate"] if args.separate else []),
             *(["tierwise-recorded"] if args.recorded else [])]
    runs: dict[str, list[dict[str, object]]] = {tool: [] for tool in tools}
    discarded: list[dict[str, object]] = []
    for round_ in range(args.repeat):
        for tool in in_turn(tools, round_):
            for attempt in range(RETRIES + 1):
                res = spawn(tool, args.size)
                contaminated = float(res["other_cpu"]) > 0.1 * float(res["cpu"]) + 1.0  # type: ignore[arg-type]
                print(
                    f"round {round_ + 1} {tool:17s}: {res['wall']:7.2f} s wall, "
                    f"{res['cpu']:7.2f} s CPU, {res['peak_mib']:6.0f} MiB; other processes used "
                    f"{res['other_cpu']:.1f} CPU s (waited {res['waited']:.0f} s for a quiet "
                    "machine)"
                    + ("; discarded, run again" if contaminated and attempt < RETRIES else "")
                )
                if not contaminated or attempt == RETRIES:
                    runs[tool].append(res)
                    break
                discarded.append({"tool": tool, **res})

    def med(tool: str, key: str) -> float:
        return statistics.median(float(r[key]) for r in runs[tool])  # type: ignore[arg-type]

    wall = {t: med(t, "wall") for t in runs}
    cpu = {t: med(t, "cpu") for t in runs}
    peak = {t: max(float(r["peak_mib"]) for r in runs[t]) for t in runs}  # type: ignore[arg-type]
    other = {t: max(float(r["other_cpu"]) for r in runs[t]) for t in runs}  # type: ignore[arg-type]
    ratio = wall["tierwise"] / wall["hand"]
    rows = [
        [
            args.size,
            t,
            f"{wall[t]:.2f}",
            f"{cpu[t]:.2f}",
            f"{peak[t]:.0f}",
            f"{wall[t] / wall['hand']:.2f}",
            f"{other[t]:.1f}",
        ]
        for t in tools
    ]
    print()
    print(
        fmt_table(
            rows, ["size", "tool", "wall s", "CPU s", "peak MiB", "ratio", "other CPU s (max)"]
        )
    )
    print(
        f"\nratio tierwise/hand = {ratio:.2f} wall, {cpu['tierwise'] / cpu['hand']:.2f} CPU "
        f"(medians of {args.repeat} round(s))"
    )
    if "hand-tied" in wall:
        print(
            f"ratio tierwise/hand-tied = {wall['tierwise'] / wall['hand-tied']:.2f} wall, "
            f"{cpu['tierwise'] / cpu['hand-tied']:.2f} CPU (the hand query with tierwise's "
            "tie-aware RFM scores)"
        )
        by_round = paired(runs["tierwise"], runs["hand-tied"])
        print(f"ratio tierwise/hand-tied by round = {', '.join(f'{r:.3f}' for r in by_round)}; "
              f"median {statistics.median(by_round):.3f}")

    for tool in tools[1:]:
        if tool.startswith("tierwise"):
            print_steps(tool, runs[tool], wall[tool])
    checks = None
    if not args.no_verify:
        checks = verify(folder, as_of, tied="hand-tied" in runs)
        print_checks(checks)
        if checks["value_tiers_differ"] or checks["features_differ"]:
            print("MISMATCH: value tiers or indicators differ between hand and tierwise")
        if checks["rfm_vs_tie_rule_differ"]:
            print("MISMATCH: tierwise RFM scores differ from the tie-aware rule")

    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.size}.json").write_text(
        json.dumps(
            {
                "size": args.size,
                "as_of": as_of,
                "code": code,
                "wall": wall,
                "cpu": cpu,
                "peak_mib": peak,
                "ratio": ratio,
                "runs": runs,
                "discarded": discarded,
                "checks": checks,
            },
            indent=2,
            default=str,
        ),
        encoding="utf-8",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
