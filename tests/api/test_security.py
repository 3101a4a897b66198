"""The service against an attacker and a careless client: lockout, rate and body limits, headers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api.test_api import token
from tierwise.api.app import create_app
from tierwise.services import runs
from tierwise.services.grading import Project
from tierwise.store import access_log, audit
from tierwise.store import users as store_users

PASSWORD = "correct horse battery staple"


def _project(months: Path, security: str = "") -> Path:
    if security:
        path = months / "tierwise.yaml"
        path.write_text(path.read_text(encoding="utf-8") + security, encoding="utf-8")
    project = Project.open(months)
    runs.backfill(project, ["tier"], [date(2026, 6, 30)])
    store = runs.open_store(project)
    with store.begin() as conn:
        store_users.create(conn, "ada", role="admin", password=PASSWORD, actor="setup")
        store_users.create(conn, "aud", role="auditor", password=PASSWORD, actor="setup")
    store.close()
    return months


@pytest.fixture
def client(months: Path) -> Iterator[TestClient]:
    with TestClient(create_app(_project(months))) as test_client:
        yield test_client


def test_wrong_passwords_lock_the_account_through_the_login_endpoint(client: TestClient) -> None:
    for _ in range(5):  # the default security.lockout_after
        wrong = client.post("/api/v1/auth/login", json={"username": "ada", "password": "guess"})
        assert wrong.status_code == 403
    locked = client.post("/api/v1/auth/login", json={"username": "ada", "password": PASSWORD})
    assert locked.status_code == 429 and "too many failed logins" in locked.json()["message"]
    assert int(locked.headers["Retry-After"]) > 0
    store = client.app.state.store  # type: ignore[attr-defined]
    with store.connect() as conn:
        failed = access_log.entries(conn, action="login.failed")
        events = [e.action for e in audit.events(conn, limit=10)]
    assert len(failed) == 5 and "user.locked_out" in events


def test_a_login_flood_from_one_address_gets_429_before_any_hash(months: Path) -> None:
    folder = _project(months, "security:\n  login_rate: {per_minute: 3, burst: 3}\n")
    with TestClient(create_app(folder)) as client:
        answers = [client.post("/api/v1/auth/login",
                               json={"username": f"nobody{i}", "password": "x" * 12})
                   for i in range(5)]
        assert [a.status_code for a in answers] == [403, 403, 403, 429, 429]
        assert 1 <= int(answers[-1].headers["Retry-After"]) <= 20
        assert answers[-1].json()["code"] == "too_many_requests"
        # The dashboard's login form shares the limit, and says so in the page's language.
        page = client.get("/login?lang=zh")
        token = client.cookies.get("tw_login_csrf")
        form = client.post("/login", data={"csrf": token, "username": "ada", "password": "x"},
                           follow_redirects=False)
        assert form.status_code == 303 and form.headers["location"].startswith("/login?wait=")
        shown = client.get(form.headers["location"])
        assert "秒后重试" in shown.text and page.status_code == 200


def test_expensive_requests_are_limited_per_user(months: Path) -> None:
    folder = _project(months, "security:\n  expensive_rate: {per_minute: 2, burst: 2}\n")
    with TestClient(create_app(folder)) as client:
        aud = token(client, "aud")
        got = [client.get("/api/v1/customers", params={"scheme": "tier"}, headers=aud)
               for _ in range(3)]
        assert [g.status_code for g in got] == [200, 200, 429]
        assert "at most 2 a minute" in got[-1].json()["message"]
        # Cheap reads are not charged.
        assert client.get("/api/v1/me", headers=aud).status_code == 200


def test_bodies_over_the_limit_are_refused(months: Path) -> None:
    folder = _project(months, "security:\n  max_body_kb: 4\n")
    with TestClient(create_app(folder)) as client:
        ada = token(client, "ada")
        big = {"spec": {"description": "x" * 5000}}
        refused = client.post("/api/v1/schemes/tier/validate", json=big, headers=ada)
        assert refused.status_code == 413 and refused.json()["code"] == "too_large"

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted while read
            yield b'{"spec": {"description": "'
            for _ in range(10):
                yield b"y" * 1000
            yield b'"}}'

        chunked = client.post("/api/v1/schemes/tier/validate", content=chunks(),
                              headers={**ada, "Content-Type": "application/json"})
        assert chunked.status_code == 413


def test_headers_no_store_hsts_and_no_host_reflection(client: TestClient) -> None:
    aud = token(client, "aud")
    run_id = client.get("/api/v1/schemes/tier/runs", headers=aud).json()[-1]["id"]
    export = client.get(f"/api/v1/runs/{run_id}/export", headers=aud)
    assert export.status_code == 200 and export.headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in export.headers
    secure = TestClient(client.app, base_url="https://tierwise.example")
    assert "max-age=" in secure.get("/login").headers["Strict-Transport-Security"]
    assert "no-store" not in client.get("/static/app.css").headers.get("Cache-Control", "")
    page = client.get("/login", headers={"Host": "evil.example"})
    assert "evil.example" not in page.text
    assert 'href="/login?lang=zh-Hans"' in page.text
    store = client.app.state.store  # type: ignore[attr-defined]
    with store.connect() as conn:
        exported = [e for e in audit.events(conn, limit=5) if e.action == "run.exported"]
    assert exported and exported[0].actor == "aud" and exported[0].after["format"] == "csv"


def test_reads_of_customers_are_logged_apart_from_the_chain(client: TestClient) -> None:
    aud = token(client, "aud")
    assert client.get("/api/v1/customers/C1", params={"scheme": "tier"},
                      headers=aud).status_code == 200
    client.get("/api/v1/customers", params={"scheme": "tier", "tier": "gold"}, headers=aud)
    store = client.app.state.store  # type: ignore[attr-defined]
    with store.connect() as conn:
        reads = access_log.entries(conn, actor="aud")
        chain = [e.action for e in audit.events(conn, limit=50)]
    assert [r.action for r in reads][:2] == ["customers.searched", "customer.read"]
    assert reads[1].object_id == "C1" and reads[0].detail["tier"] == "gold"
    assert "customer.read" not in chain


def test_admins_manage_roles_sessions_and_tokens(client: TestClient) -> None:
    ada, aud = token(client, "ada"), token(client, "aud")
    login = client.post("/api/v1/auth/login", json={"username": "aud", "password": PASSWORD})
    assert login.status_code == 200
    client.cookies.clear()
    assert client.get("/api/v1/users", headers=aud).status_code == 403
    own = client.get("/api/v1/sessions", headers=aud).json()
    assert [s["username"] for s in own] == ["aud"] and own[0]["client"] == "testclient"
    listed = client.get("/api/v1/tokens", params={"username": "aud"}, headers=ada).json()
    assert listed and all(t["revoked"] is False and t["expires_at"] for t in listed)
    assert "token_hash" not in listed[0]
    promoted = client.patch("/api/v1/users/aud", json={"role": "supervisor"}, headers=ada)
    assert promoted.status_code == 200 and promoted.json()["role"] == "supervisor"
    assert client.get("/api/v1/sessions", params={"username": "aud"},
                      headers=ada).json() == []  # the role change ended the session
    last = client.patch("/api/v1/users/ada", json={"disabled": True}, headers=ada)
    assert last.status_code == 403 and "cannot disable yourself" in last.json()["message"]
    demote = client.patch("/api/v1/users/ada", json={"role": "auditor"}, headers=ada)
    assert demote.status_code == 409 and "last enabled admin" in demote.json()["message"]
    gone = client.patch("/api/v1/users/aud", json={"disabled": True}, headers=ada)
    assert gone.json()["disabled"] is True
    assert client.get("/api/v1/me", headers=aud).status_code == 401  # its tokens stop
    mine = client.get("/api/v1/tokens", params={"username": "ada"}, headers=ada).json()
    assert client.post(f"/api/v1/tokens/{mine[0]['id']}/revoke", headers=ada).status_code == 204
    assert client.get("/api/v1/me", headers=ada).status_code == 401


def test_searches_and_previews_get_the_projects_time_limits(
        months: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The limits reach the services, and a stopped query is a 422 that says what to do.

    (That the engine really stops a long query is tested in tests/engines/test_time_limit.py;
    the months project is too small for any query to run long.)
    """
    import tierwise.api.customers as customer_routes
    from tierwise.errors import QueryTimeout
    from tierwise.services import history as history_service

    folder = _project(months, "security:\n  search_timeout_seconds: 0.5\n"
                              "  preview_timeout_seconds: 7\n")
    seen: dict[str, float | None] = {}

    def stopped(what: str) -> object:
        def call(*args: object, timeout: float | None = None, **kwargs: object) -> object:
            seen[what] = timeout
            raise QueryTimeout(f"{what} took longer than {timeout:g} s and was stopped; "
                               "narrow it", seconds=timeout or 0)
        return call

    monkeypatch.setattr(customer_routes, "search", stopped("the customer search"))
    monkeypatch.setattr(history_service, "preview", stopped("the preview"))
    with TestClient(create_app(folder)) as client:
        ada = token(client, "ada")
        slow = client.get("/api/v1/customers", params={"scheme": "tier", "where": "orders_3m > 0"},
                          headers=ada)
        assert slow.status_code == 422 and slow.json()["code"] == "too_slow"
        assert slow.json()["message"].startswith("the customer search took longer than 0.5 s")
        shown = client.post("/api/v1/schemes/tier/preview", json={"version": 1}, headers=ada)
        assert shown.status_code == 422 and "longer than 7 s" in shown.json()["message"]
    assert seen == {"the customer search": 0.5, "the preview": 7.0}
