"""Pages with nothing to show say what to do next, and for whom: create a scheme (someone who may
edit) or ask a supervisor (everyone else); run a scheme that has no run; clear a search that
matches no one; the approvals and audit pages when nothing waits or was recorded."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.web.clients import dashboard, login
from tierwise.services import runs, versions
from tierwise.services.grading import Project

pytestmark = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
EMPTY = re.compile(r'<div class="card tw-empty[^"]*">(.*?)</div>\s*</div>', re.S)


@pytest.fixture
def fresh(months: Path) -> Iterator[TestClient]:
    """The months project with users and nothing graded yet."""
    with dashboard(months, {"sam": "supervisor", "max": "manager", "aud": "auditor"}) as client:
        yield client


def _empty(html: str) -> str:
    found = EMPTY.findall(html)
    assert found, "no empty state on the page"
    return " ".join(found)


@pytest.fixture
def bare(months: Path) -> Iterator[TestClient]:
    """A project whose tierwise.yaml declares no scheme, with an empty store."""
    yaml = months / "tierwise.yaml"
    text = yaml.read_text(encoding="utf-8")
    yaml.write_text(text[:text.index("schemes:")] + "schemes: {}\n", encoding="utf-8")
    with dashboard(months, {"sam": "supervisor", "max": "manager"}) as client:
        yield client


def test_no_scheme_offers_to_create_one_or_to_ask(bare: TestClient) -> None:
    fresh = bare
    login(fresh, "sam")
    for path in ("/overview", "/customers"):
        shown = _empty(fresh.get(path).text)
        assert 'href="/new-scheme"' in shown and "Create your first scheme" in shown, path
        assert "<code>tierwise run --all</code>" in shown
    assert fresh.get("/new-scheme").status_code == 200  # the link leads to the form
    fresh.cookies.clear()
    login(fresh, "max")
    shown = _empty(fresh.get("/overview").text)
    assert "Ask a supervisor or an administrator" in shown and "/new-scheme" not in shown
    zh = _empty(fresh.get("/overview", params={"lang": "zh-Hans"}).text)
    assert "请联系主管或管理员创建方案" in zh


def test_a_fresh_project_offers_to_run_its_schemes(fresh: TestClient) -> None:
    """tierwise.yaml's schemes show on a fresh project, by title, with nothing run yet."""
    login(fresh, "sam")
    for path in ("/overview", "/customers"):
        page = fresh.get(path).text
        assert "No scheme yet" not in page, path
        assert '<option value="tier" selected>' in page, path
    for path in ("/overview", "/customers"):
        shown = _empty(fresh.get(path).text)
        assert "No results for tier yet" in shown and 'href="/runs?scheme=tier"' in shown, path


def test_a_scheme_without_a_run_offers_to_run_it(fresh: TestClient, months: Path) -> None:
    project = Project.open(months)
    store = runs.open_store(project)
    versions.save(store, project, "tier", actor="setup")  # saved and active, never run
    store.close()
    login(fresh, "sam")
    shown = _empty(fresh.get("/overview", params={"scheme": "tier"}).text)
    assert "No results for tier yet" in shown and 'href="/runs?scheme=tier"' in shown
    offered = fresh.get("/runs", params={"scheme": "tier"})  # the Run now form, tier ticked
    assert offered.status_code == 200
    assert re.search(r'name="run\.tier" value="1" checked', offered.text)


def test_empty_search_approvals_and_access_log(fresh: TestClient, months: Path) -> None:
    project = Project.open(months)
    runs.backfill(project, ["tier"], [project.spec.as_of])
    login(fresh, "aud")  # before anyone read a customer: the access log is empty
    audit = fresh.get("/audit").text
    assert "No reads recorded." in _empty(audit.split("Access log", 1)[1])
    assert "Nothing recorded yet." not in audit  # the users' creation is recorded
    fresh.cookies.clear()
    login(fresh, "sam")
    nobody = _empty(fresh.get("/customers", params={"scheme": "tier", "q": "NOBODY"}).text)
    assert "No customer matches the search." in nobody
    assert 'href="/customers?scheme=tier"' in nobody and "Clear the filters" in nobody
    approvals = _empty(fresh.get("/approvals").text)
    assert "No override waits for a decision." in approvals and 'href="/customers"' in approvals


def test_run_now_on_a_fresh_project_lists_its_schemes(fresh: TestClient) -> None:
    """The schemes of tierwise.yaml, never run nor saved in the store, can be run at once."""
    login(fresh, "sam")
    page = fresh.get("/runs")
    assert page.status_code == 200, page.text
    assert 'name="run.tier"' in page.text and "(not graded yet)" in page.text
