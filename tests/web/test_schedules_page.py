"""The schedules page on the real app: add, change (with a stale-page check), pause, resume,
delete, errors that keep the form, roles, and the outcome the server recorded."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.web.clients import dashboard, hidden, login
from tierwise.services import runs
from tierwise.services import schedules as schedule_service
from tierwise.services.grading import Project


@pytest.fixture
def client(months: Path) -> Iterator[TestClient]:
    with dashboard(months, {"sam": "supervisor", "max": "manager"},
                   scheduler=False) as test_client:
        yield test_client


def _row(text: str, name: str) -> str:
    found = re.search(rf'<tr data-schedule="{name}">(.*?)</tr>', text, re.S)
    assert found, f"no row for {name}"
    return found.group(1)


def test_add_change_pause_resume_delete(client: TestClient, months: Path) -> None:
    csrf = login(client, "sam")
    empty = client.get("/schedules")
    assert empty.status_code == 200 and "No schedule yet." in empty.text
    assert 'name="run.tier"' in empty.text and "Time of day (UTC)" in empty.text
    added = client.post("/schedules", data={"csrf": csrf, "name": "month-end",
                                            "run.tier": "1", "cadence": "monthly",
                                            "at": "02:30"})
    assert added.status_code == 303 and added.headers["location"] == "/schedules?done=added"
    page = client.get(added.headers["location"]).text
    assert "Schedule added." in page
    row = _row(page, "month-end")
    assert "tier" in row and "monthly" in row and "02:30" in row and "not run yet" in row

    edit = client.get("/schedules", params={"edit": "month-end"}).text
    assert 'action="/schedules/month-end"' in edit and 'name="run.tier" value="1" checked' in edit
    revision = re.search(r'name="revision" value="(\d+)"', edit)
    assert revision
    changed = client.post("/schedules/month-end", data={
        "csrf": csrf, "revision": revision.group(1), "run.tier": "1", "run.steady": "1",
        "cadence": "weekly", "at": "03:00"})
    assert changed.status_code == 303
    row = _row(client.get("/schedules").text, "month-end")
    assert "tier, steady" in row and "weekly" in row
    stale = client.post("/schedules/month-end", data={
        "csrf": csrf, "revision": revision.group(1), "run.tier": "1", "cadence": "daily",
        "at": "01:00"})
    assert stale.status_code == 409 and "changed by someone else" in stale.text
    assert 'class="alert alert-danger' in stale.text

    paused = client.post("/schedules/month-end/pause", data={"csrf": csrf})
    assert paused.status_code == 303
    assert "none while paused" in _row(client.get("/schedules").text, "month-end")
    assert client.post("/schedules/month-end/resume", data={"csrf": csrf}).status_code == 303
    assert "none while paused" not in _row(client.get("/schedules").text, "month-end")
    assert client.post("/schedules/month-end/delete", data={"csrf": csrf}).status_code == 303
    assert "No schedule yet." in client.get("/schedules").text
    assert client.post("/schedules/month-end/explode", data={"csrf": csrf}).status_code == 400


def test_bad_input_keeps_the_form_and_roles_are_checked(client: TestClient) -> None:
    csrf = login(client, "sam")
    bad = client.post("/schedules", data={"csrf": csrf, "name": "nightly", "run.tier": "1",
                                          "cadence": "daily", "at": "25:00"})
    assert bad.status_code == 422 and "is not HH:MM" in bad.text
    assert 'value="nightly"' in bad.text and 'value="25:00"' in bad.text
    none = client.post("/schedules", data={"csrf": csrf, "name": "nightly", "cadence": "daily",
                                           "at": "01:00"})
    assert none.status_code == 422 and "at least one scheme" in none.text
    assert client.post("/schedules", data={"name": "x"}).status_code == 403  # no CSRF token
    manager = TestClient(client.app, follow_redirects=False)
    other = login(manager, "max")
    assert manager.get("/schedules").status_code == 403
    assert manager.post("/schedules", data={"csrf": other, "name": "x", "run.tier": "1",
                                            "cadence": "daily", "at": "01:00"}
                        ).status_code == 403


def test_the_page_shows_how_the_last_run_ended(client: TestClient, months: Path) -> None:
    login(client, "sam")
    project = Project.open(months)
    store = runs.open_store(project)
    schedule_service.add(store, project, "month-end", schedule_service.Settings(["tier"]),
                         actor="sam", now=datetime(2026, 5, 15, tzinfo=UTC))
    orders = months / "orders.csv"
    orders.write_text(orders.read_text(encoding="utf-8") + "X1,C1,2026-06-20,lots\n",
                      encoding="utf-8")
    schedule_service.run_due(project, store, now=datetime(2026, 7, 1, 2, tzinfo=UTC))
    store.close()
    row = _row(client.get("/schedules").text, "month-end")
    assert "failed" in row and "as of Jun 30, 2026" in row and "lots" in row
    assert hidden(client.get("/schedules").text)
