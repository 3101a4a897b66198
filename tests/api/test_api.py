"""The REST API on SQLite and PostgreSQL: login, CSRF, tokens, roles, object checks, ETags."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tierwise.api.app import create_app
from tierwise.services import runs
from tierwise.services.grading import Project
from tierwise.store import users as store_users

PASSWORD = "correct horse battery staple"
ROLES = {"ada": "admin", "sam": "supervisor", "max": "manager", "aud": "auditor"}


@pytest.fixture
def client(months: Path) -> Iterator[TestClient]:
    project = Project.open(months)
    runs.backfill(project, ["tier", "steady"], [date(2026, 5, 31), date(2026, 6, 30)])
    store = runs.open_store(project)
    with store.begin() as conn:
        for name, role in ROLES.items():
            store_users.create(conn, name, role=role, password=PASSWORD, actor="setup")
        store_users.assign(conn, ["C1", "C2"], "max", actor="setup")
    store.close()
    with TestClient(create_app(months)) as test_client:
        yield test_client


def token(client: TestClient, user: str) -> dict[str, str]:
    store = client.app.state.store  # type: ignore[attr-defined]
    with store.begin() as conn:
        _, secret = store_users.new_token(conn, user, "test", actor="setup")
    return {"Authorization": f"Bearer {secret}"}


def test_sessions_need_csrf_on_writes_and_tokens_work(client: TestClient) -> None:
    assert client.get("/api/v1/me").status_code == 401
    bad = client.post("/api/v1/auth/login", json={"username": "sam", "password": "nope"})
    assert bad.status_code == 403 and bad.json()["code"] == "forbidden"
    ok = client.post("/api/v1/auth/login", json={"username": "sam", "password": PASSWORD})
    assert ok.status_code == 200 and ok.json()["role"] == "supervisor"
    assert "httponly" in ok.headers["set-cookie"].lower()
    csrf = ok.json()["csrf"]
    assert client.get("/api/v1/me").json()["username"] == "sam"
    refused = client.post("/api/v1/schemes/tier/rollback")
    assert refused.status_code == 403 and "X-CSRF-Token" in refused.json()["message"]
    allowed = client.post("/api/v1/schemes/tier/activate", json={"version": 1},
                          headers={"X-CSRF-Token": csrf})
    assert allowed.status_code == 200, allowed.json()
    assert client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert client.get("/api/v1/me").status_code == 401
    client.cookies.clear()
    headers = token(client, "aud")
    assert client.get("/api/v1/me", headers=headers).json()["role"] == "auditor"
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer tw_forged"}).status_code \
        == 401


def test_runs_summary_and_transitions(client: TestClient) -> None:
    headers = token(client, "aud")
    listed = client.get("/api/v1/schemes/tier/runs", headers=headers).json()
    assert [r["as_of"] for r in listed] == ["2026-05-31", "2026-06-30"]
    summary = client.get(f"/api/v1/runs/{listed[1]['id']}", headers=headers).json()
    assert sum(t["customers"] for t in summary["tiers"]) == 5
    moves = client.get(f"/api/v1/runs/{listed[1]['id']}/transitions", headers=headers).json()
    assert moves["from_run"] == listed[0]["id"]
    assert sum(moves["counts"].values()) == 5
    # The matrix comes in one order, whatever order the engine's threads grouped it in.
    assert moves["cells"] == sorted(moves["cells"], key=lambda c: tuple(
        (c[k] is None, c[k] or "") for k in ("from_tier", "to_tier")))
    assert client.get("/api/v1/runs/999", headers=headers).status_code == 404
    # A manager gets the same counts but only their own customers among the movers (chosen in
    # the engine before the limit). C4 is the one mover (down) and not theirs, until assigned.
    assert {k: [m["customer_id"] for m in v] for k, v in moves["movers"].items()} == {
        "up": [], "down": ["C4"], "status_entry": [], "status_exit": [], "entry": [], "exit": []}
    url = f"/api/v1/runs/{listed[1]['id']}/transitions"
    manager = token(client, "max")
    theirs = client.get(url, headers=manager, params={"limit": 1}).json()
    assert theirs["counts"] == moves["counts"] and theirs["cells"] == moves["cells"]
    assert all(v == [] for v in theirs["movers"].values())
    store = client.app.state.store  # type: ignore[attr-defined]
    with store.begin() as conn:
        store_users.assign(conn, ["C4"], "max", actor="setup")
    theirs = client.get(url, headers=manager, params={"limit": 1}).json()
    assert [m["customer_id"] for m in theirs["movers"]["down"]] == ["C4"]
    schema = client.get("/openapi.json")
    assert schema.json()["info"]["title"] == "tierwise"
    policy = schema.headers["Content-Security-Policy"]
    # Scripts only from our own origin: no inline script, no CDN.
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy
    assert client.get("/docs").status_code == 404  # its page would load scripts from a CDN


def test_managers_see_and_act_only_on_their_customers(client: TestClient) -> None:
    mgr, aud = token(client, "max"), token(client, "aud")
    mine = client.get("/api/v1/customers/C1", params={"scheme": "tier"}, headers=mgr)
    assert mine.status_code == 200 and mine.json()["grade"]["tier"] == "gold"
    assert mine.json()["history"][0]["tier"] == "gold"
    other = client.get("/api/v1/customers/C3", params={"scheme": "tier"}, headers=mgr)
    assert other.status_code == 404
    assert client.get("/api/v1/customers/C3", params={"scheme": "tier"},
                      headers=aud).status_code == 200
    body = {"scheme": "steady", "kind": "pin", "tier": "gold", "reason": "key account"}
    assert client.post("/api/v1/overrides", json={**body, "customer_id": "C3"},
                       headers=mgr).status_code == 404
    made = client.post("/api/v1/overrides", json={**body, "customer_id": "C5"},
                       headers=token(client, "sam"))
    assert made.status_code == 201
    listed = client.get("/api/v1/overrides", headers=mgr).json()
    assert all(o["customer_id"] in {"C1", "C2"} for o in listed)
    assert client.get(f"/api/v1/overrides/{made.json()['id']}", headers=mgr).status_code == 404
    assert client.get("/api/v1/audit", headers=mgr).status_code == 403


def test_override_approval_needs_another_person_and_the_current_etag(
        client: TestClient) -> None:
    mgr, sup, ada = token(client, "max"), token(client, "sam"), token(client, "ada")
    made = client.post("/api/v1/overrides", headers=mgr, json={
        "scheme": "steady", "customer_id": "C2", "kind": "floor", "tier": "silver",
        "reason": "signed a two-year contract"})
    assert made.status_code == 201 and made.json()["status"] == "pending"
    oid, etag = made.json()["id"], made.headers["ETag"]
    url = f"/api/v1/overrides/{oid}"
    assert client.post(f"{url}/approve", json={}, headers={**mgr, "If-Match": etag}
                       ).status_code == 403  # a manager does not decide
    assert client.post(f"{url}/approve", json={}, headers=sup).status_code == 412
    stale = client.post(f"{url}/approve", json={},
                        headers={**sup, "If-Match": f'"override-{oid}-7"'})
    assert stale.status_code == 412 and "changed since you read it" in stale.json()["message"]
    done = client.post(f"{url}/approve", json={"note": "ok"}, headers={**sup, "If-Match": etag})
    assert done.status_code == 200 and done.json()["decided_by"] == "sam"
    again = client.post(f"{url}/reject", json={}, headers={**ada, "If-Match": etag})
    assert again.status_code == 412  # the approval moved the revision on
    fresh = client.get(url, headers=mgr).headers["ETag"]
    revoked = client.post(f"{url}/revoke", json={}, headers={**mgr, "If-Match": fresh})
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    own = client.post("/api/v1/overrides", headers=sup, json={
        "scheme": "steady", "customer_id": "C4", "kind": "pin", "tier": "gold",
        "reason": "test"})
    self_approval = client.post(f"/api/v1/overrides/{own.json()['id']}/approve", json={},
                                headers={**sup, "If-Match": own.headers["ETag"]})
    assert self_approval.status_code == 403 and "cannot approve" in self_approval.json()["message"]
    verify = client.get("/api/v1/audit/verify", headers=token(client, "aud")).json()
    assert verify["ok"] is True


# Every role against every endpoint: the status each must get (own = a manager's customer).
MATRIX = [
    ("GET", "/api/v1/schemes", {"ada": 200, "sam": 200, "max": 200, "aud": 200}),
    ("GET", "/api/v1/schemes/tier/versions", {"ada": 200, "sam": 200, "max": 200, "aud": 200}),
    ("POST", "/api/v1/schemes/tier/rollback", {"ada": 409, "sam": 409, "max": 403, "aud": 403}),
    ("POST", "/api/v1/schemes/tier/activate", {"ada": 200, "sam": 200, "max": 403, "aud": 403}),
    ("GET", "/api/v1/customers/C1?scheme=tier", {"ada": 200, "sam": 200, "max": 200, "aud": 200}),
    ("GET", "/api/v1/customers/C4?scheme=tier", {"ada": 200, "sam": 200, "max": 404, "aud": 200}),
    ("POST", "/api/v1/overrides", {"ada": 201, "sam": 409, "max": 409, "aud": 403}),
    ("GET", "/api/v1/audit", {"ada": 200, "sam": 403, "max": 403, "aud": 200}),
    ("GET", "/api/v1/audit/verify", {"ada": 200, "sam": 403, "max": 403, "aud": 200}),
]


def test_access_control_matrix(client: TestClient) -> None:
    headers = {user: token(client, user) for user in ROLES}
    bodies = {"/api/v1/schemes/tier/activate": {"version": 1},
              "/api/v1/overrides": {"scheme": "tier", "customer_id": "C1", "kind": "pin",
                                    "tier": "silver", "reason": "matrix"}}
    unexpected = []
    for method, url, expected in MATRIX:
        for user, status in expected.items():
            got = client.request(method, url, headers=headers[user], json=bodies.get(url))
            if got.status_code != status:
                unexpected.append((method, url, user, status, got.status_code, got.text[:120]))
    assert unexpected == []


def test_search_filters_and_scopes_customers(client: TestClient) -> None:
    aud, mgr = token(client, "aud"), token(client, "max")
    page = client.get("/api/v1/customers", params={"scheme": "tier", "limit": 2},
                      headers=aud).json()
    assert page["total"] == 5 and [r["customer_id"] for r in page["rows"]] == ["C1", "C2"]
    gold = client.get("/api/v1/customers", params={"scheme": "tier", "tier": "gold"},
                      headers=aud).json()
    assert [r["customer_id"] for r in gold["rows"]] == ["C1"]
    cond = client.get("/api/v1/customers", headers=aud, params={
        "scheme": "tier", "where": "orders_3m >= 1 and spend_3m < 1000"}).json()
    assert [r["customer_id"] for r in cond["rows"]] == ["C1"]
    bad = client.get("/api/v1/customers", headers=aud,
                     params={"scheme": "tier", "where": "orders_3mm > 1"})
    assert bad.status_code == 422 and "orders_3m" in bad.json()["message"]
    mine = client.get("/api/v1/customers", params={"scheme": "tier"}, headers=mgr).json()
    assert mine["total"] == 2 and {r["customer_id"] for r in mine["rows"]} == {"C1", "C2"}
    run_id = client.get("/api/v1/schemes/tier/runs", headers=aud).json()[-1]["id"]
    csv = client.get(f"/api/v1/runs/{run_id}/export", headers=mgr)
    assert csv.status_code == 200 and csv.content.startswith(b"\xef\xbb\xbf")
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert len(lines) == 3 and lines[0].endswith('"reasons","gap to the next tier"')  # header, C1, C2
    assert client.get(f"/api/v1/runs/{run_id}/export", params={"format": "xlsx"},
                      headers=aud).content[:2] == b"PK"


def test_edit_validate_preview_and_run_in_the_background(client: TestClient) -> None:
    import time

    sam, ada = token(client, "sam"), token(client, "ada")
    listed = client.get("/api/v1/schemes/tier/versions", headers=sam)
    etag, spec = listed.headers["ETag"], listed.json()[-1]["spec"]
    spec["tiers"][0]["when"] = "orders_3m >= 2"
    broken = {**spec, "tiers": [{**spec["tiers"][0], "when": "orders_3m >= 'x'"},
                                *spec["tiers"][1:]]}
    invalid = client.post("/api/v1/schemes/tier/validate", json={"spec": broken}, headers=sam)
    assert invalid.status_code == 422
    assert invalid.json()["issues"][0]["path"] == "schemes.tier.tiers[0].when"
    saved = client.post("/api/v1/schemes/tier/versions", json={"spec": spec, "note": "2 orders"},
                        headers={**sam, "If-Match": etag})
    assert saved.status_code == 201 and saved.json() == {
        "number": 2, "created": True, "fingerprint": saved.json()["fingerprint"]}
    stale = client.post("/api/v1/schemes/tier/versions", json={"spec": spec},
                        headers={**ada, "If-Match": etag})
    assert stale.status_code == 409 and "has version 2 now" in stale.json()["message"]
    shown = client.post("/api/v1/schemes/tier/preview", json={"version": 2}, headers=sam).json()
    assert (shown["active"], shown["candidate"]) == (1, 2)
    assert sum(sum(row) for row in shown["matrix"]) == 5
    started = client.post("/api/v1/runs", json={"schemes": ["tier"], "force": True},
                          headers=sam)
    assert started.status_code == 202
    for _ in range(120):
        job = client.get(f"/api/v1/jobs/{started.json()['id']}", headers=sam).json()
        if job["state"] in ("done", "failed"):
            break
        time.sleep(0.25)
    assert job["state"] == "done", job
    assert job["runs"][0]["status"] == "done" and job["steps"]
    assert client.post("/api/v1/runs", json={"schemes": ["tier"]},
                       headers=token(client, "max")).status_code == 403
