"""The linkage API: the latest version, the review queue, decisions by role, a customer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api.test_api import token
from tests.cli.test_link_cli import write_shops
from tests.web.clients import dashboard
from tierwise.services import linkage, runs
from tierwise.services.grading import Project

pytest.importorskip("splink")


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("TIERWISE_STORE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    folder = write_shops(tmp_path / "shops", people=300)
    with dashboard(folder, {"aud": "auditor", "boss": "supervisor", "max": "manager"}) as found:
        yield found


def _run(client: TestClient) -> None:
    project = Project.open(client.app.state.project.root)  # type: ignore[attr-defined]
    store = runs.open_store(project)
    try:
        linkage.run(project, store, actor="setup")
    finally:
        store.close()


def test_review_and_decide_through_the_api(client: TestClient) -> None:
    aud, boss, mgr = token(client, "aud"), token(client, "boss"), token(client, "max")
    none = client.get("/api/v1/linkage", headers=aud)
    assert none.status_code == 404 and "no linkage has run yet" in none.text
    _run(client)
    latest = client.get("/api/v1/linkage", headers=aud).json()
    assert latest["version"] == 1 and latest["created_by"] == "setup"
    # A manager sees only their own customers: not every system's records.
    barred = client.get("/api/v1/linkage/review", headers=mgr)
    assert barred.status_code == 403 and "sees only the customers assigned" in barred.text
    assert client.get("/api/v1/linkage/customers/shop:S0000001", headers=mgr).status_code == 403
    queue = client.get("/api/v1/linkage/review", params={"limit": 2}, headers=aud).json()
    assert queue["pending"] == latest["review"] > 0 and len(queue["pairs"]) <= 2
    pair = queue["pairs"][0]
    assert pair["left"]["values"]["name"] and 0.5 <= pair["probability"] < 0.95
    body = {"record_a": pair["left"]["record"], "record_b": pair["right"]["record"],
            "decision": "link", "reason": "same email"}
    # Deciding needs the decide permission: not an auditor's or a manager's.
    for who in (aud, mgr):
        refused = client.post("/api/v1/linkage/decisions", json=body, headers=who)
        assert refused.status_code == 403, refused.text
    made = client.post("/api/v1/linkage/decisions", json=body, headers=boss)
    assert made.status_code == 201, made.text
    assert made.json()["decided_by"] == "boss" and made.json()["version"] == 1
    after = client.get("/api/v1/linkage/review", headers=aud).json()
    assert after["pending"] == queue["pending"] - 1
    shown = client.get(f"/api/v1/linkage/customers/{body['record_a']}", headers=aud).json()
    assert body["record_a"] in {r["record"] for r in shown["records"]}


def test_bad_decisions_are_refused_with_the_fix(client: TestClient) -> None:
    boss = token(client, "boss")
    _run(client)
    maybe = client.post("/api/v1/linkage/decisions", headers=boss, json={
        "record_a": "shop:S0000001", "record_b": "app:A0000001", "decision": "maybe",
        "reason": "x"})
    assert maybe.status_code == 422
    unknown = client.post("/api/v1/linkage/decisions", headers=boss, json={
        "record_a": "shop:NOPE", "record_b": "app:A0000001", "decision": "apart",
        "reason": "x"})
    assert unknown.status_code == 404 and "no record 'shop:NOPE'" in unknown.text
    missing = client.get("/api/v1/linkage/customers/shop:NOPE", headers=boss)
    assert missing.status_code == 404
