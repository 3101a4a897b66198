"""The follow-ups page and ``GET /api/v1/tasks``: open tasks per owner, a manager's own only."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.services.test_follow_ups import ROWS, _project, _run
from tests.web.clients import dashboard, login


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("TIERWISE_STORE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    monkeypatch.setenv("TIERWISE_USER", "analyst")
    project = _project(tmp_path / "deals", ROWS)
    _run(project, date(2026, 9, 30))
    roles = {"sam": "supervisor", "east.1": "manager", "west.1": "manager"}
    with dashboard(project.root, roles, assign={"west.1": ["C1"]}) as test_client:
        yield test_client


def test_the_page_lists_follow_ups_per_owner(client: TestClient) -> None:
    login(client, "sam")
    page = client.get("/tasks").text
    assert 'href="/tasks" aria-current="page">Follow-ups</a>' in page
    for owner in ("east.1", "west.1", "Unassigned"):
        assert owner in page
    assert "Call them" in page and "Contact before their date" in page
    assert 'href="/customers/C3?scheme=intent"' in page
    assert 'class="badge text-bg-danger">overdue' in page  # C3 was due on 30 September
    before = client.get("/tasks", params={"on": "2026-09-30"}).text
    assert 'text-bg-danger">overdue' not in before  # nothing is late on the run's day
    wrong = client.get("/tasks", params={"on": "30/09/2026"})
    assert wrong.status_code == 200 and "&#39;30/09/2026&#39; is not a date like 2026-06-30" in \
        wrong.text
    one = client.get("/tasks", params={"owner": "west.1"}).text
    assert ">C3</a>" in one and ">C2</a>" not in one and ">C1</a>" not in one
    zh = client.get("/tasks", params={"lang": "zh-Hans"}).text
    assert "<h1 class=\"h3\">跟进任务</h1>" in zh and "电话跟进" in zh and "未指定" in zh
    hant = client.get("/tasks", params={"lang": "zh-Hant"}).text
    assert "各負責人的跟進任務" in hant


def test_a_manager_sees_the_follow_ups_of_their_customers(client: TestClient) -> None:
    login(client, "west.1")
    mine = client.get("/api/v1/tasks", params={"today": "2026-10-09"}).json()
    # C1 is assigned to west.1 (its owner in the data is east.1); C3 names west.1 as its owner
    # but is not their customer: the data's owner grants no access of its own.
    assert [t["customer_id"] for t in mine["tasks"]] == ["C1"]
    assert mine["tasks"][0] == {
        "action": "call", "task": "Call them", "scheme": "intent", "customer_id": "C1",
        "tier": "interested", "tier_label": "interested", "owner": "east.1",
        "due_on": "2026-10-09", "set_on": "2026-09-30", "state": "due_soon"}
    page = client.get("/tasks", params={"on": "2026-10-09"}).text
    assert ">C1</a>" in page and "C3<" not in page and "C2<" not in page and "C4<" not in page
    assert 'value="2026-10-09"' in page
    login(client, "sam")
    every = client.get("/api/v1/tasks", params={"today": "2026-10-09"}).json()
    assert every["total"] == 4 and every["closed"] == 0
    c3, = (t for t in every["tasks"] if t["customer_id"] == "C3")
    assert (c3["owner"], c3["due_on"], c3["state"]) == ("west.1", "2026-09-30", "overdue")
    unknown = client.get("/api/v1/tasks", params={"scheme": "intnet"})
    assert unknown.status_code == 404 and "intent" in unknown.text


def test_no_follow_up_says_what_to_declare(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.services.conftest import write_months

    monkeypatch.setenv("TIERWISE_STORE_URL", f"sqlite:///{tmp_path / 'store.db'}")
    with dashboard(write_months(tmp_path / "m"), {"aud": "auditor"}) as client:
        login(client, "aud")
        page = client.get("/tasks").text
        assert "No follow-up yet" in page and "follow_up:" in page
        answer = client.get("/api/v1/tasks")
        assert answer.status_code == 422 and "follow_up" in answer.text
