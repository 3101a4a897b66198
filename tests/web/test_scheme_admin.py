"""The scheme list and its forms on the real app: create, duplicate, rename, retire, restore."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.web import test_editor
from tests.web.clients import dashboard, login

client = test_editor.client  # the months project, two runs, supervisors sam and sue, manager max


def _danger(text: str) -> str:
    found = re.search(r'<div class="alert alert-danger" role="alert">(.*?)</div>', text, re.S)
    assert found, "no danger alert in the page"
    return html.unescape(found.group(1))


def _value(text: str, field: str) -> str:
    found = re.search(rf'name="{field}" value="([^"]*)"', text)
    assert found, f"no {field} field"
    return html.unescape(found.group(1))


def test_the_list_shows_each_scheme_with_its_facts_and_actions(client: TestClient) -> None:
    login(client, "sam")
    page = client.get("/schemes")
    assert page.status_code == 200
    row = re.search(r"<tr>\s*<td><a href=\"/schemes/tier\">.*?</tr>", page.text, re.S)
    assert row, page.text
    cells = [html.unescape(re.sub(r"<[^>]+>", " ", c)).split()
             for c in re.findall(r"<td[^>]*>(.*?)</td>", row.group(0), re.S)]
    assert cells[1] == ["rules"] and cells[2] == ["1"] and cells[4] == ["3"]
    assert "2026" in " ".join(cells[3])
    assert 'href="/new-scheme"' in page.text
    assert 'action="/schemes/tier/retire"' in page.text
    assert 'href="/schemes/tier/manage#duplicate"' in page.text


def test_a_manager_reads_the_list_without_actions(client: TestClient) -> None:
    login(client, "max")
    page = client.get("/schemes")
    assert page.status_code == 200 and 'href="/schemes/tier"' in page.text
    assert "/new-scheme" not in page.text and "/retire" not in page.text
    assert client.get("/new-scheme").status_code == 403


def test_create_from_a_template_then_edit_it(client: TestClient) -> None:
    csrf = login(client, "sam")
    form = client.get("/new-scheme")
    assert form.status_code == 200 and 'value="retail_value"' in form.text
    # The months project lacks the retail indicators: the page says which to add.
    assert "spend_12m" in form.text and "agg: sum" in form.text
    done = client.post("/new-scheme", data={"csrf": csrf, "name": "shop", "title": "Shop",
                                            "template": "blank"})
    assert done.status_code == 303 and done.headers["location"] == "/schemes/shop?created=1"
    editor = client.get(done.headers["location"])
    assert editor.status_code == 200 and 'name="tiers[0].label.en"' in editor.text
    assert "<h1>Scheme Shop <code" in editor.text and "tierwise run shop" in editor.text
    listing = client.get("/schemes").text
    assert "Shop" in listing and "dashboard only" in listing


@pytest.mark.parametrize("name", ["1bad", "a/b", "x" * 65, ""])
def test_an_invalid_key_keeps_what_was_typed(client: TestClient, name: str) -> None:
    csrf = login(client, "sam")
    page = client.post("/new-scheme", data={"csrf": csrf, "name": name, "title": "Mine 我的",
                                            "template": "blank"})
    assert page.status_code == 422
    assert "scheme name" in _danger(page.text)
    assert _value(page.text, "name") == name and _value(page.text, "title") == "Mine 我的"
    assert 'alert-success' not in page.text


def test_taken_keys_and_unfit_templates_are_refused_in_a_danger_alert(client: TestClient
                                                                       ) -> None:
    csrf = login(client, "sam")
    taken = client.post("/new-scheme", data={"csrf": csrf, "name": "tier", "template": "blank"})
    assert taken.status_code == 409 and "tierwise.yaml" in _danger(taken.text)
    unfit = client.post("/new-scheme", data={"csrf": csrf, "name": "abc1", "template": "abc"})
    assert unfit.status_code == 422 and "spend_12m" in _danger(unfit.text)
    assert 'id="template-abc" value="abc" checked' in unfit.text


def test_duplicate_and_rename(client: TestClient) -> None:
    csrf = login(client, "sam")
    manage = client.get("/schemes/tier/manage")
    assert manage.status_code == 200 and "runs and history reference it" in manage.text
    bad = client.post("/schemes/tier/duplicate", data={"csrf": csrf, "new_name": "no way",
                                                       "title": "Copy"})
    assert bad.status_code == 422 and "scheme name" in _danger(bad.text)
    assert _value(bad.text, "new_name") == "no way"
    done = client.post("/schemes/tier/duplicate", data={"csrf": csrf, "new_name": "tier_copy",
                                                        "title": "Copy of tier"})
    assert done.status_code == 303 and done.headers["location"] == "/schemes/tier_copy?created=1"
    assert "Copy of tier" in client.get("/schemes").text
    renamed = client.post("/schemes/tier/rename", data={"csrf": csrf, "title": "Monthly tiers"})
    assert renamed.status_code == 303
    assert "Monthly tiers" in client.get(renamed.headers["location"]).text
    assert "Monthly tiers" in client.get("/schemes").text
    long = client.post("/schemes/tier/rename", data={"csrf": csrf, "title": "y" * 201})
    assert long.status_code == 422 and "200" in _danger(long.text)


def test_retire_hides_and_restore_shows_again(client: TestClient) -> None:
    csrf = login(client, "sam")
    done = client.post("/schemes/steady/retire", data={"csrf": csrf, "action": "retire"})
    assert done.status_code == 303
    shown = client.get(done.headers["location"])  # the list with the retired schemes
    assert "retired" in shown.text and 'value="restore"' in shown.text
    assert 'href="/schemes/steady"' not in client.get("/schemes").text
    overview = client.get("/overview").text
    assert 'value="steady"' not in overview and "?scheme=steady" not in overview
    assert client.get("/schemes/steady").status_code == 200  # still readable
    back = client.post("/schemes/steady/retire", data={"csrf": csrf, "action": "restore"})
    assert back.status_code == 303
    assert 'href="/schemes/steady"' in client.get("/schemes").text


def test_forms_need_the_role_and_the_token(client: TestClient) -> None:
    csrf = login(client, "max")
    for url in ("/schemes/tier/retire", "/schemes/tier/rename", "/schemes/tier/duplicate",
                "/new-scheme"):
        refused = client.post(url, data={"csrf": csrf, "new_name": "z", "name": "z",
                                         "title": "z", "action": "retire"})
        assert refused.status_code == 403, url
    login(client, "sam")
    assert client.post("/schemes/tier/retire", data={"action": "retire"}).status_code == 403
    assert client.post("/schemes/nope/retire",
                       data={"csrf": login(client, "sam"), "action": "retire"}
                       ).status_code == 404


@pytest.fixture
def empty(months: Path) -> Iterator[TestClient]:
    with dashboard(months, {"sam": "supervisor"}) as test_client:
        yield test_client


def test_an_empty_store_lists_the_schemes_of_the_file(empty: TestClient) -> None:
    """Nothing saved nor run: tierwise.yaml's schemes are listed, each offered a run."""
    login(empty, "sam")
    page = empty.get("/schemes")
    assert page.status_code == 200 and 'href="/new-scheme"' in page.text
    row = re.search(r"<tr>\s*<td>tier.*?</tr>", page.text, re.S)
    assert row, page.text
    assert "in tierwise.yaml, saved on its first run" in row.group(0)
    assert 'href="/runs?scheme=tier"' in row.group(0) and "not run yet" in row.group(0)
    assert 'href="/schemes/tier"' not in row.group(0)  # nothing to edit until it is saved
    zh = empty.get("/schemes", params={"lang": "zh"})
    assert "新建方案" in zh.text and "首次运行时保存" in zh.text
