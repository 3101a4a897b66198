"""Load and abuse test of the service: 32 clients reading and writing, plus a login flood.

Usage::

    .venv/bin/tierwise demo                       # makes tierwise-demo/retail with its runs
    .venv/bin/python benchmarks/load.py --project tierwise-demo/retail --seconds 300

What it does, against a real ``tierwise serve`` in its own process:

1. Adds 32 users (managers with 40 assigned customers each, supervisors, auditors, admins), one
   API token each, to the project's store.
2. Measures ``GET /api/v1/me`` latency from a probe client on an idle server.
3. Runs 32 client threads for ``--seconds``, each a person with think time between requests,
   each from its own address (``X-Forwarded-For`` through the trusted local proxy): customer
   pages, searches with conditions, run summaries, exports, and writes: overrides created,
   revoked with ``If-Match``, and all supervisors racing to revoke one shared override with the
   same ETag (exactly one may win). Meanwhile one more client floods ``POST /auth/login`` with
   unknown names from a single address as fast as it can, and the probe keeps measuring
   ``GET /me``.
4. Checks afterwards: no answer was a server error (5xx), every write the server acknowledged is
   there (an acknowledged create exists; an acknowledged revoke left the override revoked; each
   race had exactly one winner), and ``GET /api/v1/audit/verify`` finds the hash chain intact.

It prints the figures and the ratio of the probe's p95 under load to its p95 when idle (the
target is at most 3), and writes ``benchmarks/results/load.json``. Exit status 1 when a check
fails.
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent
PASSWORD = "load-test-password"
ROLES = ["manager"] * 16 + ["supervisor"] * 8 + ["auditor"] * 4 + ["admin"] * 4
CONDITIONS = ["orders_12m >= 3", "spend_12m > 1000 and orders_12m < 5",
              "orders_6m between 1 and 3", "round(spend_12m / 12, 2) > 50",
              "div(spend_12m, orders_12m, 0) >= 200"]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


@dataclass
class Tally:
    """What the clients saw, shared between threads under one lock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: Counter[int] = field(default_factory=Counter)
    by_kind: Counter[str] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    # override id -> the status the last acknowledged write left it in
    expected: dict[int, str] = field(default_factory=dict)
    race_winners: list[int] = field(default_factory=list)

    def saw(self, kind: str, response: httpx.Response) -> None:
        with self.lock:
            self.statuses[response.status_code] += 1
            self.by_kind[kind] += 1
            if response.status_code >= 500:
                self.server_errors.append(f"{kind} {response.status_code} {response.text[:200]}")


def _setup(project_path: Path, scheme: str) -> dict[str, Any]:
    import pyarrow.parquet as pq

    from tierwise.services.grading import Project
    from tierwise.services.history import latest_run
    from tierwise.services.runs import open_store
    from tierwise.store import users

    project = Project.open(project_path)
    store = open_store(project)
    run = latest_run(store, scheme)
    ids = pq.read_table(Path(run.folder or "") / "grades.parquet",
                        columns=["customer_id", "tier"]).to_pylist()
    tiers = sorted({r["tier"] for r in ids})
    rng = random.Random(20261205)
    rng.shuffle(ids)
    customers = [r["customer_id"] for r in ids]
    people: list[dict[str, Any]] = []
    tag = f"{int(time.time()) % 100000}"
    with store.begin() as conn:
        for i, role in enumerate(ROLES):
            name = f"load{tag}-{role}{i}"
            users.create(conn, name, role=role, password=PASSWORD, actor="load-test")
            own = customers[i * 40:(i + 1) * 40]
            if role == "manager":
                users.assign(conn, own, name, actor="load-test")
            people.append({"name": name, "role": role, "customers": own,
                           "token": users.new_token(conn, name, "load", actor="load-test")[1]})
    store.close()
    return {"people": people, "run": run.id, "tiers": tiers, "customers": customers,
            "shared": customers[len(ROLES) * 40:]}


