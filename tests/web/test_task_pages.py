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


def test_a_manager_sees_what_they_own_and_their_customers(client: TestClient) -> None:
    login(client, "west.1")
    mine = client.get("/api/v1/tasks", params={"today": "2026-10-09"}).json()
    # C3 is west.1's task; C1 is east.1's task but west.1's customer.
    assert sorted(t["customer_id"] for t in mine["tasks"]) == ["C1", "C3"]
    c3, = (t for t in mine["tasks"] if t["customer_id"] == "C3")
    assert c3 == {"action": "revisit", "task": "Contact before their date", "scheme": "intent",
                  "customer_id": "C3", "tier": "not_now", "tier_label": "not_now",
                  "owner": "west.1", "due_on": "2026-09-30", "set_on": "2026-09-30",
                  "state": "overdue"}
    page = client.get("/tasks", params={"on": "2026-10-09"}).text
    # C1 is their customer: linked; C3 is their task but not their customer: listed, not linked.
    assert ">C1</a>" in page and "<td>C3</td>" in page and 'href="/customers/C3' not in page
    assert ">C2</a>" not in page and "<td>C2</td>" not in page and "C4<" not in page
    assert 'value="2026-10-09"' in page
    login(client, "sam")
    every = client.get("/api/v1/tasks", params={"today": "2026-10-09"}).json()
    assert every["total"] == 4 and every["closed"] == 0
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
