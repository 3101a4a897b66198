"""Run now from the dashboard: the form, the job page and its JSON, results, errors, roles.

The months project (tests/services/conftest.py) graded on 2026-05-31 and 2026-06-30; as of
2026-06-30 C1 has 3 orders in 3 months (gold), C2, C3, C4 and C5 none (bronze).
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.web.clients import dashboard, login
from tierwise.services import audit_trail, runs
from tierwise.services import versions as version_service
from tierwise.services.grading import Project


@pytest.fixture
def client(months: Path) -> Iterator[TestClient]:
    project = Project.open(months)
    runs.backfill(project, ["tier", "steady"], [date(2026, 5, 31), date(2026, 6, 30)])
    roles = {"sam": "supervisor", "max": "manager", "aud": "auditor"}
    with dashboard(months, roles) as test_client:
        yield test_client


def _finished(client: TestClient, location: str) -> dict[str, Any]:
    """The job's JSON once it has ended."""
    for _ in range(240):
        status = client.get(f"{location}/status")
        assert status.status_code == 200, status.text
        job = status.json()
        if job["finished"]:
            return job
        time.sleep(0.25)
    raise AssertionError(f"the job did not end: {job}")


def _start(client: TestClient, csrf: str, **fields: str) -> str:
    started = client.post("/runs", data={"csrf": csrf, **fields})
    assert started.status_code == 303, started.text
    location = started.headers["location"]
    assert location.startswith("/runs/jobs/")
    return location


def test_run_now_then_skipped_then_forced(client: TestClient, months: Path) -> None:
    csrf = login(client, "sam")
    page = client.get("/runs")
    assert page.status_code == 200
    # The schemes as checkboxes, the project's as-of date filled in, force explained.
    assert 'name="run.tier"' in page.text and 'name="run.steady"' in page.text
    assert 'value="2026-06-30"' in page.text
    assert "(latest graded date: Jun 30, 2026)" in page.text
    assert "Without this, a scheme whose date was already graded is skipped" in page.text

    location = _start(client, csrf, **{"run.tier": "1", "as_of": "2026-07-31"})
    job = _finished(client, location)
    assert job["state"] == "done" and job["steps"], job
    [result] = job["runs"]
    assert (result["scheme"], result["status"], result["as_of"]) == ("tier", "done",
                                                                     "2026-07-31")
    # As of 2026-07-31: C1 ordered in May and June only (2 in 3 months) -> silver.
    assert {t["tier"]: t["customers"] for t in result["tiers"] if t["customers"]} == {
        "silver": 1, "bronze": 4}
    assert "tier graded as of Jul 31, 2026: 5 customers" in job["html"]
    shown = client.get(location)
    assert shown.status_code == 200 and 'data-finished="1"' in shown.text
    assert '<script src="/static/js/job.js" defer></script>' in shown.text
    assert "/overview?scheme=tier" in shown.text

    again = _finished(client, _start(client, csrf, **{"run.tier": "1",
                                                      "as_of": "2026-07-31"}))
    assert again["runs"][0]["status"] == "skipped"
    assert "was already graded as of Jul 31, 2026" in again["html"]
    # The button to grade the date again posts force=1 for that date and scheme.
    assert 'name="force" value="1"' in again["html"]
    assert 'name="as_of" value="2026-07-31"' in again["html"]
    forced = _finished(client, _start(client, csrf, **{"run.tier": "1", "as_of": "2026-07-31",
                                                       "force": "1"}))
    assert forced["runs"][0]["status"] == "done"
    assert forced["runs"][0]["run_id"] != job["runs"][0]["run_id"]

    # Who started what is in the audit log, and the jobs are listed on the Run now page.
    store = runs.open_store(Project.open(months))
    started = [e for e in audit_trail.events(store, object_type="job")]
    store.close()
    assert len(started) == 3 and {e.actor for e in started} == {"sam"}
    assert started[0].action == "job.started" and "2026-07-31" in str(started[0].after)
    listing = client.get("/runs").text
    assert location in listing


