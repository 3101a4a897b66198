"""Dashboard page timings, server side: overview, customer list, customer profile, scheme editor.

Usage::

    .venv/bin/python benchmarks/bench_pages.py --customers 5k      # while developing
    .venv/bin/python benchmarks/bench_pages.py --customers 1M      # the figure that counts

For each size it builds (or reuses) a project under ``benchmarks/data/pages/<size>/``: the retail
example (``examples/retail/tierwise.yaml``) over its synthetic data (``tierwise.demo``), with a
mobile phone per customer and the data as Parquet, and records two official runs of the
``value`` scheme (2026-05-31 and 2026-06-30, so the list has moves). Then, in a fresh process, it
logs in a supervisor through the FastAPI TestClient (the whole app in process: routing, access
checks, services, engine, templates) and times each page: **cold** is the first request after the
app started (the list's first request builds its in-memory table), **warm** the median of 5
requests after one more. Then it serves the app over HTTP (uvicorn) and loads each page in
headless Chromium: **browser** is the warm median of 3 loads from request to the load event (the
page's styles and scripts included), **to 1st byte** the server's part of it. It prints a table with the ratio of the warm time to the 300 ms target
and writes ``benchmarks/results/pages-<size>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
DATA = ROOT / "data" / "pages"
RESULTS = ROOT / "results"
SIZES = {"5k": 5_000, "1M": 1_000_000}
TARGET_MS = 300.0
WARM = 5
DATES = [date(2026, 5, 31), date(2026, 6, 30)]
PASSWORD = "benchmark pages password"
USER = "bench_supervisor"


def build(size: str) -> Path:
    """The project of ``size`` customers with two recorded runs; reused when it exists."""
    folder = DATA / size
    if (folder / ".built").exists():
        return folder
    if folder.exists():
        shutil.rmtree(folder)
    clock = time.perf_counter()
    _data(folder, SIZES[size])
    _project(folder)
    from tierwise.services import runs
    from tierwise.services.grading import Project
    from tierwise.store import users

    project = Project.open(folder)
    runs.backfill(project, ["value"], DATES)
    store = runs.open_store(project)
    with store.begin() as conn:
        users.create(conn, USER, role="supervisor", password=PASSWORD, actor="benchmark")
    store.close()
    (folder / ".built").write_text("ok", encoding="utf-8")
    print(f"{folder}: built in {time.perf_counter() - clock:.1f} s", flush=True)
    return folder


def _data(folder: Path, customers: int) -> None:
    """The retail demo's customers and orders as Parquet, with a phone number per customer."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from tierwise.demo import write_retail

    raw = folder / "raw"
    write_retail(raw, customers=customers)
    text = pacsv.ConvertOptions(column_types={"customer_id": pa.string(), "order_id": pa.string(),
                                              "signup_date": pa.date32(),
                                              "order_date": pa.date32(),
                                              "amount": pa.float64()})
    people = pacsv.read_csv(raw / "customers.csv", convert_options=text)
    index = pa.array(range(people.num_rows), pa.int64())
    # Chinese mobile numbers, some written with +86 as people type them.
    digits = pc.cast(pc.add(index, 13_800_000_000), pa.string())
    phone = pc.if_else(pc.equal(pc.bit_wise_and(index, 3), 0),
                       pc.binary_join_element_wise("+86 ", digits, ""), digits)
    pq.write_table(people.append_column("phone", phone), folder / "customers.parquet")
    pq.write_table(pacsv.read_csv(raw / "orders.csv", convert_options=text),
                   folder / "orders.parquet")
    shutil.rmtree(raw)


def _project(folder: Path) -> None:
    """The retail example's project file, pointed at the Parquet files."""
    text = (ROOT.parent / "examples" / "retail" / "tierwise.yaml").read_text(encoding="utf-8")
    text = text.replace("path: data/customers.csv", "path: customers.parquet")
    text = text.replace("path: data/orders.csv", "path: orders.parquet")
    text = text.replace(
        "      signup_date: {type: date}\n",
        "      signup_date: {type: date}\n"
        "      phone: {type: string, label: {en: Mobile, zh: 手机号, zh-Hant: 手機號碼}}\n", 1)
    # Timed requests are many: the per-user limit of searches is not what is measured.
    text += ("\nsecurity:\n  expensive_rate: {per_minute: 100000, burst: 100000}\n"
             "  session_idle_minutes: 1440\n")
    (folder / "tierwise.yaml").write_text(text, encoding="utf-8")


def _pages(folder: Path) -> list[tuple[str, str]]:
    """The pages to time, with a tier, a customer and a name taken from the data."""
    import pyarrow.parquet as pq

    from tierwise.services import runs
    from tierwise.services.grading import Project
    from tierwise.services.history import latest_run, summary

    project = Project.open(folder)
    store = runs.open_store(project)
    try:
        run = latest_run(store, "value")
        tiers = sorted(summary(store, run.id).tiers, key=lambda t: -t.customers)
    finally:
        store.close()
    people = pq.read_table(folder / "customers.parquet", columns=["customer_id", "name"])
    middle = people.num_rows // 2
    customer = people["customer_id"][middle].as_py()
    name = people["name"][middle].as_py()
    return [
        ("overview", "/overview?scheme=value"),
        ("list, default", "/customers?scheme=value"),
        ("list, sorted by spend_12m", "/customers?scheme=value&sort=i.spend_12m&dir=desc"),
        (f"list, tier {tiers[0].tier}", f"/customers?scheme=value&tier={tiers[0].tier}"),
        ("list, searched by name", f"/customers?scheme=value&q={name}"),
        ("customer profile", f"/customers/{customer}?scheme=value"),
        ("scheme editor", "/schemes/value"),
    ]