def _client(base: str, person: dict[str, Any], index: int, scheme: str, setup: dict[str, Any],
            tally: Tally, deadline: float, think: float) -> None:
    rng = random.Random(index)
    headers = {"Authorization": f"Bearer {person['token']}",
               "X-Forwarded-For": f"10.1.{index // 250}.{index % 250 + 1}"}
    mine: list[tuple[int, str]] = []  # (override id, etag) this client created and may revoke
    free = list(person["customers"])
    with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
        while time.monotonic() < deadline:
            role, roll = person["role"], rng.random()
            customer = rng.choice(person["customers"])
            if roll < 0.35:
                r = http.get(f"/customers/{customer}", params={"scheme": scheme})
                tally.saw("customer", r)
            elif roll < 0.50:
                r = http.get("/customers", params={"scheme": scheme, "limit": 20,
                                                   "where": rng.choice(CONDITIONS)})
                tally.saw("search", r)
            elif roll < 0.62:
                r = http.get(f"/runs/{setup['run']}")
                tally.saw("summary", r)
            elif roll < 0.67 and role != "manager":
                r = http.get(f"/runs/{setup['run']}/export")
                tally.saw("export", r)
            elif roll < 0.85 and role in ("manager", "supervisor", "admin") and free:
                target = free.pop()
                r = http.post("/overrides", json={
                    "scheme": scheme, "customer_id": target, "kind": "pin",
                    "tier": rng.choice(setup["tiers"]), "reason": f"load test {index}"})
                tally.saw("override.create", r)
                if r.status_code == 201:
                    made = r.json()
                    with tally.lock:
                        tally.expected[made["id"]] = made["status"]
                    mine.append((made["id"], r.headers["ETag"]))
            elif mine and role in ("manager", "supervisor", "admin"):
                oid, etag = mine.pop(rng.randrange(len(mine)))
                r = http.post(f"/overrides/{oid}/revoke", json={"note": "load"},
                              headers={"If-Match": etag})
                tally.saw("override.revoke", r)
                if r.status_code == 200:
                    with tally.lock:
                        tally.expected[oid] = "revoked"
            else:
                r = http.get("/schemes")
                tally.saw("schemes", r)
            time.sleep(rng.uniform(0, 2 * think))


def _race(base: str, setup: dict[str, Any], scheme: str, tally: Tally, rounds: int) -> None:
    """All supervisors revoke one override with the same ETag at once: one wins, others 412."""
    supervisors = [p for p in setup["people"] if p["role"] == "supervisor"]
    admin = next(p for p in setup["people"] if p["role"] == "admin")
    for k in range(rounds):
        customer = setup["shared"][k]
        with httpx.Client(base_url=base, timeout=60, headers={
                "Authorization": f"Bearer {admin['token']}", "X-Forwarded-For": "10.9.9.9"}) as h:
            made = h.post("/overrides", json={"scheme": scheme, "customer_id": customer,
                                               "kind": "exclude", "reason": "race"})
        tally.saw("race.create", made)
        if made.status_code != 201:
            continue
        oid, etag = made.json()["id"], made.headers["ETag"]
        with tally.lock:
            tally.expected[oid] = made.json()["status"]
        barrier = threading.Barrier(len(supervisors))
        wins: list[int] = []

        def revoke(person: dict[str, Any], oid: int = oid, etag: str = etag,
                   barrier: threading.Barrier = barrier, wins: list[int] = wins) -> None:
            with httpx.Client(base_url=base, timeout=60, headers={
                    "Authorization": f"Bearer {person['token']}",
                    "X-Forwarded-For": "10.9.9.10"}) as h:
                barrier.wait()
                r = h.post(f"/overrides/{oid}/revoke", json={"note": "race"},
                           headers={"If-Match": etag})
            tally.saw("race.revoke", r)
            if r.status_code == 200:
                wins.append(1)

        threads = [threading.Thread(target=revoke, args=(p,)) for p in supervisors]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with tally.lock:
            tally.race_winners.append(len(wins))
            if wins:
                tally.expected[oid] = "revoked"
        time.sleep(1.0)


def _flood(base: str, deadline: float, out: Counter[int]) -> None:
    """Log in with unknown names as fast as the server answers, from one address."""
    with httpx.Client(base_url=base, timeout=60,
                      headers={"X-Forwarded-For": "10.66.6.6"}) as http:
        i = 0
        while time.monotonic() < deadline:
            r = http.post("/auth/login", json={"username": f"nobody{i}", "password": "x" * 12})
            with lock:
                out[r.status_code] += 1
            i += 1


lock = threading.Lock()