def test_forced_rerun_after_activation_changes_the_grades(client: TestClient,
                                                          months: Path) -> None:
    csrf = login(client, "sam")
    project = Project.open(months)
    store = runs.open_store(project)
    spec = version_service.listing(store, "tier")[0][0].spec
    spec["tiers"][0]["when"] = "orders_3m >= 4"  # nobody has 4 orders in 3 months
    version_service.save_edit(store, project, "tier", spec, actor="sam", base=1)
    store.close()
    done = client.post("/schemes/tier/activate", data={"csrf": csrf, "version": "2"})
    assert done.headers["location"] == "/runs?scheme=tier&activated=2"
    page = client.get(done.headers["location"]).text
    offer = re.search(r'<div class="alert alert-info"[^>]*id="after-activation">(.*?)</div>',
                      page, re.S)
    assert offer, page
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', offer.group(1)))
    assert fields == {"csrf": csrf, "run.tier": "1", "as_of": "2026-06-30", "force": "1"}
    job = _finished(client, _start(client, csrf, **{k: html.unescape(v)
                                                    for k, v in fields.items()
                                                    if k != "csrf"}))
    [result] = job["runs"]
    assert result["status"] == "done"
    # Version 1 gave C1 gold (3 orders); version 2 needs 4, so C1 falls to silver.
    counts = {t["tier"]: t["customers"] for t in result["tiers"] if t["customers"]}
    assert counts == {"silver": 1, "bronze": 4}
    overview = client.get("/overview", params={"scheme": "tier"}).text
    assert "version 2" in overview


def test_a_failed_run_says_why_in_the_users_language(client: TestClient, months: Path) -> None:
    csrf = login(client, "sam")
    orders = months / "orders.csv"
    orders.write_text(orders.read_text(encoding="utf-8") + "X1,C1,2026-06-20,lots\n",
                      encoding="utf-8")
    client.cookies.set("tw_lang", "zh-Hans")
    job = _finished(client, _start(client, csrf, **{"run.tier": "1", "run.steady": "1",
                                                    "as_of": "2026-07-31"}))
    assert job["state"] == "failed"
    assert [r["status"] for r in job["runs"]] == ["failed", "failed"]
    assert 'class="alert alert-danger message error" role="alert"' in job["html"]
    assert "lots" in job["error"] and "不是" in job["error"], job["error"]
    assert "失败" in job["html"]


def test_bad_input_keeps_the_form_and_roles_are_checked(client: TestClient) -> None:
    csrf = login(client, "sam")
    nothing = client.post("/runs", data={"csrf": csrf, "as_of": "2026-06-30"})
    assert nothing.status_code == 422 and "Tick at least one scheme to run." in nothing.text
    assert 'class="alert alert-danger message error"' in nothing.text
    bad = client.post("/runs", data={"csrf": csrf, "run.tier": "1", "as_of": "30.6.2026"})
    assert bad.status_code == 422 and "is not a date" in bad.text
    assert 'name="run.tier" value="1" checked' in bad.text and 'value="30.6.2026"' in bad.text
    unknown = client.post("/runs", data={"csrf": csrf, "run.nope": "1"})
    assert unknown.status_code == 404
    assert client.post("/runs", data={"run.tier": "1"}).status_code == 403  # no CSRF token
    assert client.get("/runs/jobs/nope").status_code == 404
    assert client.get("/runs/jobs/nope/status").status_code == 404
    for user in ("max", "aud"):
        other = TestClient(client.app, follow_redirects=False)
        other_csrf = login(other, user)
        assert other.get("/runs").status_code == 403
        assert other.post("/runs", data={"csrf": other_csrf, "run.tier": "1"}).status_code == 403


@pytest.mark.parametrize("lang", ["zh-Hans", "zh-Hant"])
def test_job_and_schedule_pages_in_chinese(client: TestClient, months: Path, lang: str) -> None:
    from tests.web.test_languages import Typed, check_page
    from tierwise.services import schedules as schedule_service

    client.cookies.set("tw_lang", lang)
    csrf = login(client, "sam")
    typed = Typed(names={"sam", "tier", "steady", "gold", "silver", "bronze", "Gold", "Silver",
                         "Bronze"})
    problems: list[str] = []
    for attempt in ("done", "skipped"):
        location = _start(client, csrf, **{"run.tier": "1", "run.steady": "1",
                                           "as_of": "2026-07-31"})
        job = _finished(client, location)
        assert [r["status"] for r in job["runs"]] == [attempt, attempt]
        problems += check_page(client.get(location).text, typed, f"{attempt} job")
    project = Project.open(months)
    store = runs.open_store(project)
    schedule_service.add(store, project, "month-end", schedule_service.Settings(["tier"]),
                         actor="sam")
    store.close()
    problems += check_page(client.get("/schedules").text, typed, "schedules")
    problems += check_page(client.get("/runs").text, typed, "runs")
    assert not problems, "\n".join(problems)