def child(size: str) -> dict[str, Any]:
    """Time the pages of the built project in this (fresh) process."""
    from fastapi.testclient import TestClient

    from tierwise.api.app import create_app

    folder = DATA / size
    pages = _pages(folder)
    rows = []
    with TestClient(create_app(folder), follow_redirects=False) as client:
        form = client.get("/login").text
        token = re.search(r'name="csrf" value="([^"]*)"', form)
        assert token, "no login form"
        done = client.post("/login", data={"username": USER, "password": PASSWORD,
                                           "csrf": token.group(1)})
        assert done.status_code == 303, done.text[:300]
        for label, url in pages:
            cold = _get(client, url)
            _get(client, url)
            warm = [_get(client, url) for _ in range(WARM)]
            rows.append({"page": label, "url": url, "cold_ms": cold,
                         "warm_ms": statistics.median(warm), "warm_all_ms": warm})
    browser = _browser_times(folder, pages)
    for row in rows:
        row.update(browser.get(row["page"], {}))
    return {"size": size, "customers": SIZES[size], "pages": rows, "machine": _machine()}


def _browser_times(folder: Path, pages: list[tuple[str, str]]) -> dict[str, dict[str, float]]:
    """Each page in headless Chromium over HTTP: the warm median of 3 loads (after one more).

    ``browser_ms`` is the navigation from request to the load event (server, transfer, parsing,
    styles, our scripts); ``server_http_ms`` the part until the first byte of the response.
    Empty when Chromium or Playwright is missing (the server figures stand alone then).
    """
    import shutil as _shutil
    import socket
    import threading

    chromium = _shutil.which("chromium") or "/usr/bin/chromium"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return {}
    if not Path(chromium).exists():
        return {}
    import uvicorn

    from tierwise.api.app import create_app

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(folder), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    out: dict[str, dict[str, float]] = {}
    try:
        with sync_playwright() as play:
            browser = play.chromium.launch(executable_path=chromium,
                                           args=["--no-sandbox", "--headless"])
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{base}/login")
            page.fill("input[name=username]", USER)
            page.fill("input[name=password]", PASSWORD)
            page.click("form[action='/login'] button[type=submit]")
            page.wait_for_url(f"{base}/overview**")
            for label, url in pages:
                loads = [_navigate(page, base + url) for _ in range(4)][1:]
                out[label] = {"browser_ms": statistics.median(t for t, _ in loads),
                              "server_http_ms": statistics.median(s for _, s in loads)}
            browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=30)
    return out


def _navigate(page: Any, url: str) -> tuple[float, float]:
    response = page.goto(url, wait_until="load")
    if response is None or response.status != 200:
        raise SystemExit(f"{url}: status {response.status if response else None} in the browser")
    timing = page.evaluate("() => { const n = performance.getEntriesByType('navigation')[0];"
                           " return [n.loadEventEnd - n.startTime,"
                           " n.responseStart - n.requestStart]; }")
    return float(timing[0]), float(timing[1])


def _get(client: Any, url: str) -> float:
    clock = time.perf_counter()
    response = client.get(url)
    elapsed = (time.perf_counter() - clock) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{url}: status {response.status_code}: {response.text[:500]}")
    return elapsed


def _machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "load": os.getloadavg(), "python": sys.version.split()[0]}


def report(result: dict[str, Any]) -> None:
    """Print the figures of one size."""
    print(f"\n{result['customers']:,} customers ({result['size']}), load {result['machine']['load']}")
    print(f"{'page':<34} {'cold ms':>9} {'warm ms':>9} {'warm / 300 ms':>14} "
          f"{'browser ms':>11} {'to 1st byte':>12}")
    for row in result["pages"]:
        ratio = row["warm_ms"] / TARGET_MS
        shown = (f"{row['browser_ms']:>11.0f} {row['server_http_ms']:>12.0f}"
                 if "browser_ms" in row else f"{'-':>11} {'-':>12}")
        print(f"{row['page']:<34} {row['cold_ms']:>9.0f} {row['warm_ms']:>9.0f} {ratio:>14.2f} "
              f"{shown}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", choices=list(SIZES), action="append",
                        help="size to time (repeat for several); default 5k")
    parser.add_argument("--child", choices=list(SIZES), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child), default=str))
        return 0
    RESULTS.mkdir(exist_ok=True)
    for size in args.customers or ["5k"]:
        build(size)
        done = subprocess.run([sys.executable, __file__, "--child", size], check=True,
                              capture_output=True, text=True)
        result = json.loads(done.stdout.strip().splitlines()[-1])
        (RESULTS / f"pages-{size}.json").write_text(json.dumps(result, indent=2),
                                                    encoding="utf-8")
        report(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
