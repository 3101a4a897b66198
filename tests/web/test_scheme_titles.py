"""Pages call a scheme by its title (key beside it where useful), not by its key alone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.web.clients import dashboard, login
from tierwise.services import runs, scheme_admin
from tierwise.services.grading import Project

pytestmark = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
TITLE = "Order frequency"


@pytest.fixture
def client(months: Path) -> Iterator[TestClient]:
    project = Project.open(months)
    runs.backfill(project, ["tier", "steady"], [date(2026, 6, 30)])
    store = runs.open_store(project)
    scheme_admin.rename(store, "tier", TITLE, actor="setup")
    store.close()
    with dashboard(months, {"sam": "supervisor"}, scheduler=False) as test_client:
        yield test_client


def _option(page: str, key: str) -> str:
    found = re.search(rf'<option value="{key}"[^>]*>([^<]*)</option>', page)
    assert found, f"no option {key}"
    return found.group(1)


def test_menus_and_headings_show_the_title(client: TestClient) -> None:
    login(client, "sam")
    for path in ("/overview?scheme=tier", "/customers?scheme=tier"):
        page = client.get(path).text
        assert _option(page, "tier") == TITLE and _option(page, "steady") == "steady", path
    profile = client.get("/customers/C1", params={"scheme": "tier"}).text
    assert f'<h3 class="h6 mb-0">{TITLE} <code class="small">tier</code></h3>' in profile
    assert f"Scheme {TITLE} · as of" in profile
    assert '<h3 class="h6 mb-0">steady</h3>' in profile  # no title: the key alone
    for path, label in (("/runs", "run-"), ("/schedules", "schedule-scheme-")):
        page = client.get(path).text
        assert re.search(rf'for="{label}\d+">{TITLE} <code class="small">tier</code>', page), path
    document = client.get("/schemes/tier/document").text
    assert f"Back to scheme {TITLE}</a>" in document
