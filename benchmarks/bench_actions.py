"""Actions at scale: planning a run's actions into the ledger, a file drop, webhook throughput.

Usage::

    .venv/bin/python benchmarks/bench_pages.py --customers 1M      # builds the data once
    .venv/bin/python benchmarks/bench_actions.py --customers 1M

It reuses the page benchmark's project (``benchmarks/data/pages/<size>/``: the retail example's
``value`` scheme graded on 2026-05-31 and 2026-06-30, so the second run moves about 9% of the
customers) on a copy of its store, adds three actions and times, in this process:

* **plan**: the ledger rows of the second run for ``moves`` (enter any tier, 10% holdout,
  Parquet file) and ``exits`` (leave any tier, CSV), as a committed run plans them;
* **file drop**: delivering both files (the rows marked sent);
* **webhooks**: ``--posts`` signed posts of a third action to a local HTTP receiver (a
  threaded ``http.server``), the posts per second.

Peak memory is the process's maximum resident set size. Target (issue 15): plan and file drop
under 30 s at 1M customers with 10% changed, peak memory under 2 GiB. Results go to
``benchmarks/results/actions-<size>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent
DATA = ROOT / "data" / "pages"
RESULTS = ROOT / "results"
TARGET_S = 30.0
TARGET_GIB = 2.0
ACTIONS = """
actions:
  moves:
    scheme: value
    kind: file
    on: enter
    holdout: 0.1
    file: {{format: parquet, folder: drops}}
  exits:
    scheme: value
    kind: file
    on: leave
    file: {{format: csv, folder: drops}}
  hook:
    scheme: value
    kind: webhook
    on: up
    budget: {{per_run: {posts}}}
    webhook: {{url: "{url}", secret_env: BENCH_HOOK_SECRET, per_minute: 100000, retries: 0}}
"""


class _Quiet(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def _peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", default="1M", choices=["5k", "1M"])
    parser.add_argument("--posts", type=int, default=1000)
    args = parser.parse_args()
    source = DATA / args.customers
    if not (source / ".tierwise" / "store.db").exists():
        sys.exit(f"no {source}: run benchmarks/bench_pages.py --customers {args.customers} first")
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), _Quiet)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    with tempfile.TemporaryDirectory(prefix="tierwise-bench-actions-") as tmp:
        folder = Path(tmp)
        for name in ("customers.parquet", "orders.parquet"):
            (folder / name).symlink_to(source / name)
        text = (source / "tierwise.yaml").read_text(encoding="utf-8")
        (folder / "tierwise.yaml").write_text(text + ACTIONS.format(url=url, posts=args.posts),
                                              encoding="utf-8")
        shutil.copy(source / ".tierwise" / "store.db", folder / "store.db")
        os.environ["TIERWISE_STORE_URL"] = f"sqlite:///{folder / 'store.db'}"
        os.environ["BENCH_HOOK_SECRET"] = "benchmark secret"
        figures = _measure(folder)
    receiver.shutdown()
    figures["customers"] = args.customers
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"actions-{args.customers}.json").write_text(json.dumps(figures, indent=2))
    _print(figures)


def _measure(folder: Path) -> dict[str, float | int | str]:
    from tierwise.services import actions, delivery, runs
    from tierwise.services.grading import Project

    project = Project.open(folder)
    store = runs.open_store(project)
    with store.read() as tx:
        run = tx.runs.history_runs("value")[-1]
    spec = runs.scheme_spec(project, store, "value")
    start = time.perf_counter()
    planned = actions.plan(project, store, run, spec)
    plan_s = time.perf_counter() - start
    rows = {p.action: p.treated + p.holdout + p.over_budget for p in planned}
    start = time.perf_counter()
    files = [delivery.deliver(project, store, n) for n in ("moves", "exits")]
    drop_s = time.perf_counter() - start
    start = time.perf_counter()
    posted = delivery.deliver(project, store, "hook")
    hook_s = time.perf_counter() - start
    store.close()
    return {"run_customers": run.customers or 0, "ledger_rows": sum(rows.values()),
            "moves_rows": rows.get("moves", 0), "exits_rows": rows.get("exits", 0),
            "plan_s": round(plan_s, 2), "file_rows": sum(f.sent for f in files),
            "file_drop_s": round(drop_s, 2), "posts": posted.sent,
            "posts_per_s": round(posted.sent / hook_s, 1) if hook_s else 0.0,
            "peak_gib": round(_peak_gib(), 2)}


def _print(f: dict[str, float | int | str]) -> None:
    total = float(f["plan_s"]) + float(f["file_drop_s"])
    print(f"\nactions on {f['customers']} customers (a run of {f['run_customers']:,})")
    print(f"ledger rows written            {f['ledger_rows']:>10,}   "
          f"(moves {f['moves_rows']:,}, exits {f['exits_rows']:,}, hook)")
    print(f"plan (ledger write)     s      {f['plan_s']:>10}")
    print(f"file drop ({f['file_rows']:,} rows) s   {f['file_drop_s']:>10}")
    print(f"plan + drop / {TARGET_S:.0f} s          {total / TARGET_S:>10.2f}")
    print(f"peak memory GiB / {TARGET_GIB:.0f}        {float(f['peak_gib']) / TARGET_GIB:>10.2f}"
          f"   ({f['peak_gib']} GiB)")
    print(f"webhook posts per second       {f['posts_per_s']:>10}   ({f['posts']} posts)")


if __name__ == "__main__":
    main()
