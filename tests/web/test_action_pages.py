"""The actions page: the ledger per action, an effect measured on request, KPIs per tier with
the tiers out of their band, in English and Chinese; an empty project says what to declare."""

from __future__ import annotations

import re
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
    with dashboard(project.root, {"aud": "auditor"}) as test_client:
        yield test_client


def test_ledger_effect_and_kpis(client: TestClient) -> None:
    login(client, "aud")
    page = client.get("/actions").text
    assert 'href="/actions" aria-current="page">Tier actions</a>' in page
    assert "Gold coupon <code>gold_coupon</code>" in page and "control group" in page
    assert "Compute the KPIs" in page
    measured = client.get("/actions", params={"effect": "gold_coupon",
                                              "outcome": "orders_1m"}).text
    assert "Run of May 31, 2026, measured as of Jun 30, 2026." in measured
    assert "Uplift " in measured and ", 95% interval " in measured
    assert ("The interval excludes zero" in measured) != ("The interval includes zero" in measured)
    with_kpis = client.get("/actions", params={"kpis": "1"}).text
    assert "kept the tier" in with_kpis and "outside its band" in with_kpis
    assert "<td>Gold</td>" in with_kpis  # tiers by their label
    zh = client.get("/actions", params={"kpis": "1", "lang": "zh-Hans", "effect": "gold_coupon",
                                        "outcome": "orders_1m", "rate": "1"}).text
    assert "<h1 class=\"h3\">等级动作</h1>" in zh and "金卡优惠券 <code>gold_coupon</code>" in zh and "对照组" in zh and "按等级的 KPI" in zh and "超出容差区间" in zh and "提升" in zh
    bad = client.get("/actions", params={"effect": "nope", "outcome": "orders_1m",
                                         "lang": "en"}).text
    assert "alert-danger" in bad and "no action &#39;nope&#39;" in bad


def test_no_action_says_what_to_declare(tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.services.conftest import write_months

    monkeypatch.setenv("TIERWISE_STORE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    with dashboard(write_months(tmp_path / "m"), {"aud": "auditor"}) as client:
        login(client, "aud")
        page = client.get("/actions").text
        assert "No action yet" in page and "actions:" in page


def test_reassignments_are_decided_on_the_page(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.web.clients import hidden, reviewing

    monkeypatch.setenv("TIERWISE_STORE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    monkeypatch.setenv("TIERWISE_USER", "analyst")
    with reviewing(tmp_path / "shop") as (client, south):
        store = client.app.state.store  # type: ignore[attr-defined]
        csrf = login(client, "aud")
        seen = client.get("/actions").text
        assert "Reassignments waiting for approval" in seen and south[0] in seen
        assert "north_mgr does not serve territory south" in seen
        assert "Approve the selected" not in seen  # an auditor reads, does not decide
        ids = re.findall(r'name="pick-(\d+)"', seen)
        assert ids == []
        refused = client.post("/actions/vip_managers/reviews",
                              data={"csrf": csrf, "decision": "approve"})
        assert refused.status_code == 403
        client.cookies.clear()
        login(client, "boss")
        page = client.get("/actions", params={"lang": "zh-Hans"}).text
        assert "等待审批的客户经理调整" in page and "批准所选" in page
        ids = re.findall(r'name="pick-(\d+)"', page)
        assert len(ids) == 2
        done = client.post("/actions/vip_managers/reviews", data={
            "csrf": hidden(page), "decision": "approve", f"pick-{ids[0]}": "1",
            "note": "north serves no south"})
        assert done.status_code == 303
        assert done.headers["location"] == "/actions?approved=1#reviews"
        after = client.get("/actions", params={"approved": "1", "lang": "en"}).text
        assert "Approved 1 reassignments" in after
        with store.read() as tx:
            moved = tx.users.holders(south)
        assert sorted(moved.values()) == ["any_mgr", "north_mgr"]
        nothing = client.post("/actions/vip_managers/reviews", data={
            "csrf": hidden(after), "decision": "reject"})
        assert nothing.status_code == 422 and "say which reassignments" in nothing.text
        odd = client.post("/actions/vip_managers/reviews", data={  # a digit int() refuses
            "csrf": hidden(after), "decision": "approve", "pick-\u00b2": "1"})
        assert odd.status_code == 422
        forged = client.post("/actions/vip_managers/reviews", data={"decision": "reject",
                                                                   f"pick-{ids[1]}": "1"})
        assert forged.status_code in (400, 403)