def _probe(base: str, token: str, until: threading.Event, out: list[float]) -> None:
    with httpx.Client(base_url=base, timeout=60, headers={
            "Authorization": f"Bearer {token}", "X-Forwarded-For": "10.7.7.7"}) as http:
        while not until.is_set():
            start = time.perf_counter()
            r = http.get("/me")
            if r.status_code == 200:
                out.append(time.perf_counter() - start)
            time.sleep(0.05)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, default=Path("tierwise-demo/retail"))
    parser.add_argument("--scheme", default="value")
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--idle-seconds", type=float, default=20.0)
    parser.add_argument("--think", type=float, default=3.0,
                        help="mean seconds a client waits between requests")
    parser.add_argument("--workers", type=int, default=2,
                        help="server processes (one per core, as tierwise serve advises)")
    parser.add_argument("--races", type=int, default=10)
    parser.add_argument("--flood-connections", type=int, default=8,
                        help="parallel connections of the login flood (all from one address)")
    args = parser.parse_args()

    setup = _setup(args.project, args.scheme)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (ROOT / "results").mkdir(exist_ok=True)
    log = open(ROOT / "results" / "load-server.log", "w")  # noqa: SIM115
    server = subprocess.Popen(
        [sys.executable, "-c", "from tierwise.cli.main import main; main()", "serve", "-p",
         str(args.project), "--port", str(port), "--workers", str(args.workers)],
        stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/api/v1"
    auditor = next(p for p in setup["people"] if p["role"] == "auditor")
    admin = next(p for p in setup["people"] if p["role"] == "admin")
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/me", timeout=2).status_code == 401:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        idle: list[float] = []
        stop = threading.Event()
        probe = threading.Thread(target=_probe, args=(base, auditor["token"], stop, idle))
        probe.start()
        time.sleep(args.idle_seconds)
        stop.set()
        probe.join()

        tally, flood, loaded = Tally(), Counter[int](), list[float]()
        stop = threading.Event()
        deadline = time.monotonic() + args.seconds
        threads = [threading.Thread(target=_client, args=(
            base, person, i, args.scheme, setup, tally, deadline, args.think))
            for i, person in enumerate(setup["people"])]
        threads += [threading.Thread(target=_flood, args=(base, deadline, flood))
                    for _ in range(args.flood_connections)]
        threads.append(threading.Thread(target=_race, args=(base, setup, args.scheme, tally,
                                                            args.races)))
        probe = threading.Thread(target=_probe, args=(base, auditor["token"], stop, loaded))
        started = time.monotonic()
        probe.start()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        stop.set()
        probe.join()
        elapsed = time.monotonic() - started

        with httpx.Client(base_url=base, timeout=60, headers={
                "Authorization": f"Bearer {admin['token']}"}) as http:
            lost = []
            for oid, status in sorted(tally.expected.items()):
                got = http.get(f"/overrides/{oid}")
                if got.status_code != 200 or got.json()["status"] != status:
                    lost.append((oid, status, got.status_code,
                                 got.json().get("status") if got.status_code == 200 else None))
            verify = http.get("/audit/verify").json()
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()

    requests = sum(tally.statuses.values())
    result = {
        "clients": len(setup["people"]), "seconds": round(elapsed, 1), "think": args.think,
        "workers": args.workers, "requests": requests,
        "requests_per_second": round(requests / elapsed, 1),
        "statuses": dict(sorted(tally.statuses.items())), "by_kind": dict(tally.by_kind),
        "server_errors": len(tally.server_errors), "server_error_samples":
            tally.server_errors[:5],
        "writes_acknowledged": len(tally.expected), "lost_writes": len(lost),
        "lost_samples": lost[:5],
        "race_winners": tally.race_winners,
        "flood_requests": sum(flood.values()), "flood_statuses": dict(sorted(flood.items())),
        "audit_ok": verify["ok"], "audit_events": verify["events"],
        "me_idle_p50_ms": round(_pct(idle, 0.5), 2), "me_idle_p95_ms": round(_pct(idle, 0.95), 2),
        "me_load_p50_ms": round(_pct(loaded, 0.5), 2),
        "me_load_p95_ms": round(_pct(loaded, 0.95), 2),
    }
    result["me_p95_ratio"] = round(result["me_load_p95_ms"] / max(result["me_idle_p95_ms"],
                                                                   1e-9), 2)
    ok = (result["server_errors"] == 0 and result["lost_writes"] == 0 and verify["ok"]
          and all(w == 1 for w in tally.race_winners) and result["me_p95_ratio"] <= 3.0)
    result["ok"] = ok
    (ROOT / "results").mkdir(exist_ok=True)
    (ROOT / "results" / "load.json").write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))
    print(f"load: {requests:,} requests in {elapsed:.0f} s ({result['requests_per_second']}/s) "
          f"from {result['clients']} clients; flood {result['flood_requests']:,} logins "
          f"{result['flood_statuses']}; server errors {result['server_errors']}; lost writes "
          f"{result['lost_writes']} of {result['writes_acknowledged']}; races "
          f"{tally.race_winners}; audit chain {'intact' if verify['ok'] else 'BROKEN'}; "
          f"GET /me p95 idle {result['me_idle_p95_ms']} ms, under load "
          f"{result['me_load_p95_ms']} ms, ratio {result['me_p95_ratio']} (target <= 3)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
