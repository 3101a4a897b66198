"""Every form of the dashboard answers an error in a danger alert and keeps what was typed.

Login, approving or rejecting an override, revoking one, checking and saving a scheme edit: an
error shows in a red ``alert-danger`` box with ``role="alert"`` (never a green one), and the form
comes back with the user's input. The navigation counts the approvals that wait for the user.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.web.clients import ROLES, dashboard, hidden, login
from tests.web.test_pages import _override
from tierwise.services import runs
from tierwise.services.grading import Project

# The pages render the same on either store; the count's query is tested on both in
# tests/services/test_pending_count.py.
pytestmark = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)


@pytest.fixture
def client(months: Path) -> Iterator[TestClient]:
    project = Project.open(months)
    runs.backfill(project, ["tier", "steady"], [date(2026, 6, 30)])
    with dashboard(months, ROLES, {"max": ["C1", "C2"]}) as test_client:
        yield test_client


DANGER = re.compile(r'<div class="alert alert-danger[^"]*" role="alert">(.*?)</div>', re.S)


def _danger(html: str) -> str:
    """The text of the page's danger alerts; fails when there is none."""
    found = DANGER.findall(html)
    assert found, "no danger alert on the page"
    assert 'class="alert alert-success' not in html
    return " ".join(found)


def test_failed_login_keeps_the_user_name_in_a_danger_alert(client: TestClient) -> None:
    form = client.get("/login")
    assert 'for="login-username"' in form.text and 'id="login-username"' in form.text
    bad = client.post("/login", data={"username": "sam", "password": "wrong horse",
                                      "csrf": hidden(form.text)})
    assert bad.status_code == 403
    assert "Login failed" in _danger(bad.text)
    assert re.search(r'name="username" value="sam"', bad.text)
    assert "wrong horse" not in bad.text  # never the password


def test_refused_decision_keeps_the_note_in_a_danger_alert(client: TestClient) -> None:
    csrf = login(client, "sam")
    override_id = _override(client, csrf)
    client.cookies.clear()
    csrf = login(client, "sue")
    page = client.get("/approvals")
    assert f'<label class="visually-hidden" for="note-{override_id}">' in page.text
    stale = client.post(f"/approvals/{override_id}",
                        data={"csrf": csrf, "action": "reject", "revision": "7",
                              "note": "call the customer <first>"})
    assert stale.status_code == 409
    assert "changed since you read it" in _danger(stale.text)
    # The note typed for that override is back in its field (escaped), its row marked.
    assert (f'id="note-{override_id}" name="note" value="call the customer &lt;first&gt;"'
            in stale.text)
    assert 'class="table-danger"' in stale.text


def test_revoke_refused_in_a_danger_alert(client: TestClient) -> None:
    csrf = login(client, "max")
    override_id = _override(client, csrf)
    stale = client.post(f"/customers/C1/overrides/{override_id}/revoke",
                        data={"csrf": csrf, "scheme": "steady", "revision": "9"})
    assert stale.status_code == 409 and "changed since you read it" in _danger(stale.text)
    bad = client.post(f"/customers/C1/overrides/{override_id}/revoke",
                      data={"csrf": csrf, "scheme": "steady", "revision": "x"})
    assert bad.status_code == 400 and "Nothing was changed" in _danger(bad.text)


def test_editor_check_and_save_errors_in_a_danger_alert(client: TestClient) -> None:
    csrf = login(client, "sam")
    fields = {"csrf": csrf, "source": "1", "base": "1", "tiers[0].when": "orders_3m >>> 3",
              "action": "check"}
    checked = client.post("/schemes/tier", data=fields)
    assert checked.status_code == 422 and "tiers[0].when" in _danger(checked.text)
    assert ">orders_3m &gt;&gt;&gt; 3</textarea>" in checked.text  # the expression box keeps it
    # Saving from an older version than the latest is a conflict, the edit kept.
    stale = client.post("/schemes/tier", data={**fields, "tiers[0].when": "orders_3m >= 5",
                                                "base": "0", "action": "save"})
    assert stale.status_code == 409 and "meanwhile" in _danger(stale.text)
    assert ">orders_3m &gt;= 5</textarea>" in stale.text


def test_a_refused_search_keeps_the_condition_in_a_danger_alert(client: TestClient) -> None:
    login(client, "sam")
    page = client.get("/customers", params={"scheme": "tier", "where": "orders_3m >>> 1"})
    assert page.status_code == 422 and "Not done" in _danger(page.text)
    assert 'value="orders_3m &gt;&gt;&gt; 1"' in page.text


def _badge(html: str) -> str | None:
    found = re.search(r'href="/approvals"[^>]*>[^<]*<span class="badge[^"]*"[^>]*>'
                      r'<span aria-hidden="true">(\d+)</span>'
                      r'<span class="visually-hidden">([^<]*)</span>', html)
    return f"{found.group(1)}|{found.group(2)}" if found else None


def test_navigation_counts_the_approvals_waiting(client: TestClient) -> None:
    csrf = login(client, "max")
    assert _badge(client.get("/overview").text) is None
    _override(client, csrf)  # C1 is max's customer
    assert _badge(client.get("/overview").text) == "1|1 override waits for a decision"
    client.cookies.clear()
    login(client, "sue")
    assert _badge(client.get("/approvals").text) == "1|1 override waits for a decision"
    zh = client.get("/overview", params={"lang": "zh-Hans"})
    assert _badge(zh.text) is not None and "1" in zh.text
    client.cookies.clear()
    login(client, "aud")
    assert _badge(client.get("/approvals").text) == "1|1 override waits for a decision"


def test_empty_approvals_name_the_next_step(client: TestClient) -> None:
    login(client, "sue")
    page = client.get("/approvals")
    assert "No override waits for a decision." in page.text
    assert 'href="/customers"' in page.text.split("No override waits", 1)[1]
    assert 'aria-current="page"' in page.text.split('href="/approvals"', 1)[1][:40]
