"""The actions API: listing, ledger rows (a manager sees their own customers only), effect
and KPIs; refusals with a clear message."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.services.test_action_plans import MEASURED, write_shop
from tests.services.test_kpis import KPIS
from tests.web.clients import dashboard, login
from tierwise.services import runs


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TIERWISE_STORE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    monkeypatch.setenv("TIERWISE_USER", "analyst")
    text = MEASURED
    project = write_shop(tmp_path / "shop", text + KPIS)
    runs.backfill(project, ["tier"], [date(2026, 4, 30), date(2026, 5, 31), date(2026, 6, 30)])
    with dashboard(project.root, {"aud": "auditor", "max": "manager"},
                   {"max": ["C001", "C002", "C003"]}) as test_client:
        yield test_client


def test_actions_ledger_effect_and_kpis(client: TestClient) -> None:
    login(client, "aud")
    listed = client.get("/api/v1/actions").json()
    coupon = next(a for a in listed if a["name"] == "gold_coupon")
    assert coupon["kind"] == "file" and coupon["holdout"] == 0.2
    assert coupon["latest_run"]["as_of"] == "2026-06-30" and sum(coupon["counts"].values()) > 0
    rows = client.get("/api/v1/actions/gold_coupon/ledger", params={"status": "holdout"}).json()
    assert rows and all(r["status"] == "holdout" for r in rows)
    found = client.get("/api/v1/actions/gold_coupon/effect", params={"outcome": "orders_1m"})
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["run_as_of"] == "2026-05-31" and body["measured_as_of"] == "2026-06-30"
    assert body["treated"]["customers"] > 0 and body["low"] <= body["uplift"] <= body["high"]
    series = client.get("/api/v1/schemes/tier/kpis").json()
    assert set(series) == {"repurchase", "orders", "kept", "raised"}
    assert {p["as_of"] for p in series["kept"]} == {"2026-04-30", "2026-05-31"}
    bad = client.get("/api/v1/actions/nope/ledger")
    assert bad.status_code == 404 and "no action 'nope'" in bad.text
    unsaid = client.get("/api/v1/actions/gold_coupon/effect")  # no outcome, none declared
    assert unsaid.status_code == 422 and "say which indicator to measure" in unsaid.text
    unknown = client.get("/api/v1/actions/gold_coupon/effect", params={"outcome": "x"})
    assert unknown.status_code in (400, 422) and "unknown indicator 'x'" in unknown.text


def test_a_manager_sees_their_own_customers_rows(client: TestClient) -> None:
    login(client, "aud")
    every = client.get("/api/v1/actions/rich_downgrades/ledger").json()
    client.cookies.clear()
    login(client, "max")
    rows = client.get("/api/v1/actions/rich_downgrades/ledger").json()
    mine = {"C001", "C002", "C003"}
    assert any(r["customer_id"] not in mine for r in every)
    assert rows == [r for r in every if r["customer_id"] in mine]


def test_reassignments_in_review_through_the_api(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.api.test_api import token
    from tests.web.clients import reviewing

    monkeypatch.setenv("TIERWISE_STORE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    monkeypatch.setenv("TIERWISE_USER", "analyst")
    with reviewing(tmp_path / "shop") as (client, south):
        boss, aud, north = token(client, "boss"), token(client, "aud"), token(client, "north_mgr")
        waiting = client.get("/api/v1/actions/vip_managers/reviews", headers=aud).json()
        assert {r["customer_id"] for r in waiting} == set(south)
        assert all(r["manager_now"] == "north_mgr" and r["proposed"] == "any_mgr"
                   for r in waiting)
        assert len(client.get("/api/v1/actions/vip_managers/reviews", headers=north).json()) == 2
        ids = [r["id"] for r in waiting]
        refused = client.post("/api/v1/actions/vip_managers/reviews/approve",
                              json={"ids": ids}, headers=aud)
        assert refused.status_code == 403
        done = client.post("/api/v1/actions/vip_managers/reviews/approve",
                           json={"ids": ids[:1], "note": "territory"}, headers=boss)
        assert done.status_code == 200 and done.json() == {"approved": 1}
        twice = client.post("/api/v1/actions/vip_managers/reviews/reject",
                            json={"ids": ids}, headers=boss)
        assert twice.status_code == 409 and "already decided" in twice.text
        empty = client.post("/api/v1/actions/vip_managers/reviews/reject", json={"ids": []},
                            headers=boss)
        assert empty.status_code == 422
        other = client.get("/api/v1/actions/gold_coupon/reviews", headers=aud)
        assert other.status_code in (400, 422) and "does not ask for approval" in other.text
