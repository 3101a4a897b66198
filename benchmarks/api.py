"""API latency under 32 concurrent clients: customer detail and run summary, p50 and p95.

Usage::

    .venv/bin/python benchmarks/api.py --project tierwise-demo/retail --scheme value
    .venv/bin/python benchmarks/api.py --project benchmarks/data/10M/store-bench --scheme value

The project must have recorded runs (the demo, or a ``benchmarks/store.py`` backfill). The script
adds a benchmark user and token to its store, starts ``tierwise serve`` in its own process (so the
clients do not share an interpreter lock with the server), and runs 32 client threads for the
given seconds against two endpoints: ``GET /api/v1/customers/{random id}?scheme=S`` and
``GET /api/v1/runs/{latest run}``. It prints the latency percentiles and throughput and writes
``benchmarks/results/api-<project name>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", required=True, type=Path)
    parser.add_argument("--scheme", default="value")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--ids", type=int, default=2000, help="random customers drawn from")
    parser.add_argument("--workers", type=int, default=2, help="server processes")
    args = parser.parse_args()

    import pyarrow.parquet as pq

    from tierwise.services.grading import Project
    from tierwise.services.history import latest_run
    from tierwise.services.runs import open_store
    from tierwise.store import users

    project = Project.open(args.project)
    store = open_store(project)
    run = latest_run(store, args.scheme)
    ids = pq.read_table(Path(run.folder or "") / "grades.parquet", columns=["customer_id"])
    rng = random.Random(20261130)
    pool = rng.sample(ids["customer_id"].to_pylist(), min(args.ids, ids.num_rows))
    with store.begin() as conn:
        try:
            users.by_name(conn, "benchmark")
        except Exception:
            users.create(conn, "benchmark", role="auditor", password="benchmark-" * 2,
                         actor="benchmark")
        token = users.new_token(conn, "benchmark", "latency", actor="benchmark")[1]
    store.close()

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-c", "from tierwise.cli.main import main; main()", "serve", "-p",
         str(args.project),
         "--port", str(port), "--workers", str(args.workers)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/api/v1"
    headers = {"Authorization": f"Bearer {token}"}
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{base}/me", headers=headers, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        # Warm up: first requests open files and compile queries.
        for cid in pool[:5]:
            httpx.get(f"{base}/customers/{cid}", params={"scheme": args.scheme},
                      headers=headers, timeout=60)
        results: dict[str, list[float]] = {"customer": [], "summary": []}
        failures: list[int] = []
        lock = threading.Lock()

        def client(index: int) -> None:
            local = random.Random(index)
            end = time.monotonic() + args.seconds
            with httpx.Client(base_url=base, headers=headers, timeout=120) as http:
                while time.monotonic() < end:
                    if local.random() < 0.5:
                        kind, url, params = ("customer", f"/customers/{local.choice(pool)}",
                                             {"scheme": args.scheme})
                    else:
                        kind, url, params = "summary", f"/runs/{run.id}", {}
                    start = time.perf_counter()
                    got = http.get(url, params=params)
                    took = time.perf_counter() - start
                    with lock:
                        if got.status_code != 200:
                            failures.append(got.status_code)
                        else:
                            results[kind].append(took)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
        clock = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - clock
    finally:
        server.terminate()
        server.wait(timeout=30)

    report = {
        "project": str(args.project), "scheme": args.scheme, "clients": args.clients,
        "seconds": round(wall, 1), "customers": ids.num_rows, "failures": len(failures),
        "workers": args.workers,
        "code": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                               text=True, cwd=ROOT, check=False).stdout.strip(),
    }
    print(f"{args.project} ({ids.num_rows:,} customers), {args.clients} clients, "
          f"{args.workers} server processes, {wall:.0f} s; "
          f"failures: {len(failures)}")
    for kind, values in results.items():
        entry = {"requests": len(values), "per_s": round(len(values) / wall, 1),
                 "p50_ms": round(_pct(values, 0.5), 1), "p95_ms": round(_pct(values, 0.95), 1),
                 "mean_ms": round(statistics.mean(values) * 1000, 1) if values else None}
        report[kind] = entry
        print(f"  {kind:9s} {entry['requests']:6d} requests, {entry['per_s']:7.1f}/s, "
              f"p50 {entry['p50_ms']:8.1f} ms, p95 {entry['p95_ms']:8.1f} ms")
    out = ROOT / "results" / f"api-{args.project.resolve().name}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TIERWISE_USER", "benchmark")
    raise SystemExit(main())
